/**
 * kubeseal's connection to the real API server, as kubectl makes it: the connection flags with no
 * kubeconfig, impersonation, in-cluster mode and an HTTPS_PROXY tunnel, and the errors on the way.
 * No controller runs here: the Service exists (deploy/base) with an empty Endpoints object, so a
 * request that got through TLS, authentication and RBAC (get on services, then services/proxy)
 * ends at the API server's service proxy with HTTP 503, no endpoint. What comes back from a real
 * controller (the certificate, sealing, --validate, --re-encrypt) is tested through the same proxy
 * to the controller's Pods on the local node: test/e2e/node/node.test.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { kubeseal, tempDir, type RunResult } from '../cli-helpers.js';
import { applyManifests, serviceAccountKubeconfig, startCluster, type Cluster } from './harness.js';

let cluster: Cluster;
let dir: string;
const env = () => ({ KUBECONFIG: cluster.kubeconfig });

beforeAll(async () => {
  cluster = await startCluster();
  await applyManifests(cluster.admin);
  // What the endpoints controller writes for a Service with no ready Pod (this control plane runs none).
  await cluster.admin.request({
    method: 'POST',
    path: '/api/v1/namespaces/kube-system/endpoints',
    body: { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'sealed-secrets-controller', namespace: 'kube-system' } },
  });
  dir = tempDir();
}, 20 * 60_000);

afterAll(() => {
  cluster?.down();
});

/** The request reached the service proxy: TLS, authentication and RBAC passed, and no controller endpoint is there. */
function reachedTheProxy(r: RunResult): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim()).toMatch(/^error: fetching the certificate through the controller kube-system\/sealed-secrets-controller failed: HTTP 503 .*no endpoints available for service/s);
}

describe("kubeseal with kubectl's connection flags, against the real API server", () => {
  let server: string;
  let token: string;
  let caFile: string;
  let home: string;
  beforeAll(() => {
    const kc = parseYaml(readFileSync(cluster.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { token: string } }[] };
    server = kc.clusters[0]!.cluster.server;
    token = kc.users[0]!.user.token;
    home = tempDir();
    caFile = join(home, 'ca.crt');
    writeFileSync(caFile, Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64'));
  });
  // No kubeconfig anywhere: an empty HOME and no KUBECONFIG.
  const bare = (args: string[], env: Record<string, string> = {}) => kubeseal(['--fetch-cert', ...args], { cwd: home, env: { HOME: home, ...env } });

  it('says which Service is missing when --controller-name is wrong', async () => {
    const r = await kubeseal(['--fetch-cert', '--controller-name', 'nope'], { env: env(), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: the controller Service kube-system\/nope does not exist; pass --controller-name and --controller-namespace/);
  });

  it('--server with --token and --certificate-authority, with no kubeconfig at all', async () => {
    reachedTheProxy(await bare(['--server', server, '--token', token, '--certificate-authority', caFile]));
    const noToken = await bare(['--server', server, '--certificate-authority', caFile]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr.trim()).toMatch(/^error: not allowed to read the controller Service kube-system\/sealed-secrets-controller \(HTTP 403\)/);
    expect(noToken.stderr).not.toContain(token);
  });

  it('--insecure-skip-tls-verify instead of a CA; --tls-server-name is the name the certificate must carry', async () => {
    const untrusted = await bare(['--server', server, '--token', token]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/cannot reach the API server https:\/\/127\.0\.0\.1:\d+: [A-Z_]+/);
    reachedTheProxy(await bare(['--server', server, '--token', token, '--insecure-skip-tls-verify']));
    reachedTheProxy(await bare(['--server', server, '--token', token, '--certificate-authority', caFile, '--tls-server-name', 'kubernetes.default.svc']));
    const wrong = await bare(['--server', server, '--token', token, '--certificate-authority', caFile, '--tls-server-name', 'not-the-apiserver.example']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('--as and --as-group impersonate: RBAC decides as for that user and its groups', async () => {
    // deploy/ binds the service-proxier Role to system:authenticated, as upstream does: the anonymous user is refused.
    const anonymous = await kubeseal(['--fetch-cert', '--as', 'system:anonymous'], { env: env(), cwd: dir });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr.trim()).toMatch(/^error: not allowed to read the controller Service kube-system\/sealed-secrets-controller \(HTTP 403\); you need get on services and services\/proxy there/);
    reachedTheProxy(await kubeseal(['--fetch-cert', '--as', 'nobody@example.com', '--as-group', 'team-a', '--as-group', 'team-b'], { env: env(), cwd: dir }));
    // Impersonating is itself authorised: a user who may not impersonate is refused.
    const sa = await serviceAccountKubeconfig(cluster);
    const denied = await kubeseal(['--fetch-cert', '--as', 'nobody@example.com'], { env: { KUBECONFIG: sa }, cwd: dir });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/HTTP 403/);
  });

  it('inside a Pod: no kubeconfig, KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount files, as client-go\'s in-cluster config', async () => {
    const sa = join(home, 'serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), token);
    writeFileSync(join(sa, 'ca.crt'), readFileSync(caFile));
    writeFileSync(join(sa, 'namespace'), 'default');
    const url = new URL(server);
    reachedTheProxy(await bare([], { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, KUBESEAL_SERVICE_ACCOUNT_DIR: sa }));
    // A token file the API server does not know: refused, as kubectl in that Pod would be.
    writeFileSync(join(sa, 'token'), 'not-a-token');
    const refused = await bare([], { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, KUBESEAL_SERVICE_ACCOUNT_DIR: sa });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^error: not allowed to read the controller Service kube-system\/sealed-secrets-controller \(HTTP 401\)/);
  });

  it('through HTTPS_PROXY: a CONNECT tunnel to the API server, which the proxy sees only as its target; NO_PROXY bypasses it', async () => {
    const { startConnectProxy } = await import('../connect-proxy.js');
    // kubernetes.default is in the API server's certificate; only the proxy knows where it is (loopback is never proxied).
    const proxy = await startConnectProxy((h) => (h === 'kubernetes.default' ? '127.0.0.1' : h));
    try {
      const viaName = server.replace('127.0.0.1', 'kubernetes.default');
      reachedTheProxy(await bare(['--server', viaName, '--token', token, '--certificate-authority', caFile], { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` }));
      expect(proxy.seen.map((p) => p.line)).toEqual([`CONNECT kubernetes.default:${new URL(server).port}`, `CONNECT kubernetes.default:${new URL(server).port}`]);
      expect(proxy.seen.some((p) => p.head.includes(token))).toBe(false);
      proxy.seen.length = 0;
      const bypass = await bare(['--server', viaName, '--token', token, '--certificate-authority', caFile], { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: '.default' });
      expect(bypass.code).toBe(1);
      expect(bypass.stderr).toMatch(/ENOTFOUND|EAI_AGAIN/);
      expect(proxy.seen).toEqual([]);
    } finally {
      proxy.close();
    }
  });
});
