/** The unseal pool with real worker threads (the built dist/unseal-worker.cjs). */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sealedSecretCases, vectorKeys } from '../test/vectors.js';
import { SealedSecretsError, parsePrivateKeyPem, publicKeyFingerprint, sealSecret } from '../src/index.js';
import { UnsealPool } from './unseal-pool.js';

const WORKER = fileURLToPath(new URL('../dist/unseal-worker.cjs', import.meta.url));
const keys = vectorKeys().map((k, i) => ({ ...parsePrivateKeyPem(k.privateKeyPem, k.id), orderingTime: i, id: k.id, certPem: k.certPem }));
let pool: UnsealPool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('UnsealPool', () => {
  it('unseals the upstream vectors in worker threads, and reports failures as coded errors', async () => {
    pool = new UnsealPool({ filename: WORKER, workers: 2 });
    await pool.setKeys(keys);
    // Case 005 fails upstream only because it is opened with an unrelated key; this pool holds every key.
    const cases = sealedSecretCases().filter((c) => c.id !== 'dev-sealedsecret-005');
    for (const c of cases) {
      if (c.expected.ok) {
        expect((await pool.unseal(c.sealedSecret)).secret).toEqual(c.expected.secret);
      } else {
        const e = await pool.unseal(c.sealedSecret).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(SealedSecretsError);
        expect((e as SealedSecretsError).message.startsWith(c.expected.errorPrefix!)).toBe(true);
      }
    }
    expect(pool.tasks).toBe(cases.length);
  });

  it('a hint makes an old key cost one RSA operation per item', async () => {
    pool = new UnsealPool({ filename: WORKER, workers: 1 });
    await pool.setKeys(keys);
    const old = keys.find((k) => k.id === 'dev-rsa2048')!;
    const ss = sealSecret({ metadata: { name: 'n', namespace: 'ns' }, stringData: { a: '1', b: '2' } }, { publicKey: old.publicKey });
    const cold = await pool.unseal(ss);
    expect(cold.rsaOperations).toBeGreaterThan(2);
    const fp = [...cold.openedBy.values()][0]!;
    expect(fp).toBe(publicKeyFingerprint(old.publicKey));
    expect((await pool.unseal(ss, [fp])).rsaOperations).toBe(2);
  });

  it('replaces a worker that dies mid-task and retries the task', async () => {
    pool = new UnsealPool({ filename: WORKER, workers: 1 });
    await pool.setKeys(keys);
    const c = sealedSecretCases().find((x) => x.keyId === 'dev-rsa4096' && x.expected.ok)!;
    await pool.unseal(c.sealedSecret);
    const running = pool.unseal(c.sealedSecret);
    await new Promise((r) => setTimeout(r, 1));
    await pool.threads[0]!.terminate();
    expect((await running).secret).toEqual(c.expected.secret);
    expect(pool.workerCrashes).toBe(1);
    expect((await pool.unseal(c.sealedSecret)).secret).toEqual(c.expected.secret);
  });

  it('a new key set takes effect for new tasks while old tasks finish', async () => {
    pool = new UnsealPool({ filename: WORKER, workers: 1 });
    const [first, ...rest] = keys;
    await pool.setKeys([first!]);
    const c = sealedSecretCases().find((x) => x.keyId !== first!.id && x.expected.ok)!;
    await expect(pool.unseal(c.sealedSecret)).rejects.toMatchObject({ code: 'ERR_DECRYPT' });
    await pool.setKeys([first!, ...rest]);
    expect((await pool.unseal(c.sealedSecret)).secret).toEqual(c.expected.secret);
    expect(pool.keyVersion).toBe(2);
  });
});
