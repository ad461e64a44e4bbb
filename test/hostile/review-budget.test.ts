/**
 * Regression tests from the adversarial review of the first-rule fix. The review found that
 * the template budget charged bytes *produced* and steps, but not work proportional to the
 * bytes a function *reads*, nor memory a function used before it charged its result. Each test
 * asserts what the first rule needs and failed while the hole was open:
 *
 * 1. CPU: `trim` over a 512 KiB whitespace item produces nothing (0 bytes charged) in 2 steps,
 *    but costs milliseconds (toString + trim of 512 Ki chars); 50,000 of them fit the budget.
 *    `replace "a" "" X` over 1 MiB of "a" costs ~1024 steps and ~0.5 s (1 Mi Buffer.indexOf
 *    calls and a 1 Mi-entry `at` array), and ~97 of them fit.
 * 2. Timing oracle: a value error in one template aborts the rendering of all the templates
 *    after it. A cheap value-dependent probe followed by a within-budget CPU burner turns the
 *    "few milliseconds" timing channel into seconds of status latency.
 * 3. Worker OOM: printf builds its literal run with `lit += fmt[i]` (one ConsString per
 *    character, ~32 bytes per byte) before charging it. A ~3 MB format (within the 4 MiB
 *    budget) kills a 96 MiB worker; 2 MB does not. Whether the format is 2 or 3 MB can
 *    depend on the value, and a dead worker is visible: ERR_WORKER -> 'retry' ->
 *    "unseal deferred" log line, and no status ever (observedGeneration stays behind).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { TemplateBudget, renderTemplate, sealSecret, type SealedSecret } from '../../src/index.js';
import { usePool, vectorKey } from './pool-fixture.js';

const key = vectorKey;
let pool: UnsealPool;
usePool(1, (p) => (pool = p));

function sealed(items: Record<string, string>, data: Record<string, string>): SealedSecret {
  const ss = sealSecret({ metadata: { name: 'target', namespace: 'probe' }, stringData: items }, { publicKey: key.publicKey });
  ss.spec.template = { ...ss.spec.template, data };
  return ss;
}

/** Runs the real controller over one SealedSecret for at most `ms`; what a non-reader sees, and how long status took. */
async function observe(ss: SealedSecret, ms: number): Promise<{ status: unknown; statusAfterMs: number | undefined; logs: string[] }> {
  const api = new MemoryApi();
  const logs: string[] = [];
  const log = createLogger({ level: 'info', format: 'json', write: (l) => logs.push(l) });
  const macKey = createHmac('sha256', 'k').digest();
  const { controller } = assembleController({ api, pool, log, metrics: createMetrics('review'), macKey: () => macKey, events: { emit: () => {} }, now: () => new Date('2026-12-01T00:00:00Z') });
  const started = performance.now();
  api.put('sealedsecrets', { ...ss, metadata: { ...ss.metadata, uid: 'uid-1', generation: 1 } } as never);
  controller.startInformers();
  await controller.startWorkers();
  let statusAfterMs: number | undefined;
  const end = started + ms;
  while (performance.now() < end) {
    const live = api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret;
    if (live.status?.observedGeneration === 1) {
      statusAfterMs = performance.now() - started;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  controller.stop();
  const live = api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret;
  const status = live.status?.conditions?.map(({ lastTransitionTime: _t, lastUpdateTime: _u, ...c }) => c);
  return {
    status: status ?? 'no status',
    statusAfterMs,
    logs: logs.map((l) => JSON.parse(l) as Record<string, unknown>).map((o) => `${String(o['msg'])} ${String(o['code'] ?? '')}`),
  };
}

describe('review: work the budget does not charge', () => {
  it('CPU: functions that scan their input are charged for it, so 2000 trims of 512 KiB stop after a few', () => {
    const data = new Map([['ws', Buffer.alloc(512 * 1024, 32)]]);
    // A roomy wall clock (the machine is shared, and CI runs suites side by side): what must stop these is the
    // scan and step charges, not the 250 ms backstop.
    const budget = new TemplateBudget(undefined, undefined, undefined, 60_000);
    const t0 = performance.now();
    expect(() => renderTemplate('burn', '{{ trim .ws }}'.repeat(2000), data, budget)).toThrow(/read more than 4194304 bytes in all/);
    const ms = performance.now() - t0;
    const b2 = new TemplateBudget(undefined, undefined, undefined, 60_000);
    const t1 = performance.now();
    expect(() => renderTemplate('burn', '{{ replace "a" "" .aa }}'.repeat(4), new Map([['aa', Buffer.alloc(1024 * 1024, 97)]]), b2)).toThrow(/more than 20000 steps/);
    const ms2 = performance.now() - t1;
    console.log(`2000 x trim of 512 KiB: stopped after ${ms.toFixed(0)} ms (${budget.scanned} bytes read); replace "a" "" over 1 MiB: stopped after ${ms2.toFixed(0)} ms`);
    // Bounded by the budget, far from the seconds it took before (a loose bound: the machine is shared).
    expect(ms).toBeLessThan(1000);
    expect(ms2).toBeLessThan(1000);
  }, 120_000);

  it('timing oracle: a value error early aborts a within-budget burner, so status latency tells A from B by seconds', async () => {
    const ws = ' '.repeat(512 * 1024);
    // Sprig's b64dec returns its error text (as Go's does): the probe fails on it, early, for A only.
    const data = { 'a-probe': '{{ $d := .password | b64dec }}{{ if hasPrefix "illegal base64" $d }}{{ fail "not base64" }}{{ end }}', 'b-burn': '{{ trim .ws }}'.repeat(1000) };
    const A = await observe(sealed({ password: 'YW!jZA==', ws }, data), 60_000);
    const B = await observe(sealed({ password: 'YWJjZA==', ws }, data), 60_000);
    console.log(`status after: A ${A.statusAfterMs?.toFixed(0)} ms, B ${B.statusAfterMs?.toFixed(0)} ms`);
    expect(A.status).toEqual(B.status);
    // Noise of a reconcile here is tens of ms; the rule allows nothing beyond noise.
    expect(Math.abs(A.statusAfterMs! - B.statusAfterMs!)).toBeLessThan(250);
  }, 180_000);

  it('worker OOM: whether printf builds a 2 or 3 MB format (the value decides) kills the worker or not', async () => {
    const big = 'a'.repeat(1_040_000);
    // 'hunter' in the password: replace makes 1 MB more, the format is 3.1 MB and the worker dies.
    const data = { probe: '{{ printf (print .big .big (replace "hunter" .big .password)) }}' };
    const A = await observe(sealed({ password: 'hunter2-xyz', big }, data), 25_000);
    const B = await observe(sealed({ password: 'qwerty9-xyz', big }, data), 25_000);
    console.log('A:', JSON.stringify(A.status), [...new Set(A.logs)].join(' | '), `crashes so far: ${pool.workerCrashes}`);
    console.log('B:', JSON.stringify(B.status), [...new Set(B.logs)].join(' | '));
    expect(A.status).toEqual(B.status);
    expect(A.logs).toEqual(B.logs);
  }, 180_000);
});
