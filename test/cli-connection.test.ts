/**
 * kubeseal's connection to the API server, as kubectl's flags and client-go's rules make it,
 * with the built binary against a real HTTPS server that plays the API server's service proxy
 * and records what each request carried (credentials, impersonation headers, the client
 * certificate, the SNI name), and a real CONNECT proxy that records what it was asked.
 * The real API server runs the same flags in test/e2e/kubeseal-cluster.test.ts (up to its service
 * proxy) and test/e2e/node/node.test.ts (to the controller Pod).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyFor } from '../cli/proxy.js';
import { kubeseal, tempDir } from './cli-helpers.js';
import { startConnectProxy, type ConnectProxy } from './connect-proxy.js';
import { vectorKeys } from './vectors.js';

const controllerCert = vectorKeys()[0]!.certPem;
const TOKEN = 'tok-9f8a7c6e5d4b3a21-secret';
/** The machine's own non-loopback address: Go (and kubeseal) never proxy loopback. */
const hostIp = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  sni: string | false | null | undefined;
  clientCn: string | undefined;
}

let dir: string;
let ca: string;
let api: import('node:https').Server;
let plain: Server;
let proxy: ConnectProxy;
let apiPort: number;
let plainPort: number;
let proxyPort: number;
const seen: Seen[] = [];
let proxied: ConnectProxy['seen'] = [];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** The fake API server: the controller Service and its proxied /v1/cert.pem, as the real API server answers them. */
function handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  const sock = req.socket as TLSSocket;
  const peer = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
  seen.push({ method: req.method!, url: req.url!, headers: req.headers, sni: sock.servername, clientCn: peer && 'subject' in peer ? (peer.subject?.CN as string | undefined) : undefined });
  const url = decodeURIComponent(req.url ?? '');
  if (url.includes('/services/slow')) return; // never answers
  if (url === '/api/v1/namespaces/kube-system/services/sealed-secrets-controller') {
    res.setHeader('content-type', 'application/json');
    return void res.end(JSON.stringify({ kind: 'Service', spec: { ports: [{ name: 'http', port: 8080 }] } }));
  }
  if (url === '/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem' || url === '/v1/cert.pem') return void res.end(controllerCert);
  res.statusCode = 404;
  res.end('{"kind":"Status","code":404}');
}

beforeAll(async () => {
  dir = tempDir();
  mkdirSync(join(dir, 'home'));
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=test-ca', '-days', '1']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver']);
  // Not 127.0.0.1: the SAN test connects there and needs --tls-server-name.
  writeFileSync(join(dir, 'san.ext'), `subjectAltName=DNS:kube.internal,DNS:api.example.test${hostIp ? `,IP:${hostIp}` : ''}\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'alice.key', '-out', 'alice.csr', '-subj', '/CN=alice/O=dev']);
  openssl(['x509', '-req', '-in', 'alice.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'alice.crt', '-days', '1']);
  const { readFileSync } = await import('node:fs');
  ca = join(dir, 'ca.crt');
  api = createHttpsServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')), ca: readFileSync(ca), requestCert: true, rejectUnauthorized: false }, handle);
  plain = createHttpServer(handle);
  // A CONNECT proxy that maps api.example.test to this machine; also forwards absolute-form http requests.
  proxy = await startConnectProxy((h) => (h === 'api.example.test' ? '127.0.0.1' : h));
  proxied = proxy.seen;
  await Promise.all([api, plain].map((s) => new Promise<void>((r) => s.listen(0, '0.0.0.0', r))));
  apiPort = (api.address() as AddressInfo).port;
  plainPort = (plain.address() as AddressInfo).port;
  proxyPort = proxy.port;
});

afterAll(() => {
  for (const s of [api, plain]) {
    s?.closeAllConnections();
    s?.close();
  }
  proxy?.close();
});

/** Runs --fetch-cert with no kubeconfig anywhere (an empty HOME) unless the test gives one. */
async function fetchCert(args: string[], env: Record<string, string> = {}) {
  seen.length = 0;
  proxied.length = 0;
  return kubeseal(['--fetch-cert', ...args], { cwd: dir, env: { HOME: join(dir, 'home'), ...env } });
}

const server = () => `https://${hostIp}:${apiPort}`;
const lastProxyGet = () => seen.find((s) => decodeURIComponent(s.url).endsWith('/proxy/v1/cert.pem'));

describe.skipIf(!hostIp)('kubeseal connects as kubectl does', () => {
  it('--server with --token and --certificate-authority works with no kubeconfig at all, and -s is --server', async () => {
    for (const flag of ['--server', '-s']) {
      const r = await fetchCert([flag, server(), '--token', TOKEN, '--certificate-authority', ca]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(controllerCert);
      expect(seen.map((s) => decodeURIComponent(s.url))).toEqual(['/api/v1/namespaces/kube-system/services/sealed-secrets-controller', '/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem']);
      expect(seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    }
  });

  it('takes every connection flag from SEALED_SECRETS_<FLAG> too, as upstream\'s pflagenv does', async () => {
    const r = await fetchCert([], { SEALED_SECRETS_SERVER: server(), SEALED_SECRETS_TOKEN: TOKEN, SEALED_SECRETS_CERTIFICATE_AUTHORITY: ca, SEALED_SECRETS_AS: 'jane', SEALED_SECRETS_REQUEST_TIMEOUT: '10s' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lastProxyGet()!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(lastProxyGet()!.headers['impersonate-user']).toBe('jane');
  });

  it('checks the server certificate: refused without the CA, accepted with --insecure-skip-tls-verify, and the two flags together are refused as client-go refuses them', async () => {
    const untrusted = await fetchCert(['--server', server(), '--token', TOKEN]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr.trim()).toMatch(new RegExp(`^error: cannot reach the API server https://${hostIp!.replace(/\./g, '\\.')}:${apiPort}: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY); `));
    expect(seen).toEqual([]);
    const insecure = await fetchCert(['--server', server(), '--token', TOKEN, '--insecure-skip-tls-verify']);
    expect(insecure.code).toBe(0);
    expect(insecure.stdout).toBe(controllerCert);
    const both = await fetchCert(['--server', server(), '--certificate-authority', ca, '--insecure-skip-tls-verify']);
    expect(both.code).toBe(1);
    expect(both.stderr.trim()).toMatch(/^error: specifying a root certificates file with the insecure flag is not allowed; /);
  });

  it('--as, repeated --as-group and --as-uid reach the API server as impersonation headers', async () => {
    const r = await fetchCert(['--server', server(), '--token', TOKEN, '--certificate-authority', ca, '--as', 'jane', '--as-group', 'devs', '--as-group', 'ops,qa', '--as-uid', '1234']);
    expect(r.code).toBe(0);
    const h = lastProxyGet()!.headers;
    expect(h['impersonate-user']).toBe('jane');
    // Repeatable, never split on commas (client-go's StringArray).
    expect(h['impersonate-group']).toBe('devs, ops,qa');
    expect(h['impersonate-uid']).toBe('1234');
    const noUser = await fetchCert(['--server', server(), '--token', TOKEN, '--certificate-authority', ca, '--as-group', 'devs']);
    expect(noUser.code).toBe(1);
    expect(noUser.stderr.trim()).toBe('error: impersonating a group or a UID needs a user to impersonate too; add --as USER');
  });

  it('--client-certificate and --client-key authenticate with the client certificate; one without the other is refused', async () => {
    const r = await fetchCert(['--server', server(), '--certificate-authority', ca, '--client-certificate', 'alice.crt', '--client-key', 'alice.key']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(seen.every((s) => s.clientCn === 'alice' && s.headers.authorization === undefined)).toBe(true);
    const half = await fetchCert(['--server', server(), '--certificate-authority', ca, '--client-certificate', 'alice.crt']);
    expect(half.code).toBe(1);
    expect(half.stderr.trim()).toMatch(/^error: a client certificate was given without its key; /);
  });

  it('--tls-server-name is the SNI name and the name the certificate is checked against', async () => {
    const byIp = `https://127.0.0.1:${apiPort}`;
    const wrong = await fetchCert(['--server', byIp, '--token', TOKEN, '--certificate-authority', ca]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    const named = await fetchCert(['--server', byIp, '--token', TOKEN, '--certificate-authority', ca, '--tls-server-name', 'kube.internal']);
    expect(named.stderr).toBe('');
    expect(named.code).toBe(0);
    expect(seen.map((s) => s.sni)).toEqual(['kube.internal', 'kube.internal']);
    const other = await fetchCert(['--server', byIp, '--token', TOKEN, '--certificate-authority', ca, '--tls-server-name', 'other.internal']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('--request-timeout: Go durations and bare seconds give up on a silent server; 0 is no timeout', async () => {
    for (const t of ['1s', '1']) {
      const started = Date.now();
      const r = await fetchCert(['--server', server(), '--token', TOKEN, '--certificate-authority', ca, '--controller-name', 'slow', '--request-timeout', t]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^error: cannot reach the API server https:\/\/[\d.]+:\d+: timed out after 1 s; /);
      expect(Date.now() - started).toBeLessThan(15_000);
    }
    const none = await fetchCert(['--server', server(), '--token', TOKEN, '--certificate-authority', ca, '--request-timeout', '0']);
    expect(none.code).toBe(0);
    const bad = await fetchCert(['--server', server(), '--request-timeout', '5 minutes']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: Invalid timeout value\. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit \(e\.g\. 1s \| 2m \| 3h\)/);
  });

  it('sends no credentials to a plain http server, as client-go does', async () => {
    const r = await fetchCert(['--server', `http://${hostIp}:${plainPort}`, '--token', TOKEN, '--as', 'jane']);
    expect(r.code).toBe(0);
    expect(seen.every((s) => s.headers.authorization === undefined && s.headers['impersonate-user'] === 'jane')).toBe(true);
  });
});

describe.skipIf(!hostIp)('kubeseal reads the kubeconfig as client-go does', () => {
  let kc: string;
  beforeAll(() => {
    const caData = Buffer.from(execFileSync('cat', [ca])).toString('base64');
    kc = join(dir, 'kubeconfig');
    writeFileSync(
      kc,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'a',
        clusters: [
          { name: 'good', cluster: { server: server(), 'certificate-authority-data': caData } },
          { name: 'down', cluster: { server: 'https://127.0.0.1:1', 'certificate-authority': 'ca.crt' } },
        ],
        users: [
          { name: 'ua', user: { token: 'tok-a' } },
          { name: 'ub', user: { token: 'tok-b' } },
        ],
        contexts: [
          { name: 'a', context: { cluster: 'good', user: 'ua' } },
          { name: 'b', context: { cluster: 'down', user: 'ub' } },
        ],
      }),
    );
    // A second file: its user "ua" and current-context lose to the first file's.
    writeFileSync(join(dir, 'kubeconfig2'), JSON.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'b', users: [{ name: 'ua', user: { token: 'tok-second' } }, { name: 'uc', user: { token: 'tok-c' } }] }));
  });
  const tokenSent = () => lastProxyGet()?.headers.authorization;

  it.each([
    ['the current context', [], 'Bearer tok-a'],
    ['--user over the context', ['--user', 'ub'], 'Bearer tok-b'],
    ['--cluster over the context', ['--context', 'b', '--cluster', 'good'], 'Bearer tok-b'],
    ['--server over the cluster (a relative CA path is the kubeconfig\'s directory\'s)', ['--context', 'b', '--server', 'SERVER', '--tls-server-name', 'kube.internal'], 'Bearer tok-b'],
    ['--token over the user', ['--token', 'tok-flag'], 'Bearer tok-flag'],
  ])('flags over the kubeconfig: %s', async (_what, flags, auth) => {
    const r = await fetchCert(['--kubeconfig', kc, ...flags.map((f) => (f === 'SERVER' ? server() : f))]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(tokenSent()).toBe(auth);
  });

  it('--username/--password beside a token (the flag\'s or the kubeconfig user\'s) is refused as client-go refuses it; alone it is basic auth', async () => {
    const r = await fetchCert(['--kubeconfig', kc, '--username', 'u1', '--password', 'p1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("error: username/password or bearer token may be set, but not both; drop --token or --username/--password (or the kubeconfig user's)");
    const basic = await fetchCert(['--server', server(), '--certificate-authority', ca, '--username', 'u1', '--password', 'p1']);
    expect(basic.code).toBe(0);
    expect(tokenSent()).toBe(`Basic ${Buffer.from('u1:p1').toString('base64')}`);
    const nobody = await fetchCert(['--kubeconfig', kc, '--user', 'nobody']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr.trim()).toBe('error: user "nobody" does not exist in the kubeconfig; pass a user that exists (kubectl config get-users), or --token');
  });

  it('KUBECONFIG lists files: the first to name a user or current-context wins; a context from the later file still resolves', async () => {
    const both = `${kc}:${join(dir, 'kubeconfig2')}`;
    expect((await fetchCert([], { KUBECONFIG: both })).code).toBe(0);
    expect(tokenSent()).toBe('Bearer tok-a');
    expect((await fetchCert(['--user', 'uc'], { KUBECONFIG: both })).code).toBe(0);
    expect(tokenSent()).toBe('Bearer tok-c');
    const missingFirst = `${join(dir, 'absent')}:${kc}`;
    expect((await fetchCert([], { KUBECONFIG: missingFirst })).code).toBe(0);
  });

  it('runs an exec credential plugin (EKS, GKE, kubelogin) for the token, and --token wins over it as client-go\'s does', async () => {
    const { chmodSync } = await import('node:fs');
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"exec-tok-77"}}\'\n');
    chmodSync(plugin, 0o755);
    const caData = Buffer.from(execFileSync('cat', [ca])).toString('base64');
    const execKc = join(dir, 'exec-kubeconfig');
    writeFileSync(
      execKc,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'e',
        clusters: [{ name: 'good', cluster: { server: server(), 'certificate-authority-data': caData } }],
        // A relative command with a slash runs from the kubeconfig's directory, as kubectl runs it.
        users: [{ name: 'ue', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: './plugin.sh' } } }],
        contexts: [{ name: 'e', context: { cluster: 'good', user: 'ue' } }],
      }),
    );
    const r = await fetchCert(['--kubeconfig', execKc]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(tokenSent()).toBe('Bearer exec-tok-77');
    const over = await fetchCert(['--kubeconfig', execKc, '--token', 'flag-tok']);
    expect(over.code).toBe(0);
    expect(tokenSent()).toBe('Bearer flag-tok');
  });

  it('names what is missing: a context, a cluster, the explicit --kubeconfig file, a server', async () => {
    const ctx = await fetchCert(['--kubeconfig', kc, '--context', 'nope']);
    expect(ctx.code).toBe(1);
    expect(ctx.stderr.trim()).toMatch(/^error: context "nope" does not exist in the kubeconfig \(.*kubeconfig\); /);
    const cl = await fetchCert(['--kubeconfig', kc, '--cluster', 'nope']);
    expect(cl.stderr.trim()).toMatch(/^error: cluster "nope" does not exist in the kubeconfig; /);
    const file = await fetchCert(['--kubeconfig', 'absent.yaml']);
    expect(file.code).toBe(1);
    expect(file.stderr.trim()).toMatch(/^error: cannot load the kubeconfig .*absent\.yaml: no such file; /);
    const down = await fetchCert(['--kubeconfig', kc, '--context', 'b']);
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toMatch(/^error: cannot reach the API server https:\/\/127\.0\.0\.1:1: ECONNREFUSED; /);
  });

  it('-v shows which configuration and requests were used, never the token, the password or the client key', async () => {
    const quiet = await fetchCert(['--kubeconfig', kc]);
    expect(quiet.stderr).toBe('');
    const r = await fetchCert(['--kubeconfig', kc, '-v', '9']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Using kubeconfig context "a" (cluster "good", user "ua")');
    expect(r.stderr).toMatch(new RegExp(`GET https://${hostIp!.replace(/\./g, '\\.')}:${apiPort}/api/v1/namespaces/kube-system/services/sealed-secrets-controller 200 in \\d+ milliseconds`));
    expect(r.stderr).toContain('authorization: Bearer <masked>');
    expect(r.stderr).not.toContain('tok-a');
    for (const v of [['--v=8'], ['--v', '8'], ['-v=8']]) {
      const x = await fetchCert(['--server', server(), '--certificate-authority', ca, '--username', 'admin', '--password', 'Sup3rS3cret!', ...v]);
      expect(x.code).toBe(0);
      expect(x.stderr).toContain('authorization: Basic <masked>');
      expect(x.stderr).not.toContain('Sup3rS3cret!');
      expect(x.stderr).not.toContain(Buffer.from('admin:Sup3rS3cret!').toString('base64'));
    }
    const keyPem = execFileSync('cat', [join(dir, 'alice.key')]).toString();
    const c = await fetchCert(['--server', server(), '--certificate-authority', ca, '--client-certificate', 'alice.crt', '--client-key', 'alice.key', '-v', '10']);
    expect(c.code).toBe(0);
    expect(c.stderr).not.toContain(keyPem.split('\n')[1]!);
  });
});

describe.skipIf(!hostIp)('kubeseal inside a Pod (no kubeconfig: the ServiceAccount, as client-go\'s in-cluster config)', () => {
  let sa: string;
  beforeAll(() => {
    sa = join(dir, 'serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'sa-token-123\n');
    writeFileSync(join(sa, 'ca.crt'), execFileSync('cat', [ca]));
    writeFileSync(join(sa, 'namespace'), 'team-pod');
  });
  const podEnv = () => ({ KUBERNETES_SERVICE_HOST: hostIp!, KUBERNETES_SERVICE_PORT: String(apiPort), KUBESEAL_SERVICE_ACCOUNT_DIR: sa });

  it('uses KUBERNETES_SERVICE_HOST/PORT, the token and the CA of the ServiceAccount; --token applies over them', async () => {
    // No --certificate-authority: the server's CA is trusted only because it is the ServiceAccount's ca.crt.
    const r = await fetchCert([], podEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lastProxyGet()!.headers.authorization).toBe('Bearer sa-token-123');
    const t = await fetchCert(['--token', 'other'], podEnv());
    expect(t.code).toBe(0);
    expect(lastProxyGet()!.headers.authorization).toBe('Bearer other');
    const outside = await fetchCert([], { KUBESEAL_SERVICE_ACCOUNT_DIR: sa });
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/not inside a Pod/);
  });

  it('takes the namespace from POD_NAMESPACE, else the ServiceAccount\'s namespace file, for --raw and for Secrets without one', async () => {
    const { KeyRing, parsePrivateKeyPem, unsealSealedSecret } = await import('../src/index.js');
    const k = vectorKeys()[0]!;
    const ring = new KeyRing();
    const p = parsePrivateKeyPem(k.privateKeyPem, k.id);
    ring.add(p.privateKey, p.publicKey);
    writeFileSync(join(dir, 'controller.pem'), k.certPem);
    const opens = (blob: string, ns: string) => {
      try {
        const ss = { kind: 'SealedSecret', metadata: { name: 'db', namespace: ns }, spec: { encryptedData: { v: blob } } };
        return Buffer.from(unsealSealedSecret(ss as never, ring).secret.data!['v']!, 'base64').toString();
      } catch {
        return undefined;
      }
    };
    const raw = (env: Record<string, string>) => kubeseal(['--cert', 'controller.pem', '--raw', '--name', 'db'], { cwd: dir, input: 'pod-value', env: { HOME: join(dir, 'home'), ...env } });
    expect(opens((await raw(podEnv())).stdout, 'team-pod')).toBe('pod-value');
    expect(opens((await raw({ ...podEnv(), POD_NAMESPACE: 'from-env' })).stdout, 'from-env')).toBe('pod-value');
    expect(opens((await raw({})).stdout, 'default')).toBe('pod-value');
    const secret = await kubeseal(['--cert', 'controller.pem', '-o', 'json'], { cwd: dir, input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { a: 'b' } }), env: { HOME: join(dir, 'home'), ...podEnv() } });
    expect(JSON.parse(secret.stdout).metadata.namespace).toBe('team-pod');
  });
});

describe.skipIf(!hostIp)('kubeseal through HTTPS_PROXY / HTTP_PROXY / NO_PROXY (Go\'s rules)', () => {
  const viaName = () => `https://api.example.test:${apiPort}`;
  const proxyUrl = () => `http://puser:ppass%21@127.0.0.1:${proxyPort}`;

  it('tunnels to the API server with CONNECT; the proxy sees the target and its own credentials, never the token', async () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy']) {
      const r = await fetchCert(['--server', viaName(), '--token', TOKEN, '--certificate-authority', ca], { [name]: proxyUrl() });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(proxied.map((p) => p.line)).toEqual([`CONNECT api.example.test:${apiPort}`, `CONNECT api.example.test:${apiPort}`]);
      expect(proxied[0]!.head).toContain(`"proxy-authorization":"Basic ${Buffer.from('puser:ppass!').toString('base64')}"`);
      expect(proxied.some((p) => p.head.includes(TOKEN))).toBe(false);
      expect(seen.every((s) => s.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    }
  });

  it('goes direct where NO_PROXY says so: CIDR, IP, domain suffix, *; a port that differs still goes through the proxy', async () => {
    const env = (noProxy: string) => ({ HTTPS_PROXY: proxyUrl(), NO_PROXY: noProxy });
    const base = ['--server', server(), '--token', TOKEN, '--certificate-authority', ca];
    const viaProxy = await fetchCert(base, { HTTPS_PROXY: proxyUrl() });
    expect(viaProxy.code).toBe(0);
    expect(proxied[0]!.line).toBe(`CONNECT ${hostIp}:${apiPort}`);
    const cidr = `${hostIp!.split('.').slice(0, 3).join('.')}.0/24`;
    for (const np of [cidr, hostIp!, `${hostIp}:${apiPort}`, '*', ` other.example , ${hostIp} `]) {
      const r = await fetchCert(base, env(np));
      expect(r.code, np).toBe(0);
      expect(proxied, np).toEqual([]);
    }
    const otherPort = await fetchCert(base, env(`${hostIp}:1`));
    expect(otherPort.code).toBe(0);
    expect(proxied.length).toBe(2);
    // By name: example.test matches api.example.test; bypassing the proxy, the name does not resolve here.
    for (const np of ['example.test', '.example.test', '*.example.test', 'api.example.test']) {
      const r = await fetchCert(['--server', viaName(), '--token', TOKEN, '--certificate-authority', ca], { ...env(np), no_proxy: 'ignored-when-NO_PROXY-is-set' });
      expect(r.code, np).toBe(1);
      expect(r.stderr, np).toMatch(/ENOTFOUND|EAI_AGAIN/);
      expect(proxied, np).toEqual([]);
    }
  });

  it("--proxy-url (and a kubeconfig cluster's proxy-url) wins over the environment, NO_PROXY included, as client-go's http.ProxyURL", async () => {
    const r = await fetchCert(['--server', viaName(), '--token', TOKEN, '--certificate-authority', ca, '--proxy-url', proxyUrl()], { NO_PROXY: '*', HTTPS_PROXY: 'http://127.0.0.1:9' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(proxied.map((p) => p.line)[0]).toBe(`CONNECT api.example.test:${apiPort}`);
    const kc = join(dir, 'proxy-kubeconfig');
    writeFileSync(kc, JSON.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'p', clusters: [{ name: 'k', cluster: { server: viaName(), 'certificate-authority': ca, 'proxy-url': proxyUrl() } }], users: [{ name: 'u', user: { token: TOKEN } }], contexts: [{ name: 'p', context: { cluster: 'k', user: 'u' } }] }));
    const k = await fetchCert(['--kubeconfig', kc, '--disable-compression']);
    expect(k.stderr).toBe('');
    expect(k.code).toBe(0);
    expect(proxied.length).toBe(2);
    expect(seen.every((s) => s.headers['accept-encoding'] === undefined)).toBe(true);
  });

  it('fetches --cert https://... through the proxy too', async () => {
    const r = await kubeseal(['--cert', `${viaName()}/v1/cert.pem`, '--fetch-cert'], { cwd: dir, env: { HOME: join(dir, 'home'), HTTPS_PROXY: proxyUrl(), NODE_EXTRA_CA_CERTS: ca } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(controllerCert);
  });

  it('sends plain http through HTTP_PROXY in absolute form (without credentials, which plain http never carries)', async () => {
    proxied.length = 0;
    const r = await kubeseal(['--fetch-cert', '--server', `http://${hostIp}:${plainPort}`, '--token', TOKEN], { cwd: dir, env: { HOME: join(dir, 'home'), HTTP_PROXY: `127.0.0.1:${proxyPort}` } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(proxied.map((p) => p.line)[0]).toBe(`GET http://${hostIp}:${plainPort}/api/v1/namespaces/kube-system/services/sealed-secrets-controller`);
    expect(proxied.some((p) => p.head.includes(TOKEN))).toBe(false);
  });

  it('a proxy that refuses the tunnel: one line naming the proxy without its credentials', async () => {
    proxy.answer = 407;
    try {
      const r = await fetchCert(['--server', viaName(), '--token', TOKEN, '--certificate-authority', ca, '-v', '9'], { HTTPS_PROXY: proxyUrl() });
      expect(r.code).toBe(1);
      const last = r.stderr.trimEnd().split('\n').pop()!;
      expect(last).toBe(`error: cannot reach the API server https://api.example.test:${apiPort}: the proxy http://127.0.0.1:${proxyPort} refused the tunnel to api.example.test:${apiPort}: HTTP 407; check the kubeconfig and the network, or use --cert to seal offline`);
      expect(r.stderr).not.toContain('ppass');
      expect(r.stderr).not.toContain(TOKEN);
    } finally {
      proxy.answer = 200;
    }
  });
});

describe('proxyFor follows Go\'s httpproxy rules', () => {
  const P = { HTTPS_PROXY: 'http://proxy:3128', HTTP_PROXY: 'proxy-h:8080' };
  it.each([
    ['https://api.example.com', {}, 'http://proxy:3128'],
    ['http://api.example.com', {}, 'http://proxy-h:8080'],
    ['https://localhost:6443', {}, undefined],
    ['https://127.0.0.5:6443', {}, undefined],
    ['https://[::1]:6443', {}, undefined],
    ['https://api.example.com', { NO_PROXY: '*' }, undefined],
    ['https://api.example.com', { NO_PROXY: 'example.com' }, undefined],
    ['https://example.com', { NO_PROXY: 'example.com' }, undefined],
    ['https://example.com', { NO_PROXY: '.example.com' }, 'http://proxy:3128'],
    ['https://a.example.com', { NO_PROXY: '*.example.com' }, undefined],
    ['https://notexample.com', { NO_PROXY: 'example.com' }, 'http://proxy:3128'],
    ['https://api.example.com', { NO_PROXY: 'example.com:443' }, undefined],
    ['https://api.example.com:6443', { NO_PROXY: 'example.com:443' }, 'http://proxy:3128'],
    ['https://10.1.2.3:6443', { NO_PROXY: '10.0.0.0/8' }, undefined],
    ['https://11.1.2.3:6443', { NO_PROXY: '10.0.0.0/8' }, 'http://proxy:3128'],
    ['https://10.1.2.3:6443', { NO_PROXY: '10.1.2.3:6443' }, undefined],
    ['https://10.1.2.3:6443', { NO_PROXY: '10.1.2.3:443' }, 'http://proxy:3128'],
    ['https://[fd00::5]:6443', { NO_PROXY: 'fd00::/64' }, undefined],
    ['https://API.Example.COM', { NO_PROXY: 'EXAMPLE.com' }, undefined],
    ['https://api.example.com', { no_proxy: 'example.com' }, undefined],
    ['https://api.example.com', { NO_PROXY: 'other.org', no_proxy: 'example.com' }, 'http://proxy:3128'],
  ])('%s with %j', (url, extra, want) => {
    expect(proxyFor(new URL(url), { ...P, ...extra })?.href.replace(/\/$/, '')).toBe(want);
  });

  it('uppercase wins over lowercase, https uses only HTTPS_PROXY, and CGI refuses HTTP_PROXY', () => {
    expect(proxyFor(new URL('https://a.example'), { HTTPS_PROXY: 'http://up:1', https_proxy: 'http://low:1' })?.host).toBe('up:1');
    expect(proxyFor(new URL('https://a.example'), { https_proxy: 'http://low:1' })?.host).toBe('low:1');
    expect(proxyFor(new URL('https://a.example'), { HTTP_PROXY: 'http://h:1' })).toBeUndefined();
    expect(() => proxyFor(new URL('http://a.example'), { HTTP_PROXY: 'http://h:1', REQUEST_METHOD: 'GET' })).toThrow(/CGI/);
    expect(() => proxyFor(new URL('https://a.example'), { HTTPS_PROXY: 'socks5://s:1080' })).toThrow(/socks5 proxy, which kubeseal does not support/);
  });
});
