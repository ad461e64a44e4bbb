/**
 * review4 (hardening, pre-existing through text/plain): /v1/verify and /v1/rotate take bodies
 * labelled text/plain and now application/x-www-form-urlencoded, both of which a web page on any
 * origin may POST without a preflight. Behind the API server's service proxy a browser holds no
 * token, but behind `kubectl proxy` (localhost:8001, no CSRF protection, the user's credentials)
 * any page the user visits can drive RSA work here and drain the rate-limit bucket that every
 * proxied client shares (they all come from the API server's address). Responses are unreadable
 * cross-origin and nothing changes state, so this is hardening: a request a browser marks as
 * cross-site or same-site (Sec-Fetch-Site; kubeseal, kubectl and curl never send it) is refused
 * before any body is read or any token is taken.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SealedSecret } from '../../src/index.js';
import { createMainServer } from '../../controller/http.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';

let server: Server;
let base: string;
let verified = 0;
beforeAll(async () => {
  server = createMainServer({
    certificatePem: () => undefined,
    ready: () => ({ ok: true, detail: '' }),
    verify: async () => void verified++,
    rotate: async (ss: SealedSecret) => (verified++, ss),
    metrics: createMetrics('t'),
    log: createLogger({ level: 'error', format: 'json', write: () => {} }),
    rateLimit: 100,
    rateLimitBurst: 100,
    readTimeoutMs: 5000,
    writeTimeoutMs: 5000,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const body = JSON.stringify({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'x', namespace: 'ns' }, spec: { encryptedData: { a: 'AgB' } } });

describe('a cross-site browser POST (a form on another origin, through kubectl proxy)', () => {
  it.each(['/v1/verify', '/v1/rotate'])('%s is refused before any work', async (path) => {
    const before = verified;
    const r = await fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', origin: 'https://evil.example' } });
    expect(r.status).toBe(403);
    expect(verified).toBe(before);
  });

  it('what kubeseal, kubectl and curl send (no Sec-Fetch-Site) and a same-origin page still work', async () => {
    expect((await fetch(base + '/v1/verify', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(200);
    expect((await fetch(base + '/v1/verify', { method: 'POST', body, headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
  });
});
