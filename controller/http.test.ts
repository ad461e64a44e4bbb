/** The controller's HTTP endpoints on a real server (port 0), with fakes for its narrow dependencies. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealedSecretsError, type SealedSecret } from '../src/index.js';
import { createMainServer, createMetricsServer, parseListenAddr, type HttpDeps } from './http.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';

let main: Server;
let metricsServer: Server;
let base: string;
let metricsBase: string;
const logs: string[] = [];
let ready = { ok: false, detail: 'no sealing key loaded yet' };

beforeAll(async () => {
  const deps: HttpDeps = {
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
