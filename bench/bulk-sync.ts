/**
 * The in-process bulk sync: the real controller (informers, queue, reconciler,
 * piscina pool, Secret building, status) against an in-memory API, so that
 * crypto and scheduling are measured without an API server. Cold sync (every
 * SealedSecret must be unsealed, with new SealedSecrets created meanwhile),
 * then a warm resync (a fresh controller, nothing changed).
 */
import { createHmac, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { assembleController } from '../controller/assemble.js';
import type { Controller } from '../controller/controller.js';
import { createLogger } from '../controller/log.js';
import { createMetrics } from '../controller/metrics.js';
import { UnsealPool } from '../controller/unseal-pool.js';
import { publicKeyFingerprint, sealSecret } from '../src/index.js';
import { MemoryApi } from './memory-api.js';

export interface BenchKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface SyncScenario {
  keySize: number;
  workers: number;
  retainedKeys: number;
  secrets: number;
  itemsPerSecret: number;
  /** Whether the SealedSecrets carry our key hint (our kubeseal writes it; upstream's does not). */
  hints: boolean;
  engine: 'node:crypto' | 'node-forge';
}

export interface SyncResult extends SyncScenario {
  where: 'in-process';
  coldSeconds: number;
  warmSeconds: number;
  unsealsPerSecond: number;
  rsaOpsPerItem: number;
  rsaOpsPerSecond: number;
  warmRsaOps: number;
  newObjectP50Ms: number;
  newObjectP99Ms: number;
  rssMb: number;
  /** The controller's main thread during the cold sync: the fraction of time it was busy (event-loop utilization)... */
  mainThreadBusy: number;
  /** ...and its busy time per SealedSecret, in ms. */
  mainThreadMsPerObject: number;
}

const quiet = createLogger({ level: 'error', format: 'json', write: () => undefined });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function wire(api: MemoryApi, pool: UnsealPool, keys: BenchKey[]): Controller {
  const macKey = createHmac('sha256', keys[0]!.privateKey.export({ type: 'pkcs1', format: 'der' })).update('sealed-secrets-ts content-mac v1').digest();
  return assembleController({ api, pool, log: quiet, metrics: createMetrics('bench'), macKey: () => macKey }).controller;
}

async function until(f: () => boolean, what: string, timeoutMs = 30 * 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

export async function runInProcess(s: SyncScenario, allKeys: BenchKey[], distDir: string): Promise<SyncResult> {
  const keys = allKeys.slice(0, s.retainedKeys);
  const api = new MemoryApi();
  // Objects were sealed over the life of the key ring: object i with key i mod n (oldest first).
  const fps = keys.map((k) => publicKeyFingerprint(k.publicKey));
  for (let i = 0; i < s.secrets; i++) {
    const k = i % keys.length;
    const stringData = Object.fromEntries(Array.from({ length: s.itemsPerSecret }, (_, j) => [`item-${j}`, `value-${i}-${j}`]));
    const ss = sealSecret({ metadata: { name: `s-${i}`, namespace: `ns-${i % 20}` }, stringData }, { publicKey: keys[k]!.publicKey, fingerprint: s.hints ? fps[k] : undefined });
    api.put('sealedsecrets', ss as never);
  }
  const pool = new UnsealPool({ filename: join(distDir, s.engine === 'node-forge' ? 'forge-worker.cjs' : 'unseal-worker.cjs'), workers: s.workers });
  await pool.setKeys(keys.map((k, i) => ({ ...k, orderingTime: i })));
  // Warm the workers up (thread start, module load) outside the measurement.
  await Promise.all(Array.from({ length: s.workers * 2 }, () => pool.unseal(sealSecret({ metadata: { name: 'w', namespace: 'w' }, stringData: { a: 'b' } }, { publicKey: keys[keys.length - 1]!.publicKey })).catch(() => undefined)));
  const rsaBefore = pool.rsaOperations;

  const cold = wire(api, pool, keys);
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  cold.startInformers();
  await cold.startWorkers();
  const probes = 10;
  const probeMs: number[] = [];
  const probing = (async () => {
    await until(() => (cold.outcomes.get('synced') ?? 0) >= s.secrets / 10, 'the cold sync to get going');
    for (let i = 0; i < probes; i++) {
      const name = `probe-${i}`;
      const start = performance.now();
      api.put('sealedsecrets', sealSecret({ metadata: { name, namespace: 'probes' }, stringData: { v: name } }, { publicKey: keys[keys.length - 1]!.publicKey, fingerprint: fps[fps.length - 1] }) as never);
      await until(() => api.get('secrets', `probes/${name}`) !== undefined, name);
      probeMs.push(performance.now() - start);
      await sleep(50);
    }
  })();
  await until(() => (cold.outcomes.get('synced') ?? 0) >= s.secrets + probes, 'the cold sync');
  await probing;
  const coldSeconds = (performance.now() - t0) / 1000;
  const elu = performance.eventLoopUtilization(elu0);
  const coldRsa = pool.rsaOperations - rsaBefore;
  cold.stop();

  const warm = wire(api, pool, keys);
  const rsaWarmBefore = pool.rsaOperations;
  const t1 = performance.now();
  warm.startInformers();
  await warm.startWorkers();
  await until(() => (warm.outcomes.get('unchanged') ?? 0) >= s.secrets + probes, 'the warm resync');
  const warmSeconds = (performance.now() - t1) / 1000;
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  warm.stop();
  await pool.close();
  const items = (s.secrets + probes) * s.itemsPerSecret;
  return {
    ...s,
    where: 'in-process',
    coldSeconds,
    warmSeconds,
    unsealsPerSecond: items / coldSeconds,
    rsaOpsPerItem: coldRsa / items,
    rsaOpsPerSecond: coldRsa / coldSeconds,
    warmRsaOps: pool.rsaOperations - rsaWarmBefore,
    newObjectP50Ms: percentile(probeMs, 50),
    newObjectP99Ms: percentile(probeMs, 99),
    rssMb,
    mainThreadBusy: elu.utilization,
    mainThreadMsPerObject: elu.active / (s.secrets + probes),
  };
}
