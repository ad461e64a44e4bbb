/**
 * Key custody over time, with injected time, for both key stores (Vault through node-vault
 * against the Vault test server; Kubernetes Secrets against an in-memory API) and real unseal
 * pools: a retired key leaves a running controller; a key merely missing from a store answer
 * does not; and renewal keeps happening whatever state the store was left in, without
 * generating RSA keys in a loop.
 */
import { createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyManager, type KeyManagerOptions } from '../../controller/keys.js';
import type { KeyStore, StoredKey } from '../../controller/keystore/key-store.js';
import { KubernetesKeyStore } from '../../controller/keystore/kubernetes-key-store.js';
import { VaultKeyStore } from '../../controller/keystore/vault-key-store.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics, type Metrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import * as core from '../../src/index.js';
import { publicKeyFingerprint, sealSecret } from '../../src/index.js';
import { FakeKubeSecrets } from './fake-kube-secrets.js';
import { VaultTestServer } from './vault-test-server.js';

// Counts RSA key generation (the expensive part of a rotation) without changing it.
vi.mock('../../src/index.js', async (original) => {
  const real = await original<typeof import('../../src/index.js')>();
  return { ...real, generateRsaKeyPair: vi.fn(real.generateRsaKeyPair) };
});
const generated = () => vi.mocked(core.generateRsaKeyPair).mock.calls.length;

const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
const DAY = 24 * 3600 * 1000;
const logs: string[] = [];
const log = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });
let clock = Date.parse('2026-01-01T00:00:00Z');
const now = () => clock;
let vault: VaultTestServer;
const pools: UnsealPool[] = [];
const closers: (() => void)[] = [];

beforeEach(async () => {
  clock = Date.parse('2026-01-01T00:00:00Z');
  vault = new VaultTestServer({ now });
  vault.addToken('root-token');
  await vault.start();
  logs.length = 0;
  vi.mocked(core.generateRsaKeyPair).mockClear();
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  closers.splice(0).forEach((c) => c());
  await vault.stop();
});

interface Backend {
  name: string;
  store(): KeyStore;
  /** Removes a key from the store without retiring it (someone deleted it; a partial answer). */
  remove(fingerprint: string): void;
}

function vaultBackend(): Backend {
  return {
    name: 'Vault',
    store() {
      const s = new VaultKeyStore({ address: vault.address, token: 'root-token', timeoutMs: 2000 }, { mount: 'secret', pathPrefix: 'sealed-secrets/keys/', now });
      closers.push(() => s.close());
      return s;
    },
    remove(fp) {
      for (const p of vault.paths('sealed-secrets/keys/')) if (vault.entry(p)!['fingerprint'] === fp) vault.remove(p);
    },
  };
}

function kubernetesBackend(): Backend & { kube: FakeKubeSecrets } {
  const kube = new FakeKubeSecrets('kube-system', now);
  return {
    name: 'Kubernetes',
    kube,
    store: () => new KubernetesKeyStore(kube, { namespace: 'kube-system', keyPrefix: 'sealed-secrets-key' }),
    remove(fp) {
      for (const [name, s] of kube.secrets) {
        if (publicKeyFingerprint(core.keyFromSecret(s, 'test').publicKey) === fp) kube.secrets.delete(name);
      }
    },
  };
}

function replica(s: KeyStore, o: Partial<KeyManagerOptions> = {}): { keys: KeyManager; pool: UnsealPool; metrics: Metrics } {
  const pool = new UnsealPool({ filename: WORKER, workers: 1 });
  pools.push(pool);
  const metrics = createMetrics('test');
  const keys = new KeyManager(s, pool, log, metrics, {
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
  return { keys, pool, metrics };
}

const fp = (pem: string | undefined) => publicKeyFingerprint(createPublicKey(pem!));

function sealWith(keys: KeyManager, name: string, value: string) {
  const pub = createPublicKey(keys.certificatePem()!);
  return sealSecret({ metadata: { name, namespace: 'prod' }, stringData: { v: value } }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) });
}

describe.each([
  ['Vault', vaultBackend],
  ['Kubernetes', kubernetesBackend],
] as const)('retire (%s key store)', (_name, backend) => {
  it('drops a retired key from memory, the workers and /v1/cert.pem at the next reload; a key missing from an answer stays', async () => {
    const b = backend();
    const s = b.store();
    const { keys, pool } = replica(s);
    await keys.ensureKeys();
    const sealedA = sealWith(keys, 'a', 'for-a');
    clock += DAY;
    await keys.rotate('second key');
    clock += DAY;
    await keys.rotate('third key');
    const [A, B, C] = keys.keys.map((k) => k.fingerprint) as [string, string, string];
    expect(fp(keys.certificatePem())).toBe(C);
    const sealedC = sealWith(keys, 'c', 'for-c');
    const mac = Buffer.from(keys.macKey());

    // Retiring the newest key: the next one seals, the workers no longer open what was sealed for it.
    await s.retire(C);
    expect(await keys.reload()).toBe(true);
    expect(keys.keys.map((k) => k.fingerprint)).toEqual([A, B]);
    expect(fp(keys.certificatePem())).toBe(B);
    await expect(pool.unseal(sealedC)).rejects.toThrow();
    expect(Buffer.from((await pool.unseal(sealedA)).secret.data!['v']!, 'base64').toString()).toBe('for-a');
    // The content-MAC key is derived from the oldest key: retiring another leaves it as it was.
    expect(keys.macKey().equals(mac)).toBe(true);
    expect(logs.some((l) => l.includes('key retired in the store; no longer loaded') && l.includes(C))).toBe(true);

    // A key merely missing from a store answer is not retired: it stays in memory and keeps opening.
    b.remove(B);
    await keys.reload();
    expect(keys.keys.map((k) => k.fingerprint)).toEqual([A, B]);

    // Retiring the oldest changes the MAC key, deliberately (see KeyManager.macKey), and every
    // replica, restarted or not, derives the same one.
    await s.retire(A);
    await keys.reload();
    expect(keys.keys.map((k) => k.fingerprint)).toEqual([B]);
    expect(keys.macKey().equals(mac)).toBe(false);
    await expect(pool.unseal(sealedA)).rejects.toThrow();
  });

  it('a retired key restored again is loaded again; a replica started after a retire never loads it', async () => {
    const b = backend();
    const s = b.store();
    const { keys } = replica(s);
    await keys.ensureKeys();
    clock += DAY;
    await keys.rotate('second key');
    const [A, B] = keys.keys as [StoredKey, StoredKey];
    await s.retire(B.fingerprint);
    const fresh = replica(b.store());
    await fresh.keys.reload();
    await keys.reload();
    expect(fresh.keys.keys.map((k) => k.fingerprint)).toEqual([A.fingerprint]);
    expect(fresh.keys.macKey().equals(keys.macKey())).toBe(true);
    expect(fresh.keys.certificatePem()).toBe(keys.certificatePem());
    expect(await s.importKey({ privateKey: B.privateKey, publicKey: B.publicKey, certificatePem: B.certificatePem })).not.toBe('exists');
    await keys.reload();
    expect(keys.keys.map((k) => k.fingerprint)).toEqual([A.fingerprint, B.fingerprint]);
  });
});

async function makeKey(notBefore: number) {
  const { privateKey, publicKey } = await core.generateRsaKeyPair(2048);
  const certificatePem = await core.buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date(notBefore), ttlMs: 87600 * 3600 * 1000, commonName: '' });
  return { privateKey, publicKey, certificatePem, fingerprint: publicKeyFingerprint(publicKey) };
}

/** Renewal is due: exactly one key pair is generated and one key added. */
async function expectOneRenewal(keys: KeyManager): Promise<void> {
  const before = keys.size;
  const g0 = generated();
  expect(await keys.renewIfDue()).toBe(true);
  expect(generated() - g0).toBe(1);
  expect(keys.size).toBe(before + 1);
  expect(keys.renewalOverdueMs()).toBe(0);
}

describe('renewal never stalls, whatever state the store was left in', () => {
  it('Kubernetes store, --key-order-priority SecretCreationTimestamp, after restoring an old key', async () => {
    const s = kubernetesBackend().store();
    const { keys } = replica(s, { orderBy: 'SecretCreationTimestamp' });
    await keys.ensureKeys();
    const old = await makeKey(clock - 400 * DAY);
    clock += 10 * DAY;
    await s.importKey(old);
    await keys.reload();
    // Created last, the restored key is the newest in this order (and seals); its certificate is the oldest.
    expect(keys.newest()!.fingerprint).toBe(old.fingerprint);
    clock += 91 * DAY;
    await expectOneRenewal(keys);
  });

  it.each(['CertNotBefore', 'SecretCreationTimestamp'] as const)('Vault after import or restore, which do not move the rotation head (%s)', async (orderBy) => {
    const s = vaultBackend().store();
    const { keys } = replica(s, { orderBy });
    await keys.ensureKeys();
    clock += 10 * DAY;
    // CertNotBefore: a key newer than the head's (e.g. from another cluster); creation order: an old backup.
    const imported = await makeKey(orderBy === 'CertNotBefore' ? clock : clock - 400 * DAY);
    await s.importKey(imported);
    await keys.reload();
    expect(keys.newest()!.fingerprint).toBe(imported.fingerprint);
    clock += 91 * DAY;
    await expectOneRenewal(keys);
  });

  it('Vault after a rotator died between writing its key and moving the head', async () => {
    const s = vaultBackend().store();
    const { keys } = replica(s);
    await keys.ensureKeys();
    const first = keys.newest()!.fingerprint;
    clock += DAY;
    // What the dead rotator left: the head claimed (still naming the first key), its key written.
    vault.put('sealed-secrets/head', { newest: first, claim: 'key-20260102t000000z-dead00', claimedAt: new Date(clock).toISOString() });
    const orphan = await makeKey(clock);
    await s.importKey(orphan);
    await keys.reload();
    expect(keys.newest()!.fingerprint).toBe(orphan.fingerprint);
    clock += 91 * DAY;
    await expectOneRenewal(keys);
    expect(vault.entry('sealed-secrets/head')).toMatchObject({ newest: keys.newest()!.fingerprint });
  });

  it('Vault with a head naming a key that does not exist (a wipe and a restore of older keys)', async () => {
    const s = vaultBackend().store();
    const { keys } = replica(s);
    await keys.ensureKeys();
    vault.put('sealed-secrets/head', { newest: 'SHA256:a-key-that-is-gone' });
    clock += 91 * DAY;
    await expectOneRenewal(keys);
    expect(vault.entry('sealed-secrets/head')).toMatchObject({ newest: keys.newest()!.fingerprint });
    // And the next rotation after that too.
    clock += 91 * DAY;
    await expectOneRenewal(keys);
  });

  it.each([
    ['Vault', vaultBackend],
    ['Kubernetes', kubernetesBackend],
  ] as const)('after the newest key was retired (%s key store)', async (_name, backend) => {
    const s = backend().store();
    const { keys } = replica(s);
    await keys.ensureKeys();
    clock += 10 * DAY;
    const retired = (await keys.rotate('second key'))!;
    await s.retire(retired.fingerprint);
    await keys.reload();
    // Renewal is measured from the newest key left, which was made 91 days ago.
    clock += 81 * DAY;
    await expectOneRenewal(keys);
    expect(keys.keys.map((k) => k.fingerprint)).not.toContain(retired.fingerprint);
  });

  it('a store that never takes the new key: renewal backs off instead of generating key pairs in a loop, and says it is overdue', async () => {
    const real = vaultBackend().store();
    const refusing = Object.assign(Object.create(real) as KeyStore, {
      kind: real.kind,
      load: real.load.bind(real),
      createIfNoNewKey: async () => undefined,
      createIfNewest: async () => undefined,
    });
    const { keys, metrics } = replica(refusing);
    await replica(real).keys.ensureKeys();
    await keys.reload();
    clock += 91 * DAY;
    const g0 = generated();
    // Two minutes of the renewal loop's one-second ticks.
    for (let i = 0; i < 120; i++) {
      await keys.renewIfDue();
      clock += 1000;
    }
    expect(generated() - g0).toBe(2); // at once, and after a minute; the next only after two more
    expect(keys.size).toBe(1);
    await keys.reload();
    expect(keys.renewalOverdueMs()).toBeGreaterThan(DAY);
    expect((await metrics.keyRenewalOverdue.get()).values[0]!.value).toBe(Math.round(keys.renewalOverdueMs() / 1000));
    expect((await metrics.nextRotation.get()).values[0]!.value).toBeLessThan(0);
    const overdue = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'key renewal is overdue: no new key could be stored');
    expect(overdue).toHaveLength(2);
    expect(overdue[0]).toMatchObject({ level: 'ERROR', retryInSeconds: 60 });
    expect(overdue[1]).toMatchObject({ level: 'ERROR', retryInSeconds: 120 });
  });
});
