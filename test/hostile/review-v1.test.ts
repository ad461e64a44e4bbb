/**
 * Regression test from the adversarial review (it failed while the hole was open): the deprecated spec.data (v1) path. Its blob is opened
 * with the same OAEP label as every encryptedData item of the same namespace/name/scope, so
 * an attacker can paste any item's ciphertext as spec.data. buildSecret then JSON.parses the
 * item's plaintext and reports failure in status (ERR_INVALID_INPUT, "the deprecated spec.data
 * does not hold a Secret"): status says whether the value is a JSON object (docker configs,
 * cloud key files are; passwords are not), and for a JSON object its "type"/"data"/
 * "immutable" members go to the API server unchecked (its decode errors quote the request).
 * Asserts the first rule.
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

async function statusOf(value: string): Promise<unknown> {
  const api = new MemoryApi();
  const macKey = createHmac('sha256', 'k').digest();
  const { controller } = assembleController({ api, pool, log: createLogger({ level: 'error', format: 'json', write: () => {} }), metrics: createMetrics('review'), macKey: () => macKey, events: { emit: () => {} } });
  // The victim's item, as it is in Git.
  const victim = sealSecret({ metadata: { name: 'target', namespace: 'probe' }, stringData: { cfg: value } }, { publicKey: key.publicKey });
  // The attacker's update: the item's ciphertext pasted as the deprecated blob.
  const ss: SealedSecret = { ...victim, metadata: { ...victim.metadata, uid: 'uid-1' }, spec: { data: victim.spec.encryptedData['cfg'] } as never };
  api.put('sealedsecrets', ss as never);
  controller.startInformers();
  await controller.startWorkers();
  await controller.idle();
  controller.stop();
  return (api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret).status?.conditions?.map(({ lastTransitionTime: _a, lastUpdateTime: _b, ...c }) => c);
}

describe('review: v1 blob from an item', () => {
  it('status does not tell whether an item\'s plaintext is a JSON object', async () => {
    const A = await statusOf('{"auths":{"r.example":{"auth":"dTpw"}}}');
    const B = await statusOf('hunter2-hunter2-hunter2-hunter2-');
    console.log('A', JSON.stringify(A), '\nB', JSON.stringify(B));
    expect(A).toEqual(B);
  }, 60_000);
});
