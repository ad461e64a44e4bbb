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

  it('batches concurrent requests into few worker messages; each item succeeds or fails alone', async () => {
    pool = new UnsealPool({ filename: WORKER, workers: 2, maxBatchItems: 8 });
    await pool.setKeys(keys);
    const good = sealedSecretCases().filter((c) => c.expected.ok && c.id !== 'dev-sealedsecret-005');
    const bad = sealedSecretCases().filter((c) => !c.expected.ok && c.id !== 'dev-sealedsecret-005');
    const cases = Array.from({ length: 40 }, (_, i) => (i % 5 === 4 ? bad[i % bad.length]! : good[i % good.length]!));
    const outcomes = await Promise.all(cases.map((c) => pool!.unseal(c.sealedSecret).then((r) => r.secret, (e: unknown) => e)));
    outcomes.forEach((o, i) => {
      const c = cases[i]!;
      if (c.expected.ok) expect(o).toEqual(c.expected.secret);
      else expect((o as SealedSecretsError).message.startsWith(c.expected.errorPrefix!)).toBe(true);
    });
    // 40 requests made at once: 4 batches go out (two per worker), the rest wait and share batches of at most 8.
    expect(pool.tasks).toBeLessThan(40);
    expect(pool.tasks).toBeGreaterThanOrEqual(40 / 8);
    expect(pool.pending).toBe(0);
  });

  it('a worker that dies with a batch costs no other item its result', async () => {
    pool = new UnsealPool({ filename: WORKER, workers: 1, crashRetries: 0 });
    await pool.setKeys(keys);
    const c = sealedSecretCases().find((x) => x.keyId === 'dev-rsa4096' && x.expected.ok)!;
    await pool.unseal(c.sealedSecret);
    const running = Array.from({ length: 6 }, () => pool!.unseal(c.sealedSecret));
    await new Promise((r) => setTimeout(r, 1));
    await pool.threads[0]!.terminate();
    // The batch in the dead worker is retried item by item; every request still gets its Secret.
    for (const r of await Promise.all(running)) expect(r.secret).toEqual(c.expected.secret);
    expect(pool.workerCrashes).toBeGreaterThanOrEqual(1);
  });

  it('an urgent request (a new SealedSecret) is unsealed ahead of queued resync work', async () => {
    pool = new UnsealPool({ filename: WORKER, workers: 1 });
    await pool.setKeys(keys);
    const c = sealedSecretCases().find((x) => x.keyId === 'dev-rsa4096' && x.expected.ok)!;
    const order: string[] = [];
    const resync = Array.from({ length: 60 }, (_, i) => pool!.unseal(c.sealedSecret).then(() => order.push(`resync-${i}`)));
    await new Promise((r) => setImmediate(r));
    // Two batches are with the worker; the rest of the resync waits. The urgent one goes next.
    const urgent = pool.unseal(c.sealedSecret, [], true).then(() => order.push('urgent'));
    await Promise.all([...resync, urgent]);
    expect(order.indexOf('urgent')).toBeLessThan(30);
    expect(order.filter((o) => o.startsWith('resync')).length).toBe(60);
  });

  it('a worker that runs out of heap is replaced; its request fails as ERR_WORKER and the next one is unsealed', async () => {
    // Small limits so that one oversized object exhausts a worker (the template budget keeps real ones far below).
    pool = new UnsealPool({ filename: WORKER, workers: 1, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
    await pool.setKeys(keys);
    const k = keys[0]!;
    const good = sealSecret({ metadata: { name: 'n', namespace: 'ns' }, stringData: { a: 'still-here' } }, { publicKey: k.publicKey });
    // 40 distinct 1 MiB template strings: the worker's copy of the object alone is over its heap.
    const huge = structuredClone(good);
    huge.spec.template = { data: Object.fromEntries([...Array(40).keys()].map((i) => [`t${i}`, `${i}`.padEnd(1024 * 1024, 'x')])) };
    const e = await pool.unseal(huge).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SealedSecretsError);
    expect((e as SealedSecretsError).code).toBe('ERR_WORKER');
    expect(pool.workerCrashes).toBeGreaterThan(0);
    const r = await pool.unseal(good);
    expect(Buffer.from(r.secret.data!['a']!, 'base64').toString()).toBe('still-here');
  }, 60_000);
});
