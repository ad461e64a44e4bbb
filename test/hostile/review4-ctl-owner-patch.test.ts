/**
 * review4: the owner MAC is written on EVERY Secret the controller writes, including someone
 * else's Secret it only merges into (sealedsecrets.bitnami.com/patch: "true", whose
 * ownerReferences it leaves alone: not the controller's). When its owner drops the patch
 * annotation to stop the merging (or a `kubectl apply`/Helm upgrade of a manifest without it
 * removes it, keeping the annotations the controller added), the owner MAC still verifies:
 * the controller takes the Secret over and replaces its whole data with the SealedSecret's,
 * deleting the owner's own keys. Before the change, dropping the annotation made the Secret
 * "not managed" and left it alone.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { ANNOTATION_PATCH, parsePrivateKeyPem, sealSecret, type SealedSecret } from '../../src/index.js';
import { vectorKeys } from '../vectors.js';
import { createHmac } from 'node:crypto';
import { assembleController } from '../../controller/assemble.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';

const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
const key = parsePrivateKeyPem(vectorKeys()[0]!.privateKeyPem, 'k');
const macKey = createHmac('sha256', 'k').digest();
const log = createLogger({ level: 'error', format: 'json', write: () => {} });
let pool: UnsealPool;
beforeAll(async () => {
  pool = new UnsealPool({ filename: WORKER, workers: 1 });
  await pool.setKeys([{ ...key, orderingTime: 0 }]);
});
afterAll(() => pool.close());

const b64 = (s: string) => Buffer.from(s).toString('base64');
const sealed = (v: string): SealedSecret => sealSecret({ metadata: { name: 'app', namespace: 'ns' }, stringData: { v } }, { publicKey: key.publicKey });

describe('a Secret the controller only patched', () => {
  it('is left alone, its own keys kept, once the patch annotation is removed', async () => {
    const api = new MemoryApi();
    const { controller } = assembleController({ api, pool, log, metrics: createMetrics('t'), macKey: () => macKey, reconciler: { maxUnsealRetries: 0 }, controller: { concurrency: 1 } });
    controller.startInformers();
    await controller.startWorkers();
    // Helm's (say) Secret, with its own key, opened to merging.
    api.put('secrets', { metadata: { name: 'app', namespace: 'ns', annotations: { [ANNOTATION_PATCH]: 'true', 'meta.helm.sh/release-name': 'app' } }, data: { own: b64('helm-owned') } } as never);
    api.put('sealedsecrets', sealed('v1') as never);
    await controller.idle();
    const merged = api.get('secrets', 'ns/app') as unknown as { metadata: { annotations: Record<string, string> }; data: Record<string, string> };
    expect(Object.keys(merged.data).sort()).toEqual(['own', 'v']);
    // Its owner stops the merging: the patch annotation goes, the rest stays (as kubectl apply does).
    const ann = { ...merged.metadata.annotations };
    delete ann[ANNOTATION_PATCH];
    api.put('secrets', { ...merged, metadata: { ...merged.metadata, annotations: ann } } as never);
    await controller.idle();
    api.put('sealedsecrets', sealed('v2') as never);
    await controller.idle();
    const after = api.get('secrets', 'ns/app') as unknown as { data: Record<string, string> };
    controller.stop();
    expect(after.data['own'], 'the owner\'s key was deleted by a takeover').toBe(b64('helm-owned'));
    expect(Buffer.from(after.data['v'] ?? '', 'base64').toString()).toBe('v1');
  });

  it('is not taken over through its content MAC either (an operator\'s Secret holding only the sealed keys)', async () => {
    const api = new MemoryApi();
    const { controller } = assembleController({ api, pool, log, metrics: createMetrics('t'), macKey: () => macKey, reconciler: { maxUnsealRetries: 0 }, controller: { concurrency: 1 } });
    controller.startInformers();
    await controller.startWorkers();
    // An operator's empty Secret, owned by its custom resource, opened to merging.
    const operatorRef = { apiVersion: 'example.com/v1', kind: 'Database', name: 'db', uid: 'uid-of-db', controller: true };
    api.put('secrets', { metadata: { name: 'app', namespace: 'ns', annotations: { [ANNOTATION_PATCH]: 'true' }, ownerReferences: [operatorRef] }, data: {} } as never);
    api.put('sealedsecrets', sealed('v1') as never);
    await controller.idle();
    const merged = api.get('secrets', 'ns/app') as unknown as { metadata: { annotations: Record<string, string>; ownerReferences: unknown[] }; data: Record<string, string> };
    expect(merged.metadata.ownerReferences).toEqual([operatorRef]);
    const ann = { ...merged.metadata.annotations };
    delete ann[ANNOTATION_PATCH];
    api.put('secrets', { ...merged, metadata: { ...merged.metadata, annotations: ann } } as never);
    await controller.idle();
    api.put('sealedsecrets', sealed('v2') as never);
    await controller.idle();
    const after = api.get('secrets', 'ns/app') as unknown as { metadata: { ownerReferences: unknown[] }; data: Record<string, string> };
    const ss = api.get('sealedsecrets', 'ns/app') as unknown as SealedSecret;
    controller.stop();
    // Taken over, it would carry the SealedSecret's ownerReference instead of the operator's (and go with the SealedSecret).
    expect(after.metadata.ownerReferences).toEqual([operatorRef]);
    expect(ss.status?.conditions?.[0]?.message ?? '').toMatch(/not managed/);
  });
});
