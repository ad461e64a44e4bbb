/**
 * Load: 10,000 SealedSecrets through the real controller (real worker pool, in-memory
 * API), then bursts of updates. It converges, writes exactly what changed (one Secret
 * write and one status write per changed object, nothing for unchanged ones), and a
 * restart writes nothing at all.
 */
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import type { Controller } from '../../controller/controller.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { generateRsaKeyPair, sealSecret, type RsaKeyPair } from '../../src/index.js';

const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
const N = 10_000;
const quiet = createLogger({ level: 'error', format: 'json', write: () => undefined });
let key: RsaKeyPair;
let pool: UnsealPool;
const api = new MemoryApi();

function controller(): Controller {
  const macKey = createHmac('sha256', 'load').digest();
  return assembleController({ api, pool, log: quiet, metrics: createMetrics('load'), macKey: () => macKey, controller: { concurrency: 8 } }).controller;
}

const writes = () => (api.counts.get('POST') ?? 0) + (api.counts.get('PUT') ?? 0) + (api.counts.get('PATCH') ?? 0) - api.events;
const seal = (i: number, v: string) => sealSecret({ metadata: { name: `s-${i}`, namespace: `ns-${i % 50}` }, stringData: { v } }, { publicKey: key.publicKey });

async function settle(c: Controller): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  await c.idle();
}

beforeAll(async () => {
  key = await generateRsaKeyPair(2048);
  pool = new UnsealPool({ filename: WORKER, workers: 2 });
  await pool.setKeys([{ ...key, orderingTime: 0 }]);
});
afterAll(async () => {
  await pool.close();
});

describe(`load: ${N} SealedSecrets`, () => {
  it('converges, writes only what changed, and a restart writes nothing', async () => {
    for (let i = 0; i < N; i++) api.put('sealedsecrets', seal(i, `v0-${i}`) as never);
    const c1 = controller();
    const t0 = performance.now();
    c1.startInformers();
    await c1.startWorkers();
    await settle(c1);
    const coldMs = performance.now() - t0;
    expect(api.size('secrets')).toBe(N);
    // One Secret create and one status write per object.
    expect(writes()).toBe(2 * N);

    // Bursts: 3 x 1000 updates while the controller runs.
    for (let burst = 1; burst <= 3; burst++) {
      const before = writes();
      for (let i = 0; i < 1000; i++) {
        const idx = (burst * 1000 + i * 7) % N;
        const cur = api.get('sealedsecrets', `ns-${idx % 50}/s-${idx}`)!;
        api.put('sealedsecrets', { ...cur, spec: seal(idx, `v${burst}-${idx}`).spec } as never);
      }
      await settle(c1);
      expect(writes() - before).toBe(2 * 1000);
    }
    const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
    c1.stop();

    // A restart with nothing changed: zero RSA operations, zero writes.
    const rsa = pool.rsaOperations;
    const before = writes();
    const c2 = controller();
    c2.startInformers();
    await c2.startWorkers();
    await settle(c2);
    expect(c2.outcomes.get('unchanged')).toBe(N);
    expect(pool.rsaOperations - rsa).toBe(0);
    expect(writes() - before).toBe(0);
    c2.stop();
    console.log(`load: ${N} SealedSecrets cold in ${(coldMs / 1000).toFixed(1)} s; 3 bursts of 1000 updates wrote exactly 2000 each; restart: 0 writes, 0 RSA; heap ${heapMb.toFixed(0)} MB (test process, all objects in memory twice)`);
  }, 300_000);
});
