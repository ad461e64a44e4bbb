/**
 * Regression test from the adversarial review (it failed while the hole was open): the placeholder -> real Secret path (DELETE + POST)
 * runs only when the values *can* make the Secret; on an ERR_VALUE the same update is one
 * PUT. The extra delete is seen by the Secret informer and drives extra reconciles, which
 * show in metrics (reconciles_total by outcome, unseal_requests_total, RSA operations) that
 * anyone who can scrape /metrics sees. Asserts the first rule; FAILS while the hole is open.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { sealSecret, type SealedSecret } from '../../src/index.js';
import { usePool, vectorKey } from './pool-fixture.js';

const key = vectorKey;
let pool: UnsealPool;
usePool(1, (p) => (pool = p));

async function run(password: string): Promise<{ metrics: string[]; api: Record<string, number>; status: unknown; events: string[] }> {
  const api = new MemoryApi();
  const events: string[] = [];
  const metrics = createMetrics('review');
  const macKey = createHmac('sha256', 'k').digest();
  const { controller } = assembleController({ api, pool, log: createLogger({ level: 'error', format: 'json', write: () => {} }), metrics, macKey: () => macKey, events: { emit: (_s, t, r, m) => events.push(`${t} ${r} ${m}`) }, now: () => new Date('2026-12-01T00:00:00Z') });
  const ss = sealSecret({ metadata: { name: 'target', namespace: 'probe' }, stringData: { password } }, { publicKey: key.publicKey });
  // Generation 1: a value error for both plaintexts (printf %d of a string): an Opaque placeholder.
  ss.spec.template = { ...ss.spec.template, data: { probe: '{{ printf "%d" .password }}' } };
  api.put('sealedsecrets', { ...ss, metadata: { ...ss.metadata, uid: 'uid-1' } } as never);
  controller.startInformers();
  await controller.startWorkers();
  await controller.idle();
  // Generation 2: a type, and a probe that fails for A only.
  const live = api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret;
  live.spec.template = { ...live.spec.template, type: 'example.com/x', data: { probe: '{{ $d := .password | b64dec }}{{ if hasPrefix "illegal base64" $d }}{{ fail "not base64" }}{{ end }}{{ $d }}' } }; // Sprig's b64dec returns its error text: fail on it
  api.put('sealedsecrets', live as never);
  await new Promise((r) => setTimeout(r, 50));
  await controller.idle();
  await new Promise((r) => setTimeout(r, 500));
  await controller.idle();
  controller.stop();
  const scrape = await metrics.registry.metrics();
  const st = (api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret).status;
  return {
    metrics: scrape.split('\n').filter((l) => /^sealed_secrets_controller_(reconciles|unseal_requests|rsa_private|unseal_errors)/.test(l)),
    api: Object.fromEntries(api.counts),
    status: st?.conditions?.map(({ lastTransitionTime: _a, lastUpdateTime: _b, ...c }) => c),
    events,
  };
}

describe('review: placeholder recreate', () => {
  it('metrics do not tell whether the placeholder became the real Secret', async () => {
    const A = await run('YW!jZA==');
    const B = await run('YWJjZA==');
    console.log('A', JSON.stringify(A, null, 1));
    console.log('B', JSON.stringify(B, null, 1));
    expect(A.status).toEqual(B.status);
    expect(A.events).toEqual(B.events);
    expect(A.metrics).toEqual(B.metrics);
  }, 60_000);
});
