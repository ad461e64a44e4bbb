/**
 * The single-file kubeseal (Node's single executable applications, scripts/release.mjs) used
 * as someone without a checkout uses it: copied alone into an empty directory, no node_modules
 * anywhere above it, no node on PATH. (Fetching a certificate from a cluster:
 * test/e2e/node/node.test.ts, through the service proxy to the controller Pod.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { aloneCopy, SEA_BIN, type Alone } from './sea-helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const vector = (JSON.parse(readFileSync(join(ROOT, 'test/vectors/bitnami/keys.json'), 'utf8')) as { cases: { certPem: string; privateKeyPem: string }[] }).cases[0]!;
const secretYaml = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: s3a-only-in-the-secret}\n';
const viaNode = (args: string[]) => execFileSync(process.execPath, [join(ROOT, 'dist/kubeseal.cjs'), ...args], { encoding: 'utf8' });

let a: Alone;
beforeAll(() => {
  a = aloneCopy();
  writeFileSync(join(a.dir, 'cert.pem'), vector.certPem);
  writeFileSync(join(a.dir, 'key.pem'), vector.privateKeyPem);
});

describe('the single-file kubeseal, alone', () => {
  it('has nothing to lean on: no node on PATH, no node_modules in or above its directory', () => {
    expect(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: a.env }).status).not.toBe(0);
    for (let d = a.dir; ; d = dirname(d)) {
      expect(existsSync(join(d, 'node_modules')), d).toBe(false);
      if (d === dirname(d)) break;
    }
    expect(readdirSync(a.dir).filter((f) => !f.startsWith('.')).sort()).toEqual(['cert.pem', 'key.pem', 'kubeseal']);
    // An ELF executable, not a script that needs an interpreter.
    expect(readFileSync(a.exe).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    console.log(`single-file kubeseal: ${statSync(SEA_BIN).size} bytes`);
  });

  it('--version shows the version and the revision, as the bundle it was built from', () => {
    const r = a.run(['--version']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^kubeseal version: \d+\.\d+\.\d+ \(revision ([0-9a-f]{40}(-dirty)?|unknown)\)$/);
    expect(r.stdout).toBe(viaNode(['--version']));
  });

  it('seals offline with a certificate, and recovery-unseals the result with the private key', () => {
    const s = a.run(['--cert', 'cert.pem', '-w', 'sealed.yaml'], { input: secretYaml });
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const sealed = readFileSync(join(a.dir, 'sealed.yaml'), 'utf8');
    expect(sealed).toContain('kind: SealedSecret');
    expect(sealed).not.toContain('s3a-only-in-the-secret');
    const u = a.run(['--recovery-unseal', '--recovery-private-key', 'key.pem'], { input: sealed });
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
    const secret = parseYaml(u.stdout) as { kind: string; metadata: { name: string; namespace: string }; data: Record<string, string> };
    expect(secret.kind).toBe('Secret');
    expect(secret.metadata).toMatchObject({ name: 'db', namespace: 'prod' });
    expect(Buffer.from(secret.data['password']!, 'base64').toString()).toBe('s3a-only-in-the-secret');
  });

  it.each(['bash', 'zsh', 'fish'])('prints the %s completion script, the same as the npm kubeseal', (shell) => {
    const r = a.run(['completion', shell]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(viaNode(['completion', shell]));
    if (shell === 'bash') execFileSync('bash', ['-n'], { input: r.stdout });
  });

  it('fails like kubeseal: one line, exit 2 on a usage error', () => {
    const r = a.run(['--scope', 'nowhere', '--cert', 'cert.pem'], { input: secretYaml });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(viaNodeStderr(['--scope', 'nowhere', '--cert', join(a.dir, 'cert.pem')]));
  });
});

function viaNodeStderr(args: string[]): string {
  return spawnSync(process.execPath, [join(ROOT, 'dist/kubeseal.cjs'), ...args], { input: secretYaml, encoding: 'utf8' }).stderr;
}
