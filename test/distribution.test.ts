/**
 * How the project reaches users, checked on every Node line the tests run on
 * (scripts/test-runtimes.mjs): no runtime warnings from the built binaries, the npm
 * tarball installed into a throw-away prefix, the release manifests equal to a fresh
 * render of deploy/base, and the Dockerfile agreeing with the package.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  private?: boolean;
  bin: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const nodeLines = JSON.parse(
  execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('./scripts/node-lines.mjs'); console.log(JSON.stringify({ LINES: m.LINES, IMAGE_LINE: m.IMAGE_LINE }))"], { cwd: ROOT, encoding: 'utf8' }),
) as { LINES: Record<string, string>; IMAGE_LINE: number };
const cert = (JSON.parse(readFileSync(join(ROOT, 'test/vectors/bitnami/keys.json'), 'utf8')) as { cases: { certPem: string }[] }).cases[0]!.certPem;
const secretYaml = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: hunter2-distribution}\n';
const major = Number(process.versions.node.split('.')[0]);

function run(cmd: string, args: string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { input: opts.input ?? '', cwd: opts.cwd ?? tmpdir(), env: opts.env ?? { PATH: process.env['PATH'] ?? '', HOME: tmpdir() }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe(`no runtime warnings on Node ${process.versions.node}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ss-warnings-'));
  writeFileSync(join(dir, 'cert.pem'), cert);
  const bin = (name: string) => join(ROOT, pkg.bin[name]!);

  it('sealed-secrets-controller --help and sealed-secrets-keys --help print nothing on stderr', () => {
    for (const name of ['sealed-secrets-controller', 'sealed-secrets-keys']) {
      const r = run(process.execPath, [bin(name), '--help'], { cwd: dir });
      expect(r.stderr, name).toBe('');
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain('--kubeconfig');
    }
  });

  it('kubeseal seals offline and prints nothing on stderr', () => {
    const r = run(process.execPath, [bin('kubeseal'), '--cert', 'cert.pem'], { cwd: dir, input: secretYaml });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kind: SealedSecret');
  });

  it('no bundle requires the deprecated built-in punycode (it warns, DEP0040, from Node 21 on)', () => {
    // The control: on this line, is requiring the built-in really a warning? Then a clean stderr above means something.
    const control = run(process.execPath, ['-e', "require('punycode')"]);
    if (major >= 21) expect(control.stderr).toContain('DEP0040');
    for (const f of readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.cjs'))) {
      expect(readFileSync(join(ROOT, 'dist', f), 'utf8'), f).not.toMatch(/require\(["']punycode["']\)/);
    }
  });
});

describe('the npm package', () => {
  let work: string;
  let tarball: string;
  let prefix: string;
  let listed: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ss-npm-'));
    // --ignore-scripts: dist/ is built by `npm test` (prepare would rebuild it under the other tests' feet).
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, packed[0]!.filename);
    listed = packed[0]!.files.map((f) => f.path).sort();
    prefix = join(work, 'prefix');
    // A throw-away global prefix, as a user installs the release tarball; runtime dependencies
    // come from npm's cache when it has them, else from the registry.
    execFileSync('npm', ['install', '-g', tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: work,
      env: { ...process.env, npm_config_global: undefined, npm_config_prefix: undefined },
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 5 * 60_000,
    });
  }, 6 * 60_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('contains only the binaries, their Kubernetes client and worker, the README and package.json: no sources, no source maps', () => {
    expect(listed).toEqual([...pkg.files, 'README.md', 'package.json'].sort());
    expect(listed.filter((f) => f.endsWith('.map') || f.endsWith('.ts'))).toEqual([]);
    expect(pkg.files.filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });

  it('every module the shipped bundles require at run time is a built-in, a runtime dependency, or an optional one in a try', () => {
    // encoding (node-fetch) and supports-color (debug) are optional: required inside try/catch.
    const optional = ['encoding', 'supports-color'];
    const needed = new Set<string>();
    for (const f of pkg.files) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/(?:require|import)\("([^"./][^"]*)"\)/g)) needed.add(m[1]!);
    }
    const external = [...needed].filter((m) => !m.startsWith('node:') && !builtinModules.includes(m) && !optional.includes(m)).sort();
    expect(external).toEqual(Object.keys(pkg.dependencies).sort());
  });

  it('installs into a clean prefix with no dev dependencies, and its bins work', () => {
    const installed = join(prefix, 'lib/node_modules/sealed-secrets-ts');
    expect(readdirSync(join(prefix, 'bin')).sort()).toEqual(Object.keys(pkg.bin).sort());
    const modules = readdirSync(join(installed, 'node_modules'));
    for (const dev of Object.keys(pkg.devDependencies)) expect(modules, dev).not.toContain(dev.split('/')[0]);
    for (const dep of Object.keys(pkg.dependencies)) expect(modules, dep).toContain(dep);

    const dir = mkdtempSync(join(work, 'user-'));
    writeFileSync(join(dir, 'cert.pem'), cert);
    // The installed bins start with `#!/usr/bin/env node`: this line's node first on PATH.
    const env = { PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir };
    const v = run('kubeseal', ['--version'], { cwd: dir, env });
    expect(v.stderr).toBe('');
    expect(v.stdout.trim()).toMatch(new RegExp(`^kubeseal version: ${pkg.version.replace(/\./g, '\\.')} \\(revision ([0-9a-f]{40}(-dirty)?|unknown)\\)$`));
    const s = run('kubeseal', ['--cert', 'cert.pem'], { cwd: dir, env, input: secretYaml });
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('kind: SealedSecret');
    expect(s.stdout).not.toContain('hunter2');
    for (const name of ['sealed-secrets-controller', 'sealed-secrets-keys']) {
      const h = run(name, ['--help'], { cwd: dir, env });
      expect(h.stderr, name).toBe('');
      expect(h.code, name).toBe(0);
      expect(h.stdout, name).toContain('--kubeconfig');
    }
    // kubeseal's cluster modes need no node_modules of their own: a token user, kubeseal's own HTTPS client.
    writeFileSync(join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\ncurrent-context: c\n');
    const f = run('kubeseal', ['--fetch-cert', '--kubeconfig', 'kubeconfig'], { cwd: dir, env });
    expect(f.stderr).toBe('error: cannot reach the API server https://127.0.0.1:9: ECONNREFUSED; check the kubeconfig and the network, or use --cert to seal offline\n');
    expect(f.code).toBe(1);
    // An exec credential plugin runs through the Kubernetes client, bundled beside kubeseal.
    writeFileSync(join(dir, 'kubeconfig-exec'), 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /nonexistent/plugin}}}]\ncurrent-context: c\n');
    const e = run('kubeseal', ['--fetch-cert', '--kubeconfig', 'kubeconfig-exec'], { cwd: dir, env });
    expect(e.stderr).toBe("error: the kubeconfig user's exec credential plugin failed: ENOENT; run the plugin by hand (kubectl get --raw /version shows the same failure), or pass --token\n");
    expect(e.code).toBe(1);
  });

  it('stays private: installed from the release tarball, not published (README, "Install")', () => {
    // Publishing needs an owner of the npm name and a documented publish step: see the README.
    expect(pkg.private).toBe(true);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').includes('npm install -g ./sealed-secrets-ts-'), 'the README says how to install the tarball').toBe(true);
  });
});

describe('the release manifests', () => {
  it('deploy/release/*.yaml equal a fresh render of deploy/base (re-render: npm run render-manifests)', () => {
    const r = run(process.execPath, [join(ROOT, 'scripts/render-release.mjs'), '--check'], { cwd: ROOT, env: process.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('controller.yaml has every object of deploy/base; controller-norbac.yaml the same but ServiceAccount and RBAC', () => {
    const kinds = (f: string) => parseAllDocuments(readFileSync(join(ROOT, 'deploy/release', f), 'utf8')).map((d) => `${(d.toJS() as { kind: string }).kind}/${(d.toJS() as { metadata: { name: string } }).metadata.name}`);
    const full = kinds('controller.yaml');
    const rbac = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
    for (const k of ['CustomResourceDefinition/sealedsecrets.bitnami.com', 'ServiceAccount/sealed-secrets-controller', 'ClusterRole/secrets-unsealer', 'Service/sealed-secrets-controller', 'Deployment/sealed-secrets-controller']) {
      expect(full).toContain(k);
    }
    expect(kinds('controller-norbac.yaml')).toEqual(full.filter((k) => !rbac.includes(k.split('/')[0]!)));
    expect(kinds('controller-norbac.yaml')).toContain('Deployment/sealed-secrets-controller');
  });
});

describe('deploy/Dockerfile agrees with the package', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
  const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)`, 'm').exec(dockerfile)?.[1];

  it(`both stages run Node ${nodeLines.IMAGE_LINE}, the line of the single-file kubeseal and of the e2e run`, () => {
    expect(froms).toHaveLength(2);
    const [build, runtime] = froms.map((f) => f.replace(/\$\{(\w+)\}/g, (_, n: string) => arg(n) ?? `<no ARG ${n}>`));
    expect(build).toMatch(new RegExp(`^node:${nodeLines.LINES[nodeLines.IMAGE_LINE]!.replace(/\./g, '\\.')}-\\w+-slim(@sha256:[0-9a-f]{64})?( AS build)?$`));
    expect(runtime).toMatch(new RegExp(`^gcr\\.io/distroless/nodejs${nodeLines.IMAGE_LINE}-debian\\d+:nonroot(@sha256:[0-9a-f]{64})?$`));
    // Same Debian release in both stages (glibc of the build stage's npm ci = the runtime's).
    const debian: Record<string, string> = { bookworm: '12', trixie: '13' };
    expect(debian[/-(\w+)-slim/.exec(build!)![1]!]).toBe(/-debian(\d+):/.exec(runtime!)![1]);
  });

  it('the entrypoint is a shipped file of dist/ that the build produces', () => {
    const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(entry[0]).toBe('/nodejs/bin/node');
    expect(existsSync(join(ROOT, entry[1]!))).toBe(true);
    expect(pkg.bin['sealed-secrets-controller']).toBe(entry[1]);
    // The entrypoint, its worker and the keys CLI are copied (all in the npm package too), and dev
    // dependencies are pruned before node_modules is copied.
    const copied = /^COPY --from=build ((?:\/src\/dist\/\S+ )+)\.\/dist\/$/m.exec(dockerfile)![1]!.trim().split(' ').map((f) => f.replace('/src/', ''));
    expect(copied).toEqual(expect.arrayContaining([entry[1], 'dist/unseal-worker.cjs', pkg.bin['sealed-secrets-keys']]));
    for (const f of copied) expect(pkg.files, f).toContain(f);
    expect(dockerfile.indexOf('npm prune --omit=dev')).toBeGreaterThan(0);
    expect(dockerfile.indexOf('npm prune --omit=dev')).toBeLessThan(dockerfile.indexOf('COPY --from=build /src/node_modules'));
  });

  it('labels the image with its source, version and revision (build args), the version defaulting to the package version', () => {
    for (const l of ['source', 'version', 'revision']) expect(dockerfile).toMatch(new RegExp(`org\\.opencontainers\\.image\\.${l}=`));
    expect(arg('VERSION')).toBe(pkg.version);
    expect(dockerfile).toMatch(/org\.opencontainers\.image\.revision="\$\{REVISION\}"/);
    // The revision reaches kubeseal --version and the bundles through scripts/build.mjs.
    expect(dockerfile).toMatch(/SOURCE_REVISION="?\$\{REVISION\}"?/);
    const deployment = readFileSync(join(ROOT, 'deploy/base/deployment.yaml'), 'utf8');
    expect(deployment).toContain(`image: sealed-secrets-ts/controller:${pkg.version}`);
  });
});
