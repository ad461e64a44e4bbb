/**
 * The unseal pool the in-process hostile and review tests share: real worker threads (the built
 * dist/unseal-worker.cjs) holding the first upstream vector key, started before a file's tests
 * and closed after them.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { parsePrivateKeyPem } from '../../src/index.js';
import { vectorKeys } from '../vectors.js';

export const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
export const vectorKey = parsePrivateKeyPem(vectorKeys()[0]!.privateKeyPem, 'k');

/** Registers the hooks that start the pool (handed to `set`) before the file's tests and close it after. */
export function usePool(workers: number, set: (pool: UnsealPool) => void): void {
  let pool: UnsealPool | undefined;
  beforeAll(async () => {
    pool = new UnsealPool({ filename: WORKER, workers });
    await pool.setKeys([{ ...vectorKey, orderingTime: 0 }]);
    set(pool);
  });
  afterAll(() => pool?.close());
}
