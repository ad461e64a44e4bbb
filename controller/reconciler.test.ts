/**
 * The reconciler's 'gone' path and canonical(), with the real control loop, the real
 * unseal pool (dist/unseal-worker.cjs) and the in-memory API: condition_info series go with
 * their SealedSecret, and --old-gc-behavior deletes only a Secret the deleted SealedSecret
 * controls.
 */
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryApi } from '../bench/memory-api.js';
import { ANNOTATION_MANAGED, ANNOTATION_PATCH, SealedSecretsError, parsePrivateKeyPem, sealSecret, type SealedSecret } from '../src/index.js';
import { vectorKeys } from '../test/vectors.js';
import { assembleController } from './assemble.js';
import { Informer } from './kube/informer.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';
import type { KubeApi, KubeRequest } from './kube/client.js';
import { ANNOTATION_OWNER, MAX_CANONICAL_DEPTH, canonical, desiredConditions, statusChanged } from './reconciler.js';
import { UnsealPool } from './unseal-pool.js';

const WORKER = fileURLToPath(new URL('../dist/unseal-worker.cjs', import.meta.url));
const key = parsePrivateKeyPem(vectorKeys()[0]!.privateKeyPem, 'k');
const macKey = createHmac('sha256', 'k').digest();
const log = createLogger({ level: 'error', format: 'json', write: () => {} });
let pool: UnsealPool;

beforeAll(async () => {
  pool = new UnsealPool({ filename: WORKER, workers: 1 });
  await pool.setKeys([{ ...key, orderingTime: 0 }]);
});
afterAll(() => pool.close());

const sealed = (name: string, labels?: Record<string, string>): SealedSecret => {
  const ss = sealSecret({ metadata: { name, namespace: 'ns' }, stringData: { v: `value-of-${name}` } }, { publicKey: key.publicKey });
  return labels ? { ...ss, metadata: { ...ss.metadata, labels } } : ss;
};
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function running(oldGcBehavior: boolean) {
  const api = new MemoryApi();
  const metrics = createMetrics('t');
  const { controller } = assembleController({ api, pool, log, metrics, macKey: () => macKey, reconciler: { oldGcBehavior, maxUnsealRetries: 0 }, controller: { concurrency: 4 } });
  controller.startInformers();
  await controller.startWorkers();
  const del = (kind: 'sealedsecrets', name: string) => api.request({ method: 'DELETE', path: `/apis/bitnami.com/v1alpha1/namespaces/ns/${kind}/${name}` });
  return { api, metrics, controller, del, series: async () => (await metrics.registry.getSingleMetricAsString('sealed_secrets_controller_condition_info')).split('\n').filter((l) => !l.startsWith('#') && l) };
}

describe('a deleted SealedSecret', () => {
  it('takes its condition_info series with it', async () => {
    const { api, controller, del, series } = await running(false);
    api.put('sealedsecrets', sealed('a', { 'app.kubernetes.io/instance': 'shop' }) as never);
    api.put('sealedsecrets', sealed('b') as never);
    await controller.idle();
    expect(await series()).toEqual([
      'sealed_secrets_controller_condition_info{namespace="ns",name="a",condition="Synced",ss_app_kubernetes_io_instance="shop"} 1',
      'sealed_secrets_controller_condition_info{namespace="ns",name="b",condition="Synced",ss_app_kubernetes_io_instance=""} 1',
    ]);
    await del('sealedsecrets', 'a');
    await controller.idle();
    expect(await series()).toEqual(['sealed_secrets_controller_condition_info{namespace="ns",name="b",condition="Synced",ss_app_kubernetes_io_instance=""} 1']);
    controller.stop();
  });

  it('with --old-gc-behavior deletes only a Secret it controls: a same-named Secret of someone else, or one it only patched, is kept', async () => {
    const { api, controller, del } = await running(true);
    // Someone else's Secret, and one held by an earlier SealedSecret of the same name.
    api.put('secrets', { metadata: { name: 'theirs', namespace: 'ns' }, data: { keep: b64('theirs') } } as never);
    api.put('secrets', { metadata: { name: 'stale-owner', namespace: 'ns', ownerReferences: [{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: 'stale-owner', uid: 'uid-of-an-older-one', controller: true }] }, data: { keep: b64('x') } } as never);
    // Taken over (managed: ownerReferences replaced) and merged into (patch only: ownerReferences kept).
    api.put('secrets', { metadata: { name: 'managed', namespace: 'ns', annotations: { [ANNOTATION_MANAGED]: 'true' } }, data: { old: b64('x') } } as never);
    api.put('secrets', { metadata: { name: 'patched', namespace: 'ns', annotations: { [ANNOTATION_PATCH]: 'true' } }, data: { keep: b64('theirs') } } as never);
    for (const n of ['owned', 'theirs', 'stale-owner', 'managed', 'patched']) api.put('sealedsecrets', sealed(n) as never);
    await controller.idle();
    expect(api.get('secrets', 'ns/owned')).toBeDefined();
    expect(api.get('secrets', 'ns/managed')!['metadata']['ownerReferences']).toHaveLength(1);
    expect(Buffer.from((api.get('secrets', 'ns/patched') as unknown as { data: Record<string, string> }).data['v']!, 'base64').toString()).toBe('value-of-patched');
    const kept = ['theirs', 'stale-owner', 'patched'].map((n) => [n, JSON.stringify(api.get('secrets', `ns/${n}`))]);
    for (const n of ['owned', 'theirs', 'stale-owner', 'managed', 'patched']) await del('sealedsecrets', n);
    await controller.idle();
    expect(api.get('secrets', 'ns/owned')).toBeUndefined();
    expect(api.get('secrets', 'ns/managed')).toBeUndefined();
    for (const [n, before] of kept) expect(JSON.stringify(api.get('secrets', `ns/${n}`)), `Secret ns/${n}`).toBe(before);
    controller.stop();
  });
});

describe('canonical()', () => {
  const nested = (depth: number) => {
    const root: Record<string, unknown> = {};
    let o = root;
    for (let i = 1; i < depth; i++) o = (o['a'] = {}) as Record<string, unknown>;
    return root;
  };

  it(`sorts keys, and refuses objects nested more than ${MAX_CANONICAL_DEPTH} deep with a coded error naming the object instead of overflowing the stack`, () => {
    expect(canonical({ b: [1, { d: undefined, c: 'x' }], a: null })).toBe('{"a":null,"b":[1,{"c":"x"}]}');
    expect(() => canonical(nested(MAX_CANONICAL_DEPTH))).not.toThrow();
    for (const depth of [MAX_CANONICAL_DEPTH + 1, 10_000]) {
      const e = (() => {
        try {
          canonical(nested(depth), 'SealedSecret ns/deep');
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(SealedSecretsError);
      expect((e as SealedSecretsError).code).toBe('ERR_INVALID_INPUT');
      expect((e as SealedSecretsError).message).toBe(`SealedSecret ns/deep is nested more than ${MAX_CANONICAL_DEPTH} levels deep`);
    }
  });
});

describe('the informer', () => {
  it('goes on delivering events and keeps its cache after a handler throws', async () => {
    const api = new MemoryApi();
    const failures: string[] = [];
    const inf = new Informer(api, { path: '/api/v1/secrets', onHandlerError: (_e, event, key) => failures.push(`${event} ${key}`) });
    const seen: string[] = [];
    inf.on({
      add: (o) => {
        if (o.metadata.name === 'bad') throw new RangeError('Maximum call stack size exceeded');
        seen.push(o.metadata.name!);
      },
    });
    inf.start();
    await inf.synced;
    expect(() => api.put('secrets', { metadata: { name: 'bad', namespace: 'ns' } } as never)).not.toThrow();
    api.put('secrets', { metadata: { name: 'good', namespace: 'ns' } } as never);
    expect(seen).toEqual(['good']);
    expect(failures).toEqual(['add ns/bad']);
    expect([...inf.cache.keys()].sort()).toEqual(['ns/bad', 'ns/good']);
    inf.stop();
  });
});

describe('status, written as upstream (update on the status subresource)', () => {
  it('on a conflict re-reads the SealedSecret and writes on top of what is there, keeping conditions of others', async () => {
    const api = new MemoryApi();
    let conflicted = 0;
    const racing: KubeApi = {
      async request<T>(req: KubeRequest): Promise<T> {
        if (req.method === 'PUT' && req.path.endsWith('/sealedsecrets/raced/status') && conflicted === 0) {
          conflicted++;
          // Someone else writes in between: a label, and a condition of their own.
          const o = api.get('sealedsecrets', 'ns/raced')!;
          await api.request({ method: 'PATCH', path: '/apis/bitnami.com/v1alpha1/namespaces/ns/sealedsecrets/raced', body: { metadata: { ...o.metadata, labels: { team: 'x' } } } });
          await api.request({ method: 'PATCH', path: '/apis/bitnami.com/v1alpha1/namespaces/ns/sealedsecrets/raced/status', body: { status: { conditions: [{ type: 'PolicyChecked', status: 'True' }] } } });
        }
        return api.request<T>(req);
      },
      watch: (p, q, on, s) => api.watch(p, q, on, s),
    };
    const { controller } = assembleController({ api: racing, pool, log, metrics: createMetrics('t'), macKey: () => macKey, controller: { concurrency: 1 } });
    api.put('sealedsecrets', sealed('raced') as never);
    controller.startInformers();
    await controller.startWorkers();
    await controller.idle();
    controller.stop();
    expect(conflicted).toBe(1);
    const st = (api.get('sealedsecrets', 'ns/raced') as unknown as SealedSecret).status!;
    expect(st.observedGeneration).toBe(1);
    expect(st.conditions!.map((c) => `${c.type}=${c.status}`)).toEqual(['Synced=True', 'Ready=True', 'PolicyChecked=True']);
  });

  it('Ready follows Synced; a failure that waits for a change is Stalled, one that is retried is Reconciling; times are kept while the status holds', () => {
    const fail = { ok: false, reason: 'ErrUnsealFailed', message: 'no key could decrypt secret (v)', stalled: true };
    const a = desiredConditions(undefined, fail, '2026-12-01T00:00:00Z');
    expect(a.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`)).toEqual([
      'Synced=False ErrUnsealFailed: no key could decrypt secret (v)',
      'Ready=False ErrUnsealFailed: no key could decrypt secret (v)',
      'Stalled=True ErrUnsealFailed: no key could decrypt secret (v)',
    ]);
    const retried = desiredConditions(a, { ...fail, stalled: false }, '2026-12-01T00:01:00Z');
    expect(retried.map((c) => `${c.type}=${c.status}`)).toEqual(['Synced=False', 'Ready=False', 'Reconciling=True']);
    expect(retried[0]!.lastTransitionTime).toBe('2026-12-01T00:00:00Z');
    const ok = desiredConditions(retried, { ok: true, reason: 'Unsealed', message: '', stalled: false }, '2026-12-01T00:02:00Z');
    expect(ok.map((c) => `${c.type}=${c.status} ${c.message ?? '(no message)'}`)).toEqual(['Synced=True (no message)', 'Ready=True (no message)']);
    expect(ok[1]!.lastTransitionTime).toBe('2026-12-01T00:02:00Z');
    const ss = { metadata: { generation: 2 }, status: { observedGeneration: 2, conditions: ok } } as unknown as SealedSecret;
    expect(statusChanged(ss, { ok: true, reason: 'Unsealed', message: '', stalled: false })).toBe(false);
    expect(statusChanged({ ...ss, metadata: { generation: 3 } } as SealedSecret, { ok: true, reason: 'Unsealed', message: '', stalled: false })).toBe(true);
    expect(statusChanged(ss, fail)).toBe(true);
  });
});

describe('a Secret written with skip-set-owner-references', () => {
  const noOwner = (name: string, value: string): SealedSecret => {
    const ss = sealSecret({ metadata: { name, namespace: 'ns', annotations: { 'sealedsecrets.bitnami.com/skip-set-owner-references': 'true' } }, stringData: { v: value } }, { publicKey: key.publicKey });
    return ss;
  };
  const value = (api: MemoryApi, name: string) => Buffer.from((api.get('secrets', `ns/${name}`) as unknown as { data: Record<string, string> }).data['v']!, 'base64').toString();

  it('stays the controller\'s across updates and a restart (owner MAC bound to namespace, name and uid); copied annotations on another Secret do not make it the controller\'s', async () => {
    const api = new MemoryApi();
    const start = async () => {
      const c = assembleController({ api, pool, log, metrics: createMetrics('t'), macKey: () => macKey, reconciler: { maxUnsealRetries: 0 }, controller: { concurrency: 2 } });
      c.controller.startInformers();
      await c.controller.startWorkers();
      return c.controller;
    };
    let controller = await start();
    api.put('sealedsecrets', noOwner('mine', 'v1') as never);
    await controller.idle();
    const mine = api.get('secrets', 'ns/mine')!;
    expect(mine.metadata['ownerReferences']).toBeUndefined();
    expect((mine.metadata['annotations'] as Record<string, string>)[ANNOTATION_OWNER]).toMatch(/^[\w-]{43}$/);
    // The same annotations, copied onto a Secret of someone else's with another name.
    api.put('secrets', { metadata: { name: 'copy', namespace: 'ns', annotations: { ...(mine.metadata['annotations'] as Record<string, string>) } }, data: { v: b64('theirs') } } as never);
    api.put('sealedsecrets', noOwner('copy', 'x') as never);
    api.put('sealedsecrets', noOwner('mine', 'v2') as never);
    await controller.idle();
    expect(value(api, 'mine')).toBe('v2');
    expect(value(api, 'copy')).toBe('theirs');
    expect((api.get('sealedsecrets', 'ns/copy') as unknown as SealedSecret).status?.conditions?.[0]?.message).toBe('failed update: Resource "copy" already exists and is not managed by SealedSecret');
    controller.stop();
    // A restart, then another update: still the controller's.
    controller = await start();
    await controller.idle();
    api.put('sealedsecrets', noOwner('mine', 'v3') as never);
    await controller.idle();
    expect(value(api, 'mine')).toBe('v3');
    expect((api.get('sealedsecrets', 'ns/mine') as unknown as SealedSecret).status?.conditions?.[0]?.status).toBe('True');
    // Recreated (a new uid): the old Secret is not taken by the new object without the managed annotation.
    await api.request({ method: 'DELETE', path: '/apis/bitnami.com/v1alpha1/namespaces/ns/sealedsecrets/mine' });
    await controller.idle();
    api.put('sealedsecrets', noOwner('mine', 'v4') as never);
    await controller.idle();
    expect(value(api, 'mine')).toBe('v3');
    expect((api.get('sealedsecrets', 'ns/mine') as unknown as SealedSecret).status?.conditions?.[0]?.message).toMatch(/^failed update: Resource "mine" already exists and is not managed by SealedSecret/);
    controller.stop();
  });
});
