/**
 * Hostile SealedSecrets for the controller and its HTTP endpoints: the shared core
 * throws only coded errors that echo nothing; the real reconciler (real worker pool,
 * in-memory API) gives every broken object Synced=False with a message, leaves
 * existing Secrets untouched and keeps unsealing good objects; the HTTP server
 * answers garbage with a 4xx.
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createMainServer } from '../../controller/http.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import type { KubeApi, KubeRequest } from '../../controller/kube/client.js';
import { ANNOTATION_MANAGED, KeyRing, SealedSecretsError, parsePrivateKeyPem, sealSecret, unsealSealedSecret, type SealedSecret, type SealedSecretStatus } from '../../src/index.js';
import { vectorKeys } from '../vectors.js';
import { MARKER, brokenSealedSecret, junk } from './generators.js';

const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
const key = parsePrivateKeyPem(vectorKeys()[0]!.privateKeyPem, 'k');
const ring = new KeyRing();
ring.add(key.privateKey, key.publicKey);
const good = (name: string, ns = 'fuzz') => sealSecret({ metadata: { name, namespace: ns }, stringData: { v: `value-of-${name}` } }, { publicKey: key.publicKey });
const validBlob = good('x', 'y').spec.encryptedData['v']!;
const logs: string[] = [];
const log = createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) });
let pool: UnsealPool;
const counted = { core: 0, reconciled: 0, http: 0 };

beforeAll(async () => {
  pool = new UnsealPool({ filename: WORKER, workers: 2 });
  await pool.setKeys([{ ...key, orderingTime: 0 }]);
});
afterAll(async () => {
  await pool.close();
  console.log(`hostile controller cases run: core ${counted.core}, reconciled ${counted.reconciled}, HTTP ${counted.http}`);
});

describe('the controller with hostile SealedSecrets', () => {
  it('the core throws only coded errors, naming no secret, for 3000 broken SealedSecrets', () => {
    fc.assert(
      fc.property(brokenSealedSecret(validBlob), (ss) => {
        counted.core++;
        try {
          unsealSealedSecret(ss as SealedSecret, ring);
        } catch (e) {
          expect(e).toBeInstanceOf(SealedSecretsError);
          const text = `${(e as SealedSecretsError).message} ${(e as SealedSecretsError).hint ?? ''}`;
          expect(text.includes(MARKER)).toBe(false);
          expect(text).not.toMatch(/value-of-/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reconciles 600 broken objects to Synced=False, changes no existing Secret, and keeps unsealing good ones', async () => {
    const api = new MemoryApi();
    const victims: string[] = [];
    const samples = fc.sample(brokenSealedSecret(validBlob), { numRuns: 600, seed: 42 });
    samples.forEach((raw, i) => {
      // What the API server admits: valid metadata, a spec object (the CRD keeps encryptedData open).
      const ss = { ...(raw as object), apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: `broken-${i}`, namespace: 'fuzz' } } as SealedSecret;
      if (!ss.spec || typeof ss.spec !== 'object' || Array.isArray(ss.spec)) ss.spec = { encryptedData: {} };
      if (i % 3 === 0) {
        api.put('secrets', { metadata: { name: `broken-${i}`, namespace: 'fuzz' }, data: { keep: Buffer.from('theirs').toString('base64') } } as never);
        victims.push(`fuzz/broken-${i}`);
      }
      api.put('sealedsecrets', ss as never);
    });
    for (let i = 0; i < 20; i++) api.put('sealedsecrets', good(`good-${i}`) as never);
    const before = new Map(victims.map((v) => [v, JSON.stringify(api.get('secrets', v))]));
    const macKey = createHmac('sha256', 'k').digest();
    const { controller } = assembleController({ api, pool, log, metrics: createMetrics('fuzz'), macKey: () => macKey, reconciler: { maxUnsealRetries: 1 }, controller: { concurrency: 8 } });
    controller.startInformers();
    await controller.startWorkers();
    const deadline = Date.now() + 120_000;
    while ([...Array(20).keys()].some((i) => !api.get('secrets', `fuzz/good-${i}`)) || (controller.outcomes.get('failed') ?? 0) + (controller.outcomes.get('synced') ?? 0) + (controller.outcomes.get('retry-limited') ?? 0) < 600) {
      if (Date.now() > deadline) throw new Error('the controller did not get through the broken objects');
      await new Promise((r) => setTimeout(r, 20));
    }
    await controller.idle();
    controller.stop();
    counted.reconciled += 620;
    for (let i = 0; i < 20; i++) expect(Buffer.from((api.get('secrets', `fuzz/good-${i}`) as unknown as { data: { v: string } }).data.v, 'base64').toString()).toBe(`value-of-good-${i}`);
    for (const v of victims) expect(JSON.stringify(api.get('secrets', v))).toBe(before.get(v));
    // Every object ends with a status a GitOps tool can read: Synced=False with a message, or
    // Synced=True when the generator happened to leave it valid (e.g. empty encryptedData).
    let falses = 0;
    for (let i = 0; i < 600; i++) {
      const ss = api.get('sealedsecrets', `fuzz/broken-${i}`) as unknown as SealedSecret;
      const c = ss.status?.conditions?.[0];
      expect(c, `fuzz/broken-${i} has no status`).toBeDefined();
      if (c!.status === 'False') {
        falses++;
        expect(c!.message ?? '').not.toBe('');
        expect(c!.message ?? '').not.toContain(MARKER);
      } else {
        expect(c!.status).toBe('True');
      }
    }
    console.log(`reconciled broken objects: ${falses} Synced=False, ${600 - falses} Synced=True`);
    expect(falses).toBeGreaterThan(100);
    expect(logs.join('\n')).not.toContain(MARKER);
    expect(logs.join('\n')).not.toMatch(/value-of-/);
  }, 180_000);

  it('a SealedSecret whose template.metadata is nested 10,000 deep gets Synced=False with a clear message; the controller keeps running and unsealing others', async () => {
    // The CRD keeps template.metadata's unknown fields and the API server admits JSON nested
    // 10,000 deep; the client decodes it with JSON.parse. structuredClone and JSON.stringify
    // overflow on such an object, so it is served here as decoded text, the way the client
    // would hand it over, and its status writes are recorded.
    const depth = 10_000;
    const deepText = `{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"deep","namespace":"fuzz","uid":"uid-deep","resourceVersion":"1","generation":1},"spec":{"encryptedData":{"v":"${validBlob}"},"template":{"metadata":{"labels":{"app":"x"},"x":${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}}}}}`;
    const api = new MemoryApi();
    let deepStatus: SealedSecretStatus | undefined;
    const hostile: KubeApi = {
      async request<T>(req: KubeRequest): Promise<T> {
        if (req.method === 'GET' && /\/sealedsecrets$/.test(req.path)) {
          const r = await api.request<{ items: unknown[] }>(req);
          r.items.push(JSON.parse(deepText));
          return r as T;
        }
        if (req.method === 'PUT' && req.path.endsWith('/sealedsecrets/deep/status')) {
          deepStatus = (req.body as { status: SealedSecretStatus }).status;
          return {} as T;
        }
        return api.request<T>(req);
      },
      watch: (path, query, onEvent, signal) => api.watch(path, query, onEvent, signal),
    };
    for (let i = 0; i < 5; i++) api.put('sealedsecrets', good(`deep-neighbour-${i}`) as never);
    const macKey = createHmac('sha256', 'k').digest();
    const seen = logs.length;
    const { controller } = assembleController({ api: hostile, pool, log, metrics: createMetrics('deep'), macKey: () => macKey, reconciler: { maxUnsealRetries: 1 }, controller: { concurrency: 4 } });
    controller.startInformers();
    await controller.startWorkers();
    const waitFor = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await waitFor('the status of fuzz/deep', () => deepStatus !== undefined);
      expect(deepStatus!.conditions![0]).toMatchObject({ type: 'Synced', status: 'False', message: 'SealedSecret fuzz/deep is nested more than 100 levels deep' });
      // A Secret of the same name that the controller may take over: its watch handler meets the
      // deep SealedSecret too, and must neither throw nor stop the Secret watch.
      expect(() => api.put('secrets', { metadata: { name: 'deep', namespace: 'fuzz', annotations: { [ANNOTATION_MANAGED]: 'true' } }, data: { keep: Buffer.from('theirs').toString('base64') } } as never)).not.toThrow();
      api.put('sealedsecrets', good('deep-late') as never);
      await waitFor('the neighbours to be unsealed', () => [0, 1, 2, 3, 4].every((i) => api.get('secrets', `fuzz/deep-neighbour-${i}`)) && Boolean(api.get('secrets', 'fuzz/deep-late')));
      await controller.idle();
      // The Secret watch still works: a hand-deleted Secret is restored.
      await api.request({ method: 'DELETE', path: '/api/v1/namespaces/fuzz/secrets/deep-late' });
      await waitFor('fuzz/deep-late to be restored', () => Boolean(api.get('secrets', 'fuzz/deep-late')));
      await controller.idle();
    } finally {
      controller.stop();
    }
    expect(Buffer.from((api.get('secrets', 'fuzz/deep-late') as unknown as { data: { v: string } }).data.v, 'base64').toString()).toBe('value-of-deep-late');
    expect((api.get('secrets', 'fuzz/deep') as unknown as { data: Record<string, string> }).data).toEqual({ keep: Buffer.from('theirs').toString('base64') });
    const mine = logs.slice(seen).join('\n');
    expect(mine).not.toMatch(/failed unexpectedly|handler failed|Maximum call stack/);
  }, 60_000);

  it('the HTTP server answers 1000 garbage requests with a 4xx and echoes nothing', async () => {
    const server = createMainServer({
      certificatePem: () => 'cert',
      ready: () => ({ ok: true, detail: 'ok' }),
      verify: (ss) => pool.verify(ss),
      rotate: (ss) => pool.reencrypt(ss),
      metrics: createMetrics('fuzz-http'),
      log,
      rateLimit: 0,
      rateLimitBurst: 0,
      readTimeoutMs: 5000,
      writeTimeoutMs: 5000,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/v1/verify', '/v1/rotate', '/v1/cert.pem', '/healthz', '/nope', '/v1/verify?x=1'),
          fc.constantFrom('POST', 'GET', 'PUT', 'DELETE'),
          fc.constantFrom('application/json', 'application/yaml', 'text/plain', 'image/png', ''),
          fc.oneof(brokenSealedSecret(validBlob).map((o) => JSON.stringify(o) ?? ''), junk.map((o) => JSON.stringify(o) ?? ''), fc.string(), fc.constant(`kind: SealedSecret\nmetadata: [${MARKER}`)),
          async (path, method, type, body) => {
            counted.http++;
            const r = await fetch(base + path, { method, headers: type ? { 'content-type': type } : {}, body: method === 'GET' ? undefined : body });
            const text = await r.text();
            expect(r.status, `${method} ${path} -> ${r.status} ${text}`).toBeLessThan(500);
            expect(text.includes(MARKER)).toBe(false);
          },
        ),
        { numRuns: 1000 },
      );
    } finally {
      server.close();
    }
  }, 180_000);
});
