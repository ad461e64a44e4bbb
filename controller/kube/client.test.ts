/** The REST client against a real HTTPS server: connections are reused, and a 401 makes it apply credentials again. */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from './kubeconfig.js';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSelfSignedCertificate, generateRsaKeyPair, privateKeyToPem } from '../../src/index.js';
import { ApiError, KubeClient } from './client.js';

let server: Server | undefined;
/** Requests to drop by closing their connection without an answer. */
let dropNext = 0;
let client: KubeClient | undefined;
afterEach(async () => {
  client?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = client = undefined;
});

async function start(acceptToken: () => string): Promise<{ url: string; handshakes: () => number; seen: string[] }> {
  const keys = await generateRsaKeyPair(2048);
  const cert = await buildSelfSignedCertificate({ ...keys, notBefore: new Date(), ttlMs: 3600_000, commonName: 'test' });
  let handshakes = 0;
  const seen: string[] = [];
  server = createServer({ key: privateKeyToPem(keys.privateKey), cert }, (req, res) => {
    if (dropNext > 0) {
      dropNext--;
      req.socket.destroy();
      return;
    }
    if (req.url?.includes('watch=true')) {
      // A watch: headers now, then the stream stays open.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('');
      return;
    }
    const auth = req.headers.authorization ?? '';
    seen.push(auth);
    if (auth !== `Bearer ${acceptToken()}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  });
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, handshakes: () => handshakes, seen };
}

function kubeconfig(url: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('KubeClient', () => {
  it('reuses one TLS connection for sequential requests instead of a handshake per request', async () => {
    const s = await start(() => 'tok');
    client = new KubeClient(kubeconfig(s.url, 'tok'), { qps: -1, burst: 1 });
    for (let i = 0; i < 50; i++) expect(await client.request({ method: 'GET', path: `/api/v1/x${i}` })).toEqual({ path: `/api/v1/x${i}` });
    expect(s.handshakes()).toBe(1);
    expect(client.agentsBuilt).toBe(1);
    expect(new Set(s.seen)).toEqual(new Set(['Bearer tok']));
  });

  it('after a 401 applies the credentials again and retries once', async () => {
    let current = 'old';
    const s = await start(() => current);
    const kc = kubeconfig(s.url, 'old');
    client = new KubeClient(kc, { qps: -1, burst: 1 });
    await client.request({ method: 'GET', path: '/a' });
    // The token is rotated: the server accepts only the new one, and the kubeconfig now holds it.
    current = 'new';
    (kc.users[0] as { token?: string }).token = 'new';
    expect(await client.request({ method: 'GET', path: '/b' })).toEqual({ path: '/b' });
    expect(s.seen.slice(-2)).toEqual(['Bearer old', 'Bearer new']);
    // A credential that stays wrong is reported, not retried forever.
    current = 'other';
    const e = await client.request({ method: 'GET', path: '/c' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(401);
    expect(s.seen.filter((h) => h === 'Bearer new').length).toBe(3);
  });

  it('a kept-alive connection that fails with no answer is retried once on a new connection', async () => {
    const s = await start(() => 'tok');
    client = new KubeClient(kubeconfig(s.url, 'tok'), { qps: -1, burst: 1 });
    await client.request({ method: 'GET', path: '/a' });
    // The pooled connection dies under the next request (as when the API server restarts).
    dropNext = 1;
    expect(await client.request({ method: 'POST', path: '/b', body: { x: 1 } })).toEqual({ path: '/b' });
    expect(s.handshakes()).toBe(2);
    // Twice in a row is a real failure, reported as one.
    await client.request({ method: 'GET', path: '/c' });
    dropNext = 2;
    const e = await client.request({ method: 'GET', path: '/d' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(0);
    dropNext = 0;
  });

  it('requests never queue behind open watches', async () => {
    const s = await start(() => 'tok');
    client = new KubeClient(kubeconfig(s.url, 'tok'), { qps: -1, burst: 1 });
    const ac = new AbortController();
    // More watches than any per-host socket cap would allow (each holds its connection for minutes).
    const watches = Array.from({ length: 40 }, (_, i) => client!.watch(`/api/v1/w${i}`, {}, () => undefined, ac.signal).catch(() => undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(await client.request({ method: 'GET', path: '/after-watches', timeoutMs: 2000 })).toEqual({ path: '/after-watches' });
    ac.abort();
    await Promise.all(watches);
  });
});
