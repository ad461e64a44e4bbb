/**
 * Regression test from the third adversarial review (it failed while the hole was open): CPU one /v1/verify (or /v1/rotate)
 * request can make the controller spend.
 *
 * A request may carry 256 encryptedData items (2 MiB cap); an item no key opens costs one RSA
 * private operation per key held (the ring tries every key whose modulus size matches the
 * blob's 2-byte frame, which the sender chooses), and the hint annotation only adds keys to try
 * first. So a 192 KB body of 256 copies of a garbage blob framed for 512-byte keys costs
 * 256 x K RSA-4096 decryptions: measured on this 2-core machine, 1.5 s of worker CPU with one
 * key and 8.8 s with four (a controller renewing monthly holds a dozen or more after a year).
 * The default limit (2 requests/s, burst 2, per client; every kubeseal user behind the service
 * proxy shares the API server's bucket) lets one client keep every worker busy without pause,
 * and the workers are the ones reconciles need: new and changed SealedSecrets wait behind it.
 *
 * Fix: a per-request RSA budget (e.g. stop at the first item no key opens: the answer is
 * already "cannot be unsealed"; or at most items + a few extra trials in all), charge the
 * rate limiter per RSA operation rather than per request, and keep reconciles ahead of HTTP
 * tasks in the pool.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsealPool } from '../../controller/unseal-pool.js';
import type { SealedSecret } from '../../src/index.js';

const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
const keys = Array.from({ length: 4 }, (_, i) => {
  const k = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey: k.privateKey, publicKey: k.publicKey, orderingTime: i };
});
let pool: UnsealPool;

beforeAll(async () => {
  pool = new UnsealPool({ filename: WORKER, workers: 1 });
  await pool.setKeys(keys);
});
afterAll(() => pool.close());

/** A garbage blob framed for 256-byte (RSA-2048) keys: every key is tried, none opens it. */
const garbage = () => Buffer.concat([Buffer.from([1, 0]), randomBytes(256 + 40)]).toString('base64');
const request = (n: number): SealedSecret => ({
  apiVersion: 'bitnami.com/v1alpha1',
  kind: 'SealedSecret',
  metadata: { name: 'a', namespace: 'b' },
  spec: { encryptedData: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, garbage()])) },
}) as SealedSecret;

async function timed(ss: SealedSecret, runs = 3): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await pool.verify(ss).catch(() => undefined);
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[runs >> 1]!;
}

describe('review3: one verify request cannot buy unbounded RSA work', () => {
  it('256 unopenable items under 4 keys cost at most ~64 RSA operations, not 1024', async () => {
    await timed(request(1));
    const one = await timed(request(1)) / keys.length; // one item, every key tried: K operations
    const big = await timed(request(256), 1);
    console.log(`one RSA-2048 trial ~${one.toFixed(2)} ms; a 256-item request ${big.toFixed(0)} ms (~${(big / one).toFixed(0)} RSA operations)`);
    expect(big / one).toBeLessThan(64);
  }, 120_000);
});
