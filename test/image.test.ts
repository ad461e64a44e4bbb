/**
 * The controller image built without Docker (scripts/build-image.mjs) is deploy/Dockerfile's
 * final stage carried out on the working tree: the same entrypoint, user, workdir, ports and
 * files, from the Dockerfile itself (an instruction the script does not understand fails the
 * build instead of being skipped), and it runs: its node finds every library it links.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './cli-helpers.js';
// @ts-expect-error plain ESM script without types
import { buildControllerImage, manifestImage, parseDockerfile, productionPackages } from '../scripts/build-image.mjs';

const ROOT = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
let dir: string;
let rootfs: string;
let config: { config: Record<string, unknown> };
let manifest: { RepoTags: string[]; Config: string; Layers: string[] }[];

beforeAll(() => {
  dir = tempDir();
  const out = join(dir, 'image.tar');
  buildControllerImage({ out });
  const unpacked = join(dir, 'archive');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xf', out, '-C', unpacked]);
  manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8'));
  config = JSON.parse(readFileSync(join(unpacked, manifest[0]!.Config), 'utf8'));
  rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  execFileSync('tar', ['-xf', join(unpacked, manifest[0]!.Layers[0]!), '-C', rootfs]);
}, 180_000);

describe('the image of deploy/Dockerfile, built without Docker', () => {
  it('is tagged as the manifests run it, with the final stage entrypoint, user, workdir and ports', () => {
    expect(manifest[0]!.RepoTags).toEqual([manifestImage()]);
    expect(manifestImage()).toMatch(/^sealed-secrets-ts\/controller:\d/);
    const spec = parseDockerfile(dockerfile);
    const c = config.config;
    expect(c['Entrypoint']).toEqual(spec.entrypoint);
    expect(c['Entrypoint']).toEqual(JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!));
    expect(c['User']).toBe(/^USER (\S+)$/m.exec(dockerfile)![1]);
    expect(c['User']).toBe('1001');
    expect(c['WorkingDir']).toBe('/app');
    expect(Object.keys(c['ExposedPorts'] as object).sort()).toEqual(['8080/tcp', '8081/tcp']);
    expect((c['Labels'] as Record<string, string>)['org.opencontainers.image.version']).toBe(manifestImage().split(':')[1]);
  });

  it('holds what the COPY instructions name, from the working tree, and only production dependencies', () => {
    for (const f of ['sealed-secrets-controller.cjs', 'unseal-worker.cjs', 'sealed-secrets-keys.cjs']) {
      expect(readFileSync(join(rootfs, 'app/dist', f)).equals(readFileSync(join(ROOT, 'dist', f))), f).toBe(true);
    }
    expect(() => statSync(join(rootfs, 'app/dist/kubeseal.cjs'))).toThrow();
    expect(readFileSync(join(rootfs, 'app/package.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const dep of ['piscina', 'prom-client', 'node-forge', 'node-vault']) expect(statSync(join(rootfs, 'app/node_modules', dep, 'package.json')).isFile()).toBe(true);
    for (const dev of ['vitest', 'typescript', 'esbuild', '@kubernetes/client-node', 'yaml']) expect(() => statSync(join(rootfs, 'app/node_modules', dev))).toThrow();
    expect(productionPackages().length).toBeGreaterThan(4);
    expect(statSync(join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  it('runs: the entrypoint starts in the image alone (chroot), on the Node line of the image', () => {
    const run = (args: string[]) => execFileSync('/usr/sbin/chroot', ['--userspec=1001:1001', rootfs, ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    expect(run(['/nodejs/bin/node', '--version']).trim()).toMatch(/^v26\./);
    // The entrypoint, with its relative script resolved from the image's WORKDIR (/app).
    const [node, script] = config.config['Entrypoint'] as string[];
    const help = run([node!, join(config.config['WorkingDir'] as string, script!), '--help']);
    expect(help).toContain('--key-renew-period');
  });

  it('refuses a final stage it cannot carry out, naming the instruction', () => {
    expect(() => parseDockerfile(`${dockerfile}\nRUN rm -rf /app/node_modules\n`)).toThrow(/instruction RUN in the final stage is not carried out/);
    expect(() => parseDockerfile(`${dockerfile}\nCOPY --chown=1:1 a /b\n`)).toThrow(/COPY option --chown=1:1 is not supported/);
    expect(() => parseDockerfile(dockerfile.replace(/ENTRYPOINT \[.*\]/, 'ENTRYPOINT /nodejs/bin/node x'))).toThrow(/exec \(JSON\) form/);
  });
});
