/**
 * The unseal pool the in-process hostile and review tests share: real worker threads (the built
 * dist/unseal-worker.cjs) holding the first upstream vector key, started before a file's tests
 * and closed after them.
 */
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { parsePrivateKeyPem, sealSecret } from '../../src/index.js';
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

/**
 * Reconciles `n` SealedSecrets in namespace `team`, each sealing `password` under the vector key and
 * rendering `template` as its item `probe`, through the real controller and `pool`; returns the
 * controller's /metrics text, as a metrics reader sees it.
 */
export async function probeMetrics(pool: UnsealPool, prefix: string, password: string, template: string, n: number): Promise<string> {
  const api = new MemoryApi();
  const metrics = createMetrics(prefix);
  for (let i = 0; i < n; i++) {
    const ss = sealSecret({ metadata: { name: `p${i}`, namespace: 'team' }, stringData: { password } }, { publicKey: vectorKey.publicKey });
    ss.spec.template = { ...ss.spec.template, data: { probe: template } };
    api.put('sealedsecrets', { ...ss, metadata: { ...ss.metadata, uid: `u${i}`, generation: 1 } } as never);
  }
  const { controller } = assembleController({
    api,
    pool,
    log: createLogger({ level: 'error', format: 'json', write: () => {} }),
    metrics,
    macKey: () => createHmac('sha256', 'k').digest(),
    events: { emit: () => {} },
    controller: { concurrency: 1 },
  });
  controller.startInformers();
  await controller.startWorkers();
  await controller.idle();
  controller.stop();
  return metrics.registry.metrics();
}
