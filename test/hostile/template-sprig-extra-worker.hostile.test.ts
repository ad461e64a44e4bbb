/**
 * SPRIG-EXTRA's expensive functions in the real controller and unseal worker (dist/unseal-worker.cjs):
 * a SealedSecret that asks for more key generation or bcrypt than its allowance is reconciled in
 * bounded time, shows non-readers the same status as a good one (Synced=True), and says why only in
 * the Secret's annotation; the worker survives it.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { ANNOTATION_UNSEAL_ERROR } from '../../controller/reconciler.js';
import type { UnsealPool } from '../../controller/unseal-pool.js';
import { sealSecret, type SealedSecret } from '../../src/index.js';
import { usePool, vectorKey } from './pool-fixture.js';

let pool: UnsealPool;
usePool(1, (p) => (pool = p));

function sealed(data: Record<string, string>): SealedSecret {
  const ss = sealSecret({ metadata: { name: 'target', namespace: 'probe' }, stringData: { password: 's3cr3t-value' } }, { publicKey: vectorKey.publicKey });
  ss.spec.template = { ...ss.spec.template, data };
  return ss;
}

async function reconcile(ss: SealedSecret): Promise<{ status: unknown; ms: number; secret: Record<string, unknown> | undefined; logs: string[] }> {
  const api = new MemoryApi();
  const logs: string[] = [];
  const log = createLogger({ level: 'info', format: 'json', write: (l) => logs.push(l) });
  const macKey = createHmac('sha256', 'k').digest();
  const { controller } = assembleController({ api, pool, log, metrics: createMetrics('sprig-extra'), macKey: () => macKey, events: { emit: () => {} }, now: () => new Date('2026-12-01T00:00:00Z') });
  const started = performance.now();
  api.put('sealedsecrets', { ...ss, metadata: { ...ss.metadata, uid: 'uid-1', generation: 1 } } as never);
  controller.startInformers();
  await controller.startWorkers();
  let ms = Infinity;
  while (performance.now() < started + 90_000) {
    const live = api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret;
    if (live.status?.observedGeneration === 1) {
      ms = performance.now() - started;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  controller.stop();
  const live = api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret;
  return {
    status: live.status?.conditions?.map(({ lastTransitionTime: _t, lastUpdateTime: _u, ...c }) => c) ?? 'no status',
    ms,
    secret: api.get('secrets', 'probe/target') as Record<string, unknown> | undefined,
    logs: logs.map((l) => String((JSON.parse(l) as Record<string, unknown>)['msg'])),
  };
}

describe('expensive Sprig functions in the unseal worker', () => {
  it('a bcrypt call site run seven times (six over its declared cost) looks like one call to non-readers, and the worker lives on', async () => {
    const good = await reconcile(sealed({ hash: '{{ bcrypt .password | len }}' }));
    const over = await reconcile(sealed({ hash: '{{ range until 7 }}{{ bcrypt $.password | len }}{{ end }}' }));
    expect(good.ms).toBeLessThan(90_000);
    expect(over.ms).toBeLessThan(90_000);
    expect(over.status).toEqual(good.status);
    expect(JSON.stringify(over.status)).toContain('"status":"True"');
    const annotations = (over.secret?.['metadata'] as { annotations?: Record<string, string> } | undefined)?.annotations ?? {};
    // A call site is allowed its declared cost once (counted from the template text): the second run is refused
    // before it starts, or (on a loaded machine) the clock stops an earlier one: both concealed.
    expect(annotations[ANNOTATION_UNSEAL_ERROR]).toMatch(/more than 300 ms on bcrypt|take too long to render/);
    console.log(`bcrypt x1: ${good.ms.toFixed(0)} ms, x7: ${over.ms.toFixed(0)} ms; annotation: ${annotations[ANNOTATION_UNSEAL_ERROR]}`);
    expect(JSON.stringify(over.logs)).not.toMatch(/bcrypt|s3cr3t/);
    expect(pool.workerCrashes).toBe(0);
  }, 240_000);

  it('two RSA-4096 key call sites are over the allowance from the template text alone: a public template error, and no key is generated', async () => {
    const r = await reconcile(sealed({ key: '{{ genPrivateKey "rsa" | len }}{{ genPrivateKey "rsa" | len }}' }));
    // 2 x 2000 ms declared > the 2000 ms allowance: what the template alone shows goes to status (ERR_TEMPLATE).
    expect(JSON.stringify(r.status)).toContain('"status":"False"');
    expect(JSON.stringify(r.status)).toMatch(/genPrivateKey/);
    expect(r.ms).toBeLessThan(30_000);
    expect(pool.workerCrashes).toBe(0);
  }, 240_000);
});
