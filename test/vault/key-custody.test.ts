/**
 * Key custody: the Vault key store driven through node-vault against the Vault
 * test server, and rotation through the KeyManager with injected time and real
 * unseal pools (worker threads).
 */
import { createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyManager, type KeyManagerOptions } from '../../controller/keys.js';
import type { KeyStore } from '../../controller/keystore/key-store.js';
import { VaultKeyStore } from '../../controller/keystore/vault-key-store.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { SealedSecretsError, keyFromSecret, keyToSecret, keysFromObjects, parsePrivateKeyPem, publicKeyFingerprint, sealSecret } from '../../src/index.js';
import { sealedSecretCases, vectorKeys } from '../vectors.js';
import { VaultTestServer } from './vault-test-server.js';

const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
const DAY = 24 * 3600 * 1000;
const logs: string[] = [];
const log = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });

let vault: VaultTestServer;
let clock = Date.parse('2026-01-01T00:00:00Z');
const now = () => clock;
const pools: UnsealPool[] = [];
const stores: VaultKeyStore[] = [];

function store(token = 'root-token', extra: Partial<ConstructorParameters<typeof VaultKeyStore>[0]> = {}): VaultKeyStore {
  const s = new VaultKeyStore({ address: vault.address, token, timeoutMs: 2000, ...extra }, { mount: 'secret', pathPrefix: 'sealed-secrets/keys/', now });
  stores.push(s);
  return s;
}

function replica(s: KeyStore, o: Partial<KeyManagerOptions> = {}): { keys: KeyManager; pool: UnsealPool } {
  const pool = new UnsealPool({ filename: WORKER, workers: 1 });
  pools.push(pool);
  const keys = new KeyManager(s, pool, log, createMetrics('test'), {
    keySize: 2048,
    keyTtlMs: 87600 * 3600 * 1000,
    myCn: '',
    renewPeriodMs: 90 * DAY,
    cutoffTime: undefined,
    orderBy: 'CertNotBefore',
    activationDelayMs: 0,
    now,
    ...o,
  });
  return { keys, pool };
}

function sealWith(keys: KeyManager, name: string, value: string) {
  const pub = createPublicKey(keys.certificatePem()!);
  return sealSecret({ metadata: { name, namespace: 'prod' }, stringData: { v: value } }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) });
}

beforeEach(async () => {
  vault = new VaultTestServer({ now });
  vault.addToken('root-token');
  await vault.start();
  clock = Date.parse('2026-01-01T00:00:00Z');
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  stores.splice(0).forEach((s) => s.close());
  await vault.stop();
});

describe('Vault key store (node-vault against the Vault KV v2 test server)', () => {
  it('stores keys as upstream key Secret fields plus metadata, lists with GET ?list, and loads them back', async () => {
    const { keys } = replica(store());
    await keys.ensureKeys();
    const k = keys.newest()!;
    const entryPath = vault.requests.find((r) => r.startsWith('POST /v1/secret/data/sealed-secrets/keys/'))!.slice('POST /v1/'.length);
    const entry = vault.entry(entryPath.slice('secret/data/'.length))!;
    expect(entry['tls.key']).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(entry['tls.crt']).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(entry).toMatchObject({ fingerprint: k.fingerprint, size: 2048, state: 'active' });
    // The same fields make an upstream key Secret: a backup or import needs no conversion.
    const asSecret = keyToSecret(parsePrivateKeyPem(entry['tls.key'] as string, 'e').privateKey, entry['tls.crt'] as string, { namespace: 'kube-system' });
    expect(publicKeyFingerprint(keyFromSecret(asSecret, 'x').publicKey)).toBe(k.fingerprint);
    expect(vault.requests.some((r) => r.startsWith('LIST'))).toBe(false);
    expect(vault.requests).toContain('GET /v1/secret/metadata/sealed-secrets/keys');
    const again = replica(store());
    await again.keys.reload();
    expect(again.keys.certificatePem()).toBe(keys.certificatePem());
  });

  it('says exactly what is wrong with the connection', async () => {
    await expect(replica(store('wrong-token')).keys.reload()).rejects.toMatchObject({
      code: 'ERR_KEY_STORE',
      message: 'Vault token lookup failed: HTTP 403 permission denied',
      hint: 'check the token or the Kubernetes auth role and its policy (read, create and list under the key path)',
    });
    await vault.down();
    const down = await replica(store()).keys.reload().catch((e: SealedSecretsError) => e);
    expect(down).toBeInstanceOf(SealedSecretsError);
    expect((down as SealedSecretsError).message).toMatch(/^Vault token lookup failed: ECONN(REFUSED|RESET)$/);
    expect((down as SealedSecretsError).hint).toContain('check VAULT_ADDR');
    await vault.up();
    vault.seal();
    expect(((await replica(store()).keys.reload().catch((e: SealedSecretsError) => e)) as SealedSecretsError).message).toBe('Vault token lookup failed: HTTP 503 Vault is sealed');
  });

  it('logs in with Kubernetes auth (ServiceAccount JWT and role)', async () => {
    vault.addKubernetesRole('sealed-secrets', 'jwt-of-the-service-account', ['secret/']);
    const s = store(undefined as unknown as string, { kubernetesRole: 'sealed-secrets', kubernetesJwt: () => 'jwt-of-the-service-account\n' });
    const { keys } = replica(s);
    await keys.ensureKeys();
    expect(keys.size).toBe(1);
    expect(vault.requests[0]).toBe('POST /v1/auth/kubernetes/login');
  });
});

describe('rotation', () => {
  it('renews every 90 days with injected time, honours the cutoff, and never removes a key', async () => {
    const { keys, pool } = replica(store());
    await keys.ensureKeys();
    const first = keys.newest()!.fingerprint;
    const old = sealWith(keys, 'a', 'sealed-with-the-first-key');
    clock += 89 * DAY;
    expect(await keys.renewIfDue()).toBe(false);
    clock += 1 * DAY + 1;
    expect(await keys.renewIfDue()).toBe(true);
    expect(keys.size).toBe(2);
    expect(keys.newest()!.fingerprint).not.toBe(first);
    expect(publicKeyFingerprint(createPublicKey(keys.certificatePem()!))).toBe(keys.newest()!.fingerprint);
    for (let i = 0; i < 3; i++) {
      clock += 90 * DAY;
      expect(await keys.renewIfDue()).toBe(true);
    }
    expect(keys.size).toBe(5);
    expect(Buffer.from((await pool.unseal(old)).secret.data!['v']!, 'base64').toString()).toBe('sealed-with-the-first-key');
    // A cutoff later than the newest key forces one at start-up.
    const withCutoff = replica(store(), { cutoffTime: clock + 1 });
    clock += 2;
    await withCutoff.keys.ensureKeys();
    expect(withCutoff.keys.size).toBe(6);
  });

  it('a new key decrypts at once but seals only after its activation delay', async () => {
    const a = replica(store(), { activationDelayMs: 120_000 });
    await a.keys.ensureKeys();
    const certBefore = a.keys.certificatePem();
    const rotated = (await a.keys.rotate('on demand'))!;
    expect(a.keys.certificatePem()).toBe(certBefore);
    const forNewKey = sealSecret({ metadata: { name: 'n', namespace: 'prod' }, stringData: { v: 'early' } }, { publicKey: rotated.publicKey });
    expect((await a.pool.unseal(forNewKey)).secret.data!['v']).toBe(Buffer.from('early').toString('base64'));
    clock += 120_000;
    expect(a.keys.certificatePem()).toBe(rotated.certificatePem);
  });

  it('two replicas racing to rotate create exactly one key', async () => {
    const a = replica(store());
    const b = replica(store());
    await a.keys.ensureKeys();
    await b.keys.reload();
    clock += 91 * DAY;
    const results = await Promise.all([a.keys.rotate('race'), b.keys.rotate('race'), a.keys.rotate('race'), b.keys.rotate('race')]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const check = replica(store());
    await check.keys.reload();
    expect(check.keys.size).toBe(2);
  });

  it('keeps unsealing through many rotations, a leader change and a Vault outage: zero failed unseals', async () => {
    const delay = 30_000;
    const a = replica(store(), { activationDelayMs: delay });
    const b = replica(store(), { activationDelayMs: delay });
    await a.keys.ensureKeys();
    await b.keys.reload();
    let unseals = 0;
    let failures = 0;
    let leader = a;
    const sealed: { ss: ReturnType<typeof sealWith>; value: string }[] = [];
    for (let round = 0; round < 12; round++) {
      if (round === 4) leader = b; // leader change
      if (round === 6) await vault.down(); // Vault outage: replicas keep serving from memory
      if (round === 8) await vault.up();
      if (round !== 6 && round !== 7) await leader.keys.rotate(`round ${round}`);
      // Both replicas poll the store; during the outage the reload fails and keys are kept.
      for (const r of [a, b]) await r.keys.reload().catch(() => undefined);
      for (let i = 0; i < 5; i++) {
        const sealer = (round + i) % 2 ? a : b;
        const opener = sealer === a ? b : a;
        const value = `round-${round}-item-${i}`;
        sealed.push({ ss: sealWith(sealer.keys, `s-${round}-${i}`, value), value });
        for (const x of sealed.slice(-20)) {
          unseals++;
          try {
            const out = await opener.pool.unseal(x.ss);
            if (Buffer.from(out.secret.data!['v']!, 'base64').toString() !== x.value) failures++;
          } catch {
            failures++;
          }
        }
      }
      clock += delay / 3;
    }
    expect(unseals).toBeGreaterThan(500);
    expect(failures).toBe(0);
    expect(a.keys.size).toBe(1 + 10);
    expect(b.keys.size).toBe(a.keys.size);
  }, 120_000);
});

describe('backup, wipe, restore and import', () => {
  it('backs every key up as upstream key Secrets; after a wipe and a restore every SealedSecret unseals again', async () => {
    const { keys } = replica(store());
    await keys.ensureKeys();
    const made = [sealWith(keys, 'one', 'first')];
    clock += 91 * DAY;
    await keys.renewIfDue();
    made.push(sealWith(keys, 'two', 'second'));
    const backup = { apiVersion: 'v1', kind: 'List', items: keys.keys.map((k) => keyToSecret(k.privateKey, k.certificatePem, { namespace: 'kube-system' })) };
    vault.wipe();
    const empty = replica(store());
    await empty.keys.reload();
    expect(empty.keys.size).toBe(0);
    const s = store();
    for (const k of keysFromObjects([JSON.parse(JSON.stringify(backup))], 'backup.json')) {
      expect(await s.importKey({ privateKey: k.privateKey, publicKey: k.publicKey, certificatePem: k.certificatePem! })).not.toBe('exists');
    }
    const restored = replica(s);
    await restored.keys.reload();
    expect(restored.keys.size).toBe(2);
    expect(restored.keys.certificatePem()).toBe(keys.certificatePem());
    for (const [i, ss] of made.entries()) {
      expect(Buffer.from((await restored.pool.unseal(ss)).secret.data!['v']!, 'base64').toString()).toBe(['first', 'second'][i]);
    }
    expect(await s.importKey({ privateKey: restored.keys.keys[0]!.privateKey, publicKey: restored.keys.keys[0]!.publicKey, certificatePem: restored.keys.keys[0]!.certificatePem })).toBe('exists');
  });

  it('imports upstream key Secrets and unseals the upstream vectors', async () => {
    const s = store();
    for (const k of vectorKeys()) {
      const p = parsePrivateKeyPem(k.privateKeyPem, k.id);
      await s.importKey({ ...p, certificatePem: k.certPem });
    }
    const { keys, pool } = replica(s);
    await keys.reload();
    expect(keys.size).toBe(vectorKeys().length);
    for (const c of sealedSecretCases().filter((c) => c.expected.ok)) {
      expect((await pool.unseal(c.sealedSecret)).secret).toEqual(c.expected.secret);
    }
  });
});
