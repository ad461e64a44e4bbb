/**
 * sealed-secrets-keys backup -o: the built binary against the Vault test server (no
 * cluster needed). The backup holds every private key: it must be a 0600 file from the
 * moment it exists and never be written through a symbolic link.
 */
import { chmodSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysFromObjects } from '../../src/index.js';
import { keysCli, tempDir } from '../cli-helpers.js';
import { vectorKeys } from '../vectors.js';
import { VaultTestServer } from './vault-test-server.js';

let vault: VaultTestServer;
let env: Record<string, string>;
const keys = vectorKeys().slice(0, 2);

beforeAll(async () => {
  vault = new VaultTestServer();
  vault.addToken('backup-token');
  await vault.start();
  env = { VAULT_ADDR: vault.address, VAULT_TOKEN: 'backup-token' };
  const d = tempDir({
    'keys.json': JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: keys.map((k, i) => ({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: `sealed-secrets-key${i}`, namespace: 'kube-system' },
        data: { 'tls.crt': Buffer.from(k.certPem).toString('base64'), 'tls.key': Buffer.from(k.privateKeyPem).toString('base64') },
      })),
    }),
  });
  const r = await keysCli(['--key-store', 'vault', 'restore', 'keys.json'], { cwd: d, env });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('2 keys restored, 0 already present\n');
});
afterAll(() => vault?.stop());

describe('sealed-secrets-keys backup -o', () => {
  it('replaces an existing 0644 file with a 0600 one, even under umask 000, and leaves no temporary file', async () => {
    const d = tempDir({ 'backup.json': 'old, world-readable\n' });
    chmodSync(join(d, 'backup.json'), 0o644);
    const r = await keysCli(['--key-store', 'vault', 'backup', '-o', 'backup.json'], { cwd: d, env, umask: 0o000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2 keys written to backup.json\n');
    expect(statSync(join(d, 'backup.json')).mode & 0o777).toBe(0o600);
    const backup = JSON.parse(readFileSync(join(d, 'backup.json'), 'utf8'));
    expect(keysFromObjects(backup.items, 'backup.json')).toHaveLength(2);
    const fresh = await keysCli(['--key-store', 'vault', 'backup', '-o', 'new.json'], { cwd: d, env, umask: 0o000 });
    expect(fresh.stderr).toBe('');
    expect(statSync(join(d, 'new.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(d).sort()).toEqual(['backup.json', 'new.json']);
  });

  it('refuses a symbolic link, leaving the link and the file it points at as they were', async () => {
    const d = tempDir({ 'notes.txt': 'team notes\n' });
    chmodSync(join(d, 'notes.txt'), 0o644);
    symlinkSync('notes.txt', join(d, 'backup.json'));
    const r = await keysCli(['--key-store', 'vault', 'backup', '-o', 'backup.json'], { cwd: d, env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'error: refusing to write private keys to backup.json: it is a symbolic link; give the path of the file itself, or remove the link (private material is never written through a link)\n',
    );
    expect(readlinkSync(join(d, 'backup.json'))).toBe('notes.txt');
    expect(readFileSync(join(d, 'notes.txt'), 'utf8')).toBe('team notes\n');
    expect(statSync(join(d, 'notes.txt')).mode & 0o777).toBe(0o644);
    expect(readdirSync(d).sort()).toEqual(['backup.json', 'notes.txt']);
  });
});
