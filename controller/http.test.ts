/** The controller's HTTP endpoints on a real server (port 0), with fakes for its narrow dependencies. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealedSecretsError, type SealedSecret } from '../src/index.js';
import { MAX_DEPTH, MAX_ITEMS, createMainServer, createMetricsServer, parseListenAddr, parseTrustedProxies, readiness, type HttpDeps } from './http.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';

let main: Server;
let metricsServer: Server;
let base: string;
let metricsBase: string;
const logs: string[] = [];
let ready = { ok: false, detail: 'no sealing key loaded yet' };
let deps: HttpDeps;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  deps = {
    certificatePem: () => '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    ready: () => ready,
    verify: async (ss: SealedSecret) => {
      if (ss.metadata.name !== 'good') throw new SealedSecretsError('ERR_DECRYPT', 'no key could decrypt secret (a)');
    },
    rotate: async (ss: SealedSecret) => ({ ...ss, spec: { encryptedData: { a: 'AgNEW' } } }),
    metrics: createMetrics('test'),
    log: createLogger({ level: 'debug', format: 'json', write: (l) => logs.push(l) }),
    rateLimit: 2,
    rateLimitBurst: 2,
    // This server stands behind a proxy on loopback, so X-Forwarded-For names the client
    // (the tests below give each case its own client); see 'the rate limit' for the rest.
    trustedProxies: ['127.0.0.1'],
    readTimeoutMs: 5000,
    writeTimeoutMs: 5000,
  };
  main = createMainServer(deps);
  metricsServer = createMetricsServer(deps);
  await new Promise<void>((r) => main.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => metricsServer.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(main.address() as AddressInfo).port}`;
  metricsBase = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
});
afterAll(() => {
  main.close();
  metricsServer.close();
});

const ss = (name: string) => JSON.stringify({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name, namespace: 'ns' }, spec: { encryptedData: { a: 'AgB' } } });
const post = (path: string, body: string, headers: Record<string, string> = {}) => fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('controller HTTP server', () => {
  it('serves /healthz, /v1/cert.pem, and /readyz that says what is missing', async () => {
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    const cert = await fetch(`${base}/v1/cert.pem`);
    expect(cert.headers.get('content-type')).toBe('application/x-pem-file');
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('not ready: no sealing key loaded yet\n');
    ready = { ok: true, detail: '1 keys' };
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('/v1/verify answers 200 or 409 and never echoes data; /v1/rotate returns the re-encrypted object', async () => {
    expect((await post('/v1/verify', ss('good'), { 'x-forwarded-for': '10.0.0.1' })).status).toBe(200);
    const bad = await post('/v1/verify', ss('bad'), { 'x-forwarded-for': '10.0.0.2' });
    expect(bad.status).toBe(409);
    expect(await bad.text()).toBe('SealedSecret ns/bad cannot be unsealed: no key could decrypt secret (a)\n');
    const rot = await post('/v1/rotate', ss('good'), { 'x-forwarded-for': '10.0.0.3' });
    expect(rot.status).toBe(200);
    expect((await rot.json()).spec.encryptedData.a).toBe('AgNEW');
  });

  it('takes the body as real curl sends it: -d and --data-binary (application/x-www-form-urlencoded), or with no Content-Type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'http-curl-'));
    const json = join(dir, 'good.json');
    writeFileSync(json, JSON.stringify(JSON.parse(ss('good')), null, 2));
    const yaml = join(dir, 'good.yaml');
    writeFileSync(yaml, 'apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: good\n  namespace: ns\nspec:\n  encryptedData:\n    a: AgB\n');
    const curl = (path: string, client: string, ...args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `X-Forwarded-For: ${client}`, ...args, `${base}${path}`], (e, out) => (e ? reject(e) : resolve(out))),
      );
    // -d strips newlines from @file: fine for JSON. --data-binary sends the file as it is (YAML).
    expect(await curl('/v1/verify', '10.2.0.1', '-d', `@${json}`)).toBe('200');
    expect(await curl('/v1/verify', '10.2.0.2', '--data-binary', `@${yaml}`)).toBe('200');
    expect(await curl('/v1/rotate', '10.2.0.3', '--data-binary', `@${json}`)).toBe('200');
    // curl -d with an explicit empty Content-Type header sends none.
    expect(await curl('/v1/verify', '10.2.0.4', '-H', 'Content-Type:', '--data-binary', `@${yaml}`)).toBe('200');
    expect(await curl('/v1/verify', '10.2.0.5', '-d', `@${json}`, '-H', 'Content-Type: image/png')).toBe('415');
  });

  it('rate-limits verify per client with 429, while other clients still pass', async () => {
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await post('/v1/verify', ss('good'), { 'x-forwarded-for': '10.9.9.9' })).status);
    expect(codes).toEqual([200, 200, 429, 429]);
    expect((await post('/v1/verify', ss('good'), { 'x-forwarded-for': '10.9.9.8' })).status).toBe(200);
  });

  it.each([
    ['a body over 2 MiB', () => post('/v1/verify', 'x'.repeat(2 * 1024 * 1024 + 1), { 'x-forwarded-for': '10.1.0.1' }), 413],
    ['garbage', () => post('/v1/verify', '{not json', { 'x-forwarded-for': '10.1.0.2' }), 400],
    ['a ConfigMap', () => post('/v1/verify', JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'x' } }), { 'x-forwarded-for': '10.1.0.3' }), 400],
    ['two YAML documents', () => post('/v1/verify', 'kind: SealedSecret\n---\nkind: SealedSecret\n', { 'content-type': 'application/yaml', 'x-forwarded-for': '10.1.0.4' }), 400],
    ['a wrong content type', () => post('/v1/verify', ss('good'), { 'content-type': 'image/png', 'x-forwarded-for': '10.1.0.5' }), 415],
    ['a wrong method', () => fetch(`${base}/v1/verify`), 405],
    ['an unknown path', () => fetch(`${base}/v1/secrets`), 404],
  ])('refuses %s with a 4xx', async (_what, call, status) => {
    const r = await call();
    expect(r.status).toBe(status);
    expect((await r.text()).endsWith('\n')).toBe(true);
  });

  it('counts requests in upstream metric names on the metrics server', async () => {
    const text = await (await fetch(`${metricsBase}/metrics`)).text();
    expect(text).toMatch(/sealed_secrets_controller_http_requests_total\{path="\/v1\/verify",code="429",method="POST"\} 2/);
    expect(text).toContain('sealed_secrets_controller_build_info{revision="test"} 1');
    expect(text).toContain('sealed_secrets_controller_unseal_errors_total{reason="unmanaged",namespace=""} 0');
  });

  it('parses upstream listen addresses', () => {
    expect(parseListenAddr(':8080')).toEqual({ host: undefined, port: 8080 });
    expect(parseListenAddr('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddr('[::1]:8081')).toEqual({ host: '::1', port: 8081 });
    expect(() => parseListenAddr('8080')).toThrow('invalid listen address "8080"');
  });
});

describe('the rate limit and the unseal slots of verify and rotate', () => {
  const servers: Server[] = [];
  const start = async (over: Partial<HttpDeps>) => {
    const s = createMainServer({ ...deps, metrics: createMetrics('t'), ...over });
    servers.push(s);
    return listen(s);
  };
  afterAll(() => {
    for (const s of servers) s.close();
  });
  const postTo = (b: string, path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(b + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('a client that makes up X-Forwarded-For addresses still has one bucket: without --trusted-proxies the socket peer is the client', async () => {
    const b = await start({ trustedProxies: [] });
    const codes = [];
    for (let i = 0; i < 12; i++) codes.push((await postTo(b, '/v1/verify', ss('good'), { 'x-forwarded-for': `203.0.113.${i}` })).status);
    expect(codes).toEqual([200, 200, ...Array(10).fill(429)]);
  });

  it('behind a trusted proxy, the client is the hop the proxy appended, not what the client wrote in front of it', async () => {
    // The proxy on 127.0.0.1 appends 198.51.100.7, the address it saw; the client wrote the rest.
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await post('/v1/rotate', ss('good'), { 'x-forwarded-for': `203.0.113.${i}, 10.${i}.0.1, 198.51.100.7` })).status);
    expect(codes).toEqual([200, 200, 429, 429, 429, 429]);
    // Trusted hops are skipped from the right: 127.0.0.2 (in --trusted-proxies) relayed for 198.51.100.7.
    const b = await start({ trustedProxies: ['127.0.0.0/8'] });
    const chained = [];
    for (let i = 0; i < 3; i++) chained.push((await postTo(b, '/v1/verify', ss('good'), { 'x-forwarded-for': `203.0.113.${i}, 198.51.100.7, 127.0.0.2` })).status);
    expect(chained).toEqual([200, 200, 429]);
    // Another client behind the same proxy has its own bucket.
    expect((await postTo(b, '/v1/verify', ss('good'), { 'x-forwarded-for': '198.51.100.8, 127.0.0.2' })).status).toBe(200);
  });

  it('refuses --trusted-proxies entries that are not addresses or CIDRs', () => {
    expect(() => parseTrustedProxies(['10.0.0.0/8', 'fd00::/8', '192.0.2.1', '::1'])).not.toThrow();
    for (const bad of ['10.0.0.0/33', 'proxy.example.com', '10.0.0.0/8/1', '']) expect(() => parseTrustedProxies([bad])).toThrow(/--trusted-proxies/);
  });

  it(`refuses a SealedSecret of more than ${MAX_ITEMS} items with 413, before any unseal work`, async () => {
    let calls = 0;
    const b = await start({ rateLimit: 0, verify: async () => void calls++, rotate: async (x) => (calls++, x) });
    const many = (n: number) => JSON.stringify({ kind: 'SealedSecret', metadata: { name: 'big', namespace: 'ns' }, spec: { encryptedData: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'AgB'])) } });
    for (const path of ['/v1/verify', '/v1/rotate']) {
      const r = await postTo(b, path, many(MAX_ITEMS + 1));
      expect(r.status).toBe(413);
      expect(await r.text()).toBe(`SealedSecret ns/big has ${MAX_ITEMS + 1} items in encryptedData; at most ${MAX_ITEMS} per request: split it\n`);
    }
    expect(calls).toBe(0);
    expect((await postTo(b, '/v1/verify', many(MAX_ITEMS))).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('refuses a body nested deeper than a SealedSecret can be with 400, before it reaches an unseal worker (whose thread it would kill)', async () => {
    let calls = 0;
    const b = await start({ rateLimit: 0, verify: async () => void calls++, rotate: async (x) => (calls++, x) });
    const deep = (n: number) => `{"kind":"SealedSecret","metadata":{"name":"deep","namespace":"ns"},"spec":{"encryptedData":{"a":"AgB"},"template":{"metadata":{"x":${'{"a":'.repeat(n)}{}${'}'.repeat(n)}}}}}`;
    for (const path of ['/v1/verify', '/v1/rotate']) {
      const r = await postTo(b, path, deep(10_000));
      expect(r.status).toBe(400);
      expect(await r.text()).toBe(`SealedSecret ns/deep is nested more than ${MAX_DEPTH} levels deep\n`);
    }
    expect(calls).toBe(0);
    expect((await postTo(b, '/v1/verify', deep(MAX_DEPTH - 6))).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('holds at most maxInFlight verify and rotate requests in the unseal pool; more get 429 with Retry-After at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let running = 0;
    let most = 0;
    const work = async () => {
      running++;
      most = Math.max(most, running);
      await gate;
      running--;
    };
    const b = await start({ rateLimit: 0, maxInFlight: 2, verify: work, rotate: async (x) => (await work(), x) });
    const held = [postTo(b, '/v1/verify', ss('good')), postTo(b, '/v1/rotate', ss('good'))];
    while (running < 2) await new Promise((r) => setTimeout(r, 5));
    const refused = await Promise.race([postTo(b, '/v1/verify', ss('good')), new Promise<'queued'>((r) => setTimeout(() => r('queued'), 2000))]);
    expect(refused, 'a third request waited for a slot instead of being refused').not.toBe('queued');
    const r = refused as Response;
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(await r.text()).toMatch(/busy/);
    release();
    expect((await Promise.all(held)).map((x) => x.status)).toEqual([200, 200]);
    expect(most).toBe(2);
    // Slots are given back, also after a failure.
    expect((await postTo(b, '/v1/verify', ss('bad'))).status).toBe(200);
  });
});

describe('/readyz', () => {
  it('names what is missing in fixed words, never the key store error text', () => {
    expect(readiness({ keys: 0, keyStoreFailing: true, cachesSynced: false, leader: true })).toEqual({ ok: false, detail: 'no sealing key loaded yet (key store unreachable, see logs); caches not synced yet' });
    expect(readiness({ keys: 2, keyStoreFailing: true, cachesSynced: true, leader: false })).toEqual({ ok: true, detail: '2 keys, leader=false; key store unreachable (see logs), serving from the 2 keys in memory' });
    expect(readiness({ keys: 2, keyStoreFailing: false, cachesSynced: true, leader: true })).toEqual({ ok: true, detail: '2 keys, leader=true' });
  });
});

describe('rate-limit buckets', () => {
  it('an IPv6 client gets one bucket per /64, an IPv4 client one per address', async () => {
    const { bucketKey } = await import('./http.js');
    expect(bucketKey('2001:db8:1:2:aaaa::1')).toBe(bucketKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(bucketKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(bucketKey('2001:db8:1:3::1')).not.toBe(bucketKey('2001:db8:1:2::1'));
    expect(bucketKey('::1')).toBe('0:0:0:0::/64');
    expect(bucketKey('10.0.0.1')).toBe('10.0.0.1');
    expect(bucketKey('10.0.0.2')).not.toBe(bucketKey('10.0.0.1'));
  });
});
