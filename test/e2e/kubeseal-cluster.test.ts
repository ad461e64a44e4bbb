/**
 * kubeseal's cluster modes against the real API server: --fetch-cert, sealing
 * without --cert, --validate and --re-encrypt, all through the API server's
 * service proxy to the running controller, as a user runs them.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { paths } from '../../controller/kube/client.js';
import type { SealedSecret } from '../../src/index.js';
import { kubeseal, tempDir } from '../cli-helpers.js';
import { aloneCopy } from '../sea-helpers.js';
import { applyManifests, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';
import { createTestHost, type TestHost } from './netns.js';

let cluster: Cluster;
let ctrl: ControllerProcess;
let host: TestHost;
let dir: string;
const env = () => ({ KUBECONFIG: cluster.kubeconfig });
const secretYaml = (name: string, v: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n  namespace: default\nstringData:\n  token: ${v}\n`;

beforeAll(async () => {
  cluster = await startCluster();
  await applyManifests(cluster.admin);
  host = createTestHost();
  // Keys rotated by the tests seal at once (the default waits 2m for every replica to load them).
  ctrl = await startController(await serviceAccountKubeconfig(cluster), ['--key-activation-delay', '0s'], {}, host.hostIp);
  const port = Number(new URL(ctrl.url).port);
  await host.forward(8080, port);
  // No kubelet runs Pods here, so the controller's Pod is a record with the test host's IP:
  // the service proxy only forwards to endpoint addresses that belong to a Pod with that IP.
  const pod = 'sealed-secrets-controller-e2e';
  await cluster.admin.request({
    method: 'POST',
    path: '/api/v1/namespaces/kube-system/pods',
    body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: 'kube-system', labels: { 'app.kubernetes.io/name': 'sealed-secrets' } }, spec: { containers: [{ name: 'controller', image: 'sealed-secrets-ts/controller:e2e' }] } },
  });
  await cluster.admin.request({
    method: 'PATCH',
    path: `/api/v1/namespaces/kube-system/pods/${pod}/status`,
    contentType: 'application/merge-patch+json',
    body: { status: { phase: 'Running', podIP: host.peerIp, podIPs: [{ ip: host.peerIp }] } },
  });
  await cluster.admin.request({
    method: 'POST',
    path: '/api/v1/namespaces/kube-system/endpoints',
    body: {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'sealed-secrets-controller', namespace: 'kube-system' },
      subsets: [{ addresses: [{ ip: host.peerIp, targetRef: { kind: 'Pod', name: pod, namespace: 'kube-system' } }], ports: [{ name: 'http', port: 8080 }] }],
    },
  });
  await waitFor(async () => (await fetch(`${ctrl.url}/v1/cert.pem`)).ok, 30_000, 'the controller certificate');
  dir = tempDir();
}, 20 * 60_000);

afterAll(async () => {
  await ctrl?.stop();
  host?.close();
  cluster?.down();
});

describe('kubeseal through the service proxy', () => {
  it('--fetch-cert prints the controller certificate, with the default controller name and namespace', async () => {
    const r = await kubeseal(['--fetch-cert'], { env: env(), cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await (await fetch(`${ctrl.url}/v1/cert.pem`)).text());
  });

  it('the single-file kubeseal, alone in an empty directory with no node on PATH, fetches the certificate and seals with it', async () => {
    const alone = aloneCopy();
    const fetched = alone.run(['--fetch-cert'], { env: env() });
    expect(fetched.stderr).toBe('');
    expect(fetched.code).toBe(0);
    expect(fetched.stdout).toBe(await (await fetch(`${ctrl.url}/v1/cert.pem`)).text());
    const sealed = alone.run([], { input: secretYaml('fetched-by-sea', 'v-sea-1'), env: env() });
    expect(sealed.stderr).toBe('');
    expect(sealed.code).toBe(0);
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: parseYaml(sealed.stdout) as SealedSecret });
    const s = await waitFor(async () => cluster.admin.request<{ data: Record<string, string> }>({ method: 'GET', path: paths.secret('default', 'fetched-by-sea') }), 20_000, 'the Secret');
    expect(Buffer.from(s.data['token']!, 'base64').toString()).toBe('v-sea-1');
  });

  it('seals without --cert by fetching the certificate, and the controller unseals the result', async () => {
    const r = await kubeseal([], { input: secretYaml('fetched', 'v-fetched-1'), env: env(), cwd: dir });
    expect(r.code).toBe(0);
    const ss = parseYaml(r.stdout) as SealedSecret;
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: ss });
    const s = await waitFor(async () => cluster.admin.request<{ data: Record<string, string> }>({ method: 'GET', path: paths.secret('default', 'fetched') }), 20_000, 'the Secret');
    expect(Buffer.from(s.data['token']!, 'base64').toString()).toBe('v-fetched-1');
  });

  it('--validate checks every document and fails naming each one that cannot be unsealed (upstream #474)', async () => {
    const good = (await kubeseal([], { input: secretYaml('good', 'v-good-2'), env: env(), cwd: dir })).stdout;
    const bad = good.replace('name: good', 'name: renamed');
    writeFileSync(join(dir, 'all.yaml'), good + bad);
    const ok = await kubeseal(['--validate'], { input: good, env: env(), cwd: dir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const r = await kubeseal(['--validate', '-f', 'all.yaml'], { env: env(), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: unable to decrypt sealed secret: default/renamed; they were sealed for another controller key, or for another namespace, name or scope');
  });

  it('--re-encrypt rewrites a file in place to the newest key, keeping template data', async () => {
    const sealed = (await kubeseal(['-o', 'yaml'], { input: secretYaml('rotated', 'v-rotate-3'), env: env(), cwd: dir })).stdout;
    const withTemplate = sealed.replace('    metadata:\n', '    data:\n      url: "https://{{ .token }}@example"\n    metadata:\n');
    writeFileSync(join(dir, 'rotated.yaml'), withTemplate);
    const oldFp = (parseYaml(withTemplate) as SealedSecret).metadata.annotations!['sealed-secrets-ts.io/key-fingerprints'];
    ctrl.proc.kill('SIGUSR1');
    await waitFor(async () => (await ctrl.metric('sealed_secrets_controller_keys')) === 2, 30_000, 'the rotated key');
    const r = await kubeseal(['--re-encrypt', '-f', 'rotated.yaml'], { env: env(), cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = parseYaml(readFileSync(join(dir, 'rotated.yaml'), 'utf8')) as SealedSecret;
    const newFp = out.metadata.annotations!['sealed-secrets-ts.io/key-fingerprints'];
    expect(newFp).not.toBe(oldFp);
    expect(out.spec.template!.data).toEqual({ url: 'https://{{ .token }}@example' });
    expect(out.spec.encryptedData['token']).not.toBe((parseYaml(withTemplate) as SealedSecret).spec.encryptedData['token']);
    const v = await kubeseal(['--validate', '-f', 'rotated.yaml'], { env: env(), cwd: dir });
    expect(v.code).toBe(0);
  }, 60_000);

  it('--re-encrypt -f DIR re-encrypts every SealedSecret file in a tree, keeping comments and leaving other files alone', async () => {
    const { mkdirSync } = await import('node:fs');
    const seal = async (name: string, fmt: string) => (await kubeseal(['-o', fmt], { input: secretYaml(name, `v-${name}`), env: env(), cwd: dir })).stdout;
    const tree = join(dir, 'gitops');
    mkdirSync(join(tree, 'apps/a'), { recursive: true });
    mkdirSync(join(tree, '.git'), { recursive: true });
    const multi = `# team a secrets: sealed, safe to commit\n${(await seal('one', 'yaml')).replace(/^---\n/, '')}---\n${(await seal('two', 'yaml')).replace(/^---\n/, '')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n`;
    writeFileSync(join(tree, 'apps/a/secrets.yaml'), multi);
    writeFileSync(join(tree, 'apps/three.json'), await seal('three', 'json'));
    const other = 'apiVersion: v1\nkind: ConfigMap  # not a SealedSecret\nmetadata: {name: x}\n';
    writeFileSync(join(tree, 'apps/other.yaml'), other);
    writeFileSync(join(tree, '.git/ignored.yaml'), await seal('ignored', 'yaml'));
    writeFileSync(join(tree, 'apps/broken.yaml'), 'kind: SealedSecret\nmetadata: [oops\n');
    const keysBefore = await ctrl.metric('sealed_secrets_controller_keys');
    ctrl.proc.kill('SIGUSR1');
    await waitFor(async () => (await ctrl.metric('sealed_secrets_controller_keys')) === keysBefore + 1, 30_000, 'another rotated key');
    const newFp = await (async () => {
      const { createPublicKey } = await import('node:crypto');
      const { publicKeyFingerprint } = await import('../../src/index.js');
      return publicKeyFingerprint(createPublicKey((await kubeseal(['--fetch-cert'], { env: env(), cwd: dir })).stdout));
    })();
    const r = await kubeseal(['--re-encrypt', '-f', 'gitops'], { env: env(), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr, r.stderr).toContain('re-encrypted 3 SealedSecret(s) in 2 file(s) under gitops; 1 failed');
    expect(r.stderr).toContain('error: gitops/apps/broken.yaml: cannot be parsed');
    const after = readFileSync(join(tree, 'apps/a/secrets.yaml'), 'utf8');
    expect(after.startsWith('# team a secrets: sealed, safe to commit\n')).toBe(true);
    const docs = after.split(/^---$/m).map((d) => parseYaml(d));
    expect(docs.map((d) => d.kind)).toEqual(['SealedSecret', 'SealedSecret', 'ConfigMap']);
    for (const d of docs.slice(0, 2)) expect(d.metadata.annotations['sealed-secrets-ts.io/key-fingerprints']).toBe(newFp);
    expect(JSON.parse(readFileSync(join(tree, 'apps/three.json'), 'utf8')).metadata.annotations['sealed-secrets-ts.io/key-fingerprints']).toBe(newFp);
    expect(readFileSync(join(tree, 'apps/other.yaml'), 'utf8')).toBe(other);
    expect(readFileSync(join(tree, '.git/ignored.yaml'), 'utf8')).not.toContain(newFp);
    const v = await kubeseal(['--validate', '-f', 'gitops/apps/three.json'], { env: env(), cwd: dir });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  }, 90_000);

  it('--re-encrypt -f DIR with .sealed-secrets.yaml sends each file to its own cluster, and reports the unreachable one', async () => {
    const { mkdirSync } = await import('node:fs');
    const kc = readFileSync(cluster.kubeconfig, 'utf8');
    const context = (parseYaml(kc) as { 'current-context': string })['current-context'];
    const repo = join(dir, 'fleet');
    mkdirSync(join(repo, 'overlays/here'), { recursive: true });
    mkdirSync(join(repo, 'overlays/gone'), { recursive: true });
    // "gone": a kubeconfig whose API server refuses connections.
    writeFileSync(join(repo, 'gone.kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters:\n- name: g\n  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: gone\n  context: {cluster: g, user: u}\ncurrent-context: gone\n');
    writeFileSync(join(repo, 'here.pem'), (await kubeseal(['--fetch-cert'], { env: env(), cwd: dir })).stdout);
    writeFileSync(join(repo, '.sealed-secrets.yaml'), `clusters:\n  here: {cert: here.pem, context: ${context}, kubeconfig: ${cluster.kubeconfig}}\n  gone: {cert: here.pem, context: gone, kubeconfig: gone.kubeconfig}\npaths:\n  - match: overlays/here/**\n    clusters: [here]\n  - match: overlays/gone/**\n    clusters: [gone]\n`);
    const sealedFor = async (name: string) => (await kubeseal(['-o', 'yaml'], { input: secretYaml(name, `v-${name}`), env: env(), cwd: dir })).stdout;
    writeFileSync(join(repo, 'overlays/here/a.yaml'), await sealedFor('fleet-a'));
    const goneBefore = await sealedFor('fleet-b');
    writeFileSync(join(repo, 'overlays/gone/b.yaml'), goneBefore);
    const keysBefore = await ctrl.metric('sealed_secrets_controller_keys');
    ctrl.proc.kill('SIGUSR1');
    await waitFor(async () => (await ctrl.metric('sealed_secrets_controller_keys')) === keysBefore + 1, 30_000, 'another rotated key');
    const { createPublicKey } = await import('node:crypto');
    const { publicKeyFingerprint } = await import('../../src/index.js');
    const newFp = publicKeyFingerprint(createPublicKey((await kubeseal(['--fetch-cert'], { env: env(), cwd: dir })).stdout));
    // No KUBECONFIG: the config's contexts decide where each file goes.
    const r = await kubeseal(['--re-encrypt', '-f', 'overlays'], { cwd: repo });
    expect(r.code).toBe(1);
    expect(r.stderr, r.stderr).toContain('re-encrypted 1 SealedSecret(s) in 1 file(s) under overlays; 1 failed');
    expect(r.stderr).toContain('error: overlays/gone/b.yaml: cluster gone: cannot reach the API server https://127.0.0.1:1');
    expect(readFileSync(join(repo, 'overlays/gone/b.yaml'), 'utf8')).toBe(goneBefore);
    const a = parseYaml(readFileSync(join(repo, 'overlays/here/a.yaml'), 'utf8')) as SealedSecret;
    expect(a.metadata.annotations!['sealed-secrets-ts.io/key-fingerprints']).toBe(newFp);
  }, 90_000);

  it('says which Service is missing when --controller-name is wrong', async () => {
    const r = await kubeseal(['--fetch-cert', '--controller-name', 'nope'], { env: env(), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: the controller Service kube-system\/nope does not exist; pass --controller-name and --controller-namespace/);
  });
});

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
  const served = async () => (await fetch(`${ctrl.url}/v1/cert.pem`)).text();

  it('--server with --token and --certificate-authority, with no kubeconfig at all', async () => {
    const r = await bare(['--server', server, '--token', token, '--certificate-authority', caFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await served());
    const noToken = await bare(['--server', server, '--certificate-authority', caFile]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr.trim()).toMatch(/^error: not allowed to read the controller Service kube-system\/sealed-secrets-controller \(HTTP 403\)/);
    expect(noToken.stderr).not.toContain(token);
  });

  it('--insecure-skip-tls-verify instead of a CA; --tls-server-name is the name the certificate must carry', async () => {
    const untrusted = await bare(['--server', server, '--token', token]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/cannot reach the API server https:\/\/127\.0\.0\.1:\d+: [A-Z_]+/);
    expect((await bare(['--server', server, '--token', token, '--insecure-skip-tls-verify'])).code).toBe(0);
    const named = await bare(['--server', server, '--token', token, '--certificate-authority', caFile, '--tls-server-name', 'kubernetes.default.svc']);
    expect(named.stderr).toBe('');
    expect(named.code).toBe(0);
    const wrong = await bare(['--server', server, '--token', token, '--certificate-authority', caFile, '--tls-server-name', 'not-the-apiserver.example']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('--as and --as-group impersonate: RBAC decides as for that user and its groups', async () => {
    // deploy/ binds the service-proxier Role to system:authenticated, as upstream does: the anonymous user is refused.
    const anonymous = await kubeseal(['--fetch-cert', '--as', 'system:anonymous'], { env: env(), cwd: dir });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr.trim()).toMatch(/^error: not allowed to read the controller Service kube-system\/sealed-secrets-controller \(HTTP 403\); you need get on services and services\/proxy there/);
    const someone = await kubeseal(['--fetch-cert', '--as', 'nobody@example.com', '--as-group', 'team-a', '--as-group', 'team-b'], { env: env(), cwd: dir });
    expect(someone.stderr).toBe('');
    expect(someone.code).toBe(0);
    // Impersonating is itself authorised: a user who may not impersonate is refused.
    const sa = await serviceAccountKubeconfig(cluster);
    const denied = await kubeseal(['--fetch-cert', '--as', 'nobody@example.com'], { env: { KUBECONFIG: sa }, cwd: dir });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/HTTP 403/);
  });

  it('inside a Pod: no kubeconfig, KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount files, as client-go\'s in-cluster config', async () => {
    const sa = join(home, 'serviceaccount');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), token);
    writeFileSync(join(sa, 'ca.crt'), readFileSync(caFile));
    writeFileSync(join(sa, 'namespace'), 'default');
    const url = new URL(server);
    const r = await bare([], { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, KUBESEAL_SERVICE_ACCOUNT_DIR: sa });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await served());
    // Sealing in the Pod: the certificate through the API server, the namespace from the ServiceAccount.
    const sealed = await kubeseal(['-o', 'json'], { cwd: home, input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'from-pod' }, stringData: { token: 'v-pod' } }), env: { HOME: home, KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, KUBESEAL_SERVICE_ACCOUNT_DIR: sa } });
    expect(sealed.code).toBe(0);
    const ss = JSON.parse(sealed.stdout) as SealedSecret;
    expect(ss.metadata.namespace).toBe('default');
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: ss });
    const s = await waitFor(async () => cluster.admin.request<{ data: Record<string, string> }>({ method: 'GET', path: paths.secret('default', 'from-pod') }), 20_000, 'the Secret');
    expect(Buffer.from(s.data['token']!, 'base64').toString()).toBe('v-pod');
  });

  it('through HTTPS_PROXY: a CONNECT tunnel to the API server, which the proxy sees only as its target; NO_PROXY bypasses it', async () => {
    const { startConnectProxy } = await import('../connect-proxy.js');
    // kubernetes.default is in the API server's certificate; only the proxy knows where it is (loopback is never proxied).
    const proxy = await startConnectProxy((h) => (h === 'kubernetes.default' ? '127.0.0.1' : h));
    try {
      const viaName = server.replace('127.0.0.1', 'kubernetes.default');
      const r = await bare(['--server', viaName, '--token', token, '--certificate-authority', caFile], { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(await served());
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

  it('--fetch-cert -w FILE writes the certificate fetched through the API server to the file', async () => {
    const r = await kubeseal(['--fetch-cert', '-w', 'fetched.pem'], { env: env(), cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(dir, 'fetched.pem'), 'utf8')).toBe(await served());
  });
});
