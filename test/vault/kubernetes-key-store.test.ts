/**
 * The Kubernetes key store's checks on what it loads and imports, and sealed-secrets-keys
 * restore refusing a certificate that is not its key's (a bad restore would otherwise make
 * /v1/cert.pem serve a foreign certificate, and everything sealed to it unopenable here).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeyManager } from '../../controller/keys.js';
import { KubernetesKeyStore } from '../../controller/keystore/kubernetes-key-store.js';
import { VaultKeyStore } from '../../controller/keystore/vault-key-store.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { buildSelfSignedCertificate, generateRsaKeyPair, keyToSecret, publicKeyFingerprint, type Secret } from '../../src/index.js';
import { tempDir } from '../cli-helpers.js';
import { FakeKubeSecrets } from './fake-kube-secrets.js';
import { VaultTestServer } from './vault-test-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER = join(ROOT, 'dist/unseal-worker.cjs');
const DAY = 24 * 3600 * 1000;
let clock = Date.parse('2026-01-01T00:00:00Z');
const now = () => clock;
const logs: string[] = [];
const log = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });
const pools: UnsealPool[] = [];
type Pair = Awaited<ReturnType<typeof generateRsaKeyPair>>;
let pairs: Pair[];

beforeAll(async () => {
  pairs = await Promise.all([1, 2, 3].map(() => generateRsaKeyPair(2048)));
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  logs.length = 0;
});

const cert = (p: Pair, notBefore: number) => buildSelfSignedCertificate({ privateKey: p.privateKey, publicKey: p.publicKey, notBefore: new Date(notBefore), ttlMs: 3650 * DAY, commonName: '' });

function manager(store: KubernetesKeyStore): KeyManager {
  const pool = new UnsealPool({ filename: WORKER, workers: 1 });
  pools.push(pool);
  return new KeyManager(store, pool, log, createMetrics('test'), { keySize: 2048, keyTtlMs: 3650 * DAY, myCn: '', renewPeriodMs: 0, cutoffTime: undefined, orderBy: 'CertNotBefore', activationDelayMs: 0, now });
}

function keysCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist/sealed-secrets-keys.cjs'), ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('a key Secret whose tls.crt is not its tls.key', () => {
  it('is skipped and logged as invalid, naming the Secret, and /v1/cert.pem keeps serving the real key', async () => {
    const kube = new FakeKubeSecrets('kube-system', now);
    const store = new KubernetesKeyStore(kube, { namespace: 'kube-system', keyPrefix: 'sealed-secrets-key' });
    const [good, other, foreign] = pairs as [Pair, Pair, Pair];
    const goodCert = await cert(good, clock);
    const real = keyToSecret(good.privateKey, goodCert, { namespace: 'kube-system' });
    kube.put({ ...real, metadata: { ...real.metadata, name: 'sealed-secrets-keyaaaaa' } });
    // A bad restore: a newer key Secret holding one key and another key's certificate.
    const bad = keyToSecret(other.privateKey, await cert(foreign, clock + DAY), { namespace: 'kube-system' });
    kube.put({ ...bad, metadata: { ...bad.metadata, name: 'sealed-secrets-keybbbbb' } });
    const keys = manager(store);
    await keys.reload();
    expect(keys.size).toBe(1);
    expect(keys.certificatePem()).toBe(goodCert);
    expect(publicKeyFingerprint(keys.sealingKey()!.publicKey)).toBe(publicKeyFingerprint(good.publicKey));
    const skipped = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'skipping an invalid key');
    expect(skipped).toEqual([expect.objectContaining({ level: 'ERROR', key: 'kube-system/sealed-secrets-keybbbbb', reason: 'tls.crt does not belong to tls.key' })]);
  });

  it('is refused by importKey in both stores', async () => {
    const [a, b] = pairs as [Pair, Pair];
    const mismatched = { privateKey: a.privateKey, publicKey: a.publicKey, certificatePem: await cert(b, clock) };
    const kube = new FakeKubeSecrets('kube-system', now);
    await expect(new KubernetesKeyStore(kube, { namespace: 'kube-system', keyPrefix: 'sealed-secrets-key' }).importKey(mismatched)).rejects.toMatchObject({ code: 'ERR_KEY_INVALID', message: 'key to import: tls.crt does not belong to tls.key' });
    expect(kube.secrets.size).toBe(0);
    const vault = new VaultTestServer();
    vault.addToken('t');
    await vault.start();
    const vs = new VaultKeyStore({ address: vault.address, token: 't' }, { mount: 'secret', pathPrefix: 'sealed-secrets/keys/' });
    try {
      await expect(vs.importKey(mismatched)).rejects.toMatchObject({ code: 'ERR_KEY_INVALID' });
      expect(vault.requests.filter((r) => r.startsWith('POST'))).toEqual([]);
    } finally {
      vs.close();
      await vault.stop();
    }
  });

  it('sealed-secrets-keys restore refuses the whole input with a clear error and imports nothing', async () => {
    const [a, b, c] = pairs as [Pair, Pair, Pair];
    const dir = tempDir();
    const items: Secret[] = [keyToSecret(a.privateKey, await cert(a, clock), { namespace: 'kube-system' }), keyToSecret(b.privateKey, await cert(c, clock), { namespace: 'kube-system' })];
    items[1]!.metadata = { ...items[1]!.metadata, name: 'sealed-secrets-keyxyz12' };
    writeFileSync(join(dir, 'backup.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const vault = new VaultTestServer();
    vault.addToken('t');
    await vault.start();
    try {
      const env = { VAULT_ADDR: vault.address, VAULT_TOKEN: 't' };
      const r = await keysCli(['--key-store', 'vault', 'restore', join(dir, 'backup.json')], env);
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toBe(`error: ${join(dir, 'backup.json')}: Secret kube-system/sealed-secrets-keyxyz12: tls.crt does not belong to tls.key; the certificate must be the one made for this private key\n`);
      expect(vault.requests.filter((x) => x.startsWith('POST'))).toEqual([]);
      // The good key alone restores.
      writeFileSync(join(dir, 'good.json'), JSON.stringify(items[0]));
      expect((await keysCli(['--key-store', 'vault', 'restore', join(dir, 'good.json')], env)).stdout).toBe('1 keys restored, 0 already present\n');
    } finally {
      await vault.stop();
    }
  });
});
