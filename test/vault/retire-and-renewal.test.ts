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
