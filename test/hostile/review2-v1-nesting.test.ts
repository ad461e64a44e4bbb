/**
 * Regression test from the second adversarial review (it failed while the hole was open). Review round 2: the v1 plaintext's metadata is not checked before the main thread walks it.
 * An item's ciphertext pasted as spec.data whose JSON has metadata.labels nested more than
 * MAX_CANONICAL_DEPTH levels makes contentMac() (canonical) throw ERR_INVALID_INPUT inside
 * #desired(), outside every catch: the reconcile throws, the controller logs "reconcile failed
 * unexpectedly" with the error, counts reconciles_total{outcome="retry"} and retries (re-decrypting)
 * forever, and no status is ever written. The same JSON with a flat label is Synced. Whether a
 * victim's JSON item nests like that is a property of the plaintext.
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

async function observe(value: string): Promise<{ status: unknown; logs: string[]; reconciles: string[] }> {
  const api = new MemoryApi();
  const logs: string[] = [];
  const metrics = createMetrics('review2');
  const macKey = createHmac('sha256', 'k').digest();
  const { controller } = assembleController({ api, pool, log: createLogger({ level: 'info', format: 'json', write: (l) => logs.push(l) }), metrics, macKey: () => macKey, events: { emit: () => {} }, now: () => new Date('2026-12-01T00:00:00Z') });
  const victim = sealSecret({ metadata: { name: 'target', namespace: 'probe' }, stringData: { cfg: value } }, { publicKey: key.publicKey });
  const ss: SealedSecret = { ...victim, metadata: { ...victim.metadata, uid: 'uid-1', generation: 1 }, spec: { encryptedData: {}, data: victim.spec.encryptedData['cfg'] } as never };
  api.put('sealedsecrets', ss as never);
  controller.startInformers();
  await controller.startWorkers();
  await new Promise((r) => setTimeout(r, 1500));
  controller.stop();
  const live = api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret;
  const text = await metrics.registry.metrics();
  return {
    status: live.status?.conditions?.map((c) => [c.status, c.reason, c.message ?? '']) ?? 'no status',
    logs: logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((o) => o['level'] !== 'info' && o['level'] !== 'INFO').map((o) => `${String(o['msg'])} ${String(o['error'] ?? '')}`),
    reconciles: text.split('\n').filter((l) => l.startsWith('sealed_secrets_controller_reconciles_total{')),
  };
}

describe('review2: v1 plaintext nested deep', () => {
  it('status, logs and reconcile counts do not depend on how deep the plaintext JSON nests', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 120; i++) deep = { a: deep };
    const A = await observe(JSON.stringify({ metadata: { labels: { a: deep } } }));
    const B = await observe(JSON.stringify({ metadata: { labels: { a: 'x'.repeat(JSON.stringify(deep).length) } } }));
    console.log({ A, B });
    expect(A.status).toEqual(B.status);
    expect(A.logs).toEqual(B.logs);
    expect(A.reconciles).toEqual(B.reconciles);
  }, 60_000);
});
