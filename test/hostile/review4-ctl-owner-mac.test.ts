/**
 * review4: the owner MAC (sealed-secrets-ts.io/owner) is keyed with a MAC key derived from the
 * OLDEST loaded sealing key (controller/keys.ts: keys sorted ascending, keys[0]). Retiring that
 * key (the documented way to drop a compromised or old key), or importing a key whose certificate
 * is older, changes the MAC key: every Secret written with skip-set-owner-references then stops
 * verifying, and its SealedSecret fails with "already exists and is not managed by
 * SealedSecret" — the Secret is frozen at its old values while the SealedSecret changes, against
 * the design's promise that it "stays the controller's across ... key rotations".
 * Simulated here by the MAC key the reconciler is given changing as KeyRegistry's does.
 */
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { parsePrivateKeyPem, sealSecret, type SealedSecret } from '../../src/index.js';
import { vectorKeys } from '../vectors.js';
import { assembleController } from '../../controller/assemble.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';

const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
const key = parsePrivateKeyPem(vectorKeys()[0]!.privateKeyPem, 'k');
const log = createLogger({ level: 'error', format: 'json', write: () => {} });
let pool: UnsealPool;
beforeAll(async () => {
  pool = new UnsealPool({ filename: WORKER, workers: 1 });
  await pool.setKeys([{ ...key, orderingTime: 0 }]);
});
afterAll(() => pool.close());

const noOwner = (value: string): SealedSecret =>
  sealSecret({ metadata: { name: 'app', namespace: 'ns', annotations: { 'sealedsecrets.bitnami.com/skip-set-owner-references': 'true' } }, stringData: { v: value } }, { publicKey: key.publicKey });

describe('a skip-set-owner-references Secret', () => {
  it('stays the controller\'s when the oldest sealing key is retired (the MAC key changes)', async () => {
    const api = new MemoryApi();
    // KeyRegistry: macKey = HMAC(DER of keys[0], ...); keys[0] is the oldest key.
    let macKey = createHmac('sha256', 'oldest key').digest();
    const { controller } = assembleController({ api, pool, log, metrics: createMetrics('t'), macKey: () => macKey, reconciler: { maxUnsealRetries: 0 }, controller: { concurrency: 1 } });
    controller.startInformers();
    await controller.startWorkers();
    api.put('sealedsecrets', noOwner('v1') as never);
    await controller.idle();
    // The oldest key is retired: keys[0] is now the next one, and every SealedSecret is requeued.
    macKey = createHmac('sha256', 'next key').digest();
    controller.requeueAll('low');
    await controller.idle();
    api.put('sealedsecrets', noOwner('v2') as never);
    await controller.idle();
    const s = api.get('secrets', 'ns/app') as unknown as { data: Record<string, string> };
    const ss = api.get('sealedsecrets', 'ns/app') as unknown as SealedSecret;
    controller.stop();
    expect(ss.status?.conditions?.[0]?.message ?? '').not.toMatch(/not managed/);
    expect(Buffer.from(s.data['v']!, 'base64').toString()).toBe('v2');
  });
});
