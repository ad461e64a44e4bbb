/**
 * The controller's in-cluster configuration, as in a Pod but as a local process (faster than the
 * node, and the token file can be replaced at will): no kubeconfig, the API server from
 * KUBERNETES_SERVICE_HOST/PORT, the CA, token and namespace from
 * /var/run/secrets/kubernetes.io/serviceaccount (a private mount namespace gives the process its
 * own /run, so nothing on the machine changes). kubelet 1.20 never rotates legacy ServiceAccount
 * tokens, so the rotation is done here: the token file is replaced and the old token revoked.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { createPublicKey } from 'node:crypto';
import { publicKeyFingerprint, sealSecret } from '../../src/index.js';
import { tempDir } from '../cli-helpers.js';
import { applyManifests, controllerCertificate, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';

let cluster: Cluster;
let ctrl: ControllerProcess | undefined;
let saDir: string;
const SA_PATH = '/run/secrets/kubernetes.io/serviceaccount';

async function tokenOf(secret: string): Promise<string> {
  const s = await waitFor(async () => {
    const x = await cluster.admin.request<{ data?: { token?: string } }>({ method: 'GET', path: paths.secret('kube-system', secret) });
    return x.data?.token ? x : undefined;
  }, 30_000, `the token in ${secret}`);
  return Buffer.from(s.data!.token!, 'base64').toString();
}

async function statusWith(token: string): Promise<number> {
  const server = new URL(cluster.admin.server);
  const ca = readFileSync(join(cluster.stateDir, 'pki/ca.crt'));
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    request({ host: server.hostname, port: server.port, path: '/api/v1/namespaces/kube-system/secrets?limit=1', ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
}

beforeAll(async () => {
  cluster = await startCluster();
  await applyManifests(cluster.admin);
  saDir = tempDir();
}, 20 * 60_000);

afterAll(async () => {
  await ctrl?.stop();
  cluster?.down();
});

describe('the controller in-cluster', () => {
  it('takes the API server from KUBERNETES_SERVICE_*, the CA and token from the ServiceAccount files, and re-reads a replaced token file', async () => {
    const acct = await waitFor(async () => {
      const a = await cluster.admin.request<{ secrets?: { name: string }[] }>({ method: 'GET', path: '/api/v1/namespaces/kube-system/serviceaccounts/sealed-secrets-controller' });
      return a.secrets?.[0]?.name;
    }, 30_000, 'the ServiceAccount token Secret');
    const tokenA = await tokenOf(acct);
    writeFileSync(join(saDir, 'token'), tokenA);
    writeFileSync(join(saDir, 'ca.crt'), readFileSync(join(cluster.stateDir, 'pki/ca.crt')));
    writeFileSync(join(saDir, 'namespace'), 'kube-system');
    const port = new URL(cluster.admin.server).port;
    // Its own /run (tmpfs) with the ServiceAccount directory bound in: as kubelet mounts it in a Pod.
    const prefix = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs /run && mkdir -p ${SA_PATH} && mount --bind "$0" ${SA_PATH} && exec "$@"`, saDir];
    ctrl = await startController(null, [], { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port, HOME: '/nonexistent' }, '127.0.0.1', prefix);
    const publicKey = createPublicKey(await controllerCertificate(ctrl));
    const key = { publicKey, fingerprint: publicKeyFingerprint(publicKey) };
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: sealSecret({ metadata: { name: 'with-token-a', namespace: 'default' }, stringData: { v: 'a' } }, key) });
    await waitFor(() => cluster.admin.request({ method: 'GET', path: paths.secret('default', 'with-token-a') }).catch(() => undefined), 30_000, 'the Secret unsealed with token A');

    // A second token of the same ServiceAccount, written over the file (atomically, as kubelet
    // does), and the first one revoked.
    await cluster.admin.request({
      method: 'POST',
      path: paths.secrets('kube-system'),
      body: { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'sealed-secrets-controller-token-b', namespace: 'kube-system', annotations: { 'kubernetes.io/service-account.name': 'sealed-secrets-controller' } } },
    });
    const tokenB = await tokenOf('sealed-secrets-controller-token-b');
    expect(tokenB).not.toBe(tokenA);
    mkdirSync(join(saDir, '..new'), { recursive: true });
    writeFileSync(join(saDir, '..new/token'), tokenB);
    renameSync(join(saDir, '..new/token'), join(saDir, 'token'));
    await cluster.admin.request({ method: 'DELETE', path: paths.secret('kube-system', acct) });
    await waitFor(async () => ((await statusWith(tokenA)) === 401 ? true : undefined), 30_000, 'token A to be rejected');
    expect(await statusWith(tokenB)).toBe(200);

    // The controller goes on with token B, well before client-node's one-minute token cache expires.
    const t0 = Date.now();
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: sealSecret({ metadata: { name: 'with-token-b', namespace: 'default' }, stringData: { v: 'b' } }, key) });
    const s = await waitFor(() => cluster.admin.request<{ data: Record<string, string> }>({ method: 'GET', path: paths.secret('default', 'with-token-b') }).catch(() => undefined), 25_000, 'the Secret unsealed after the token was replaced');
    expect(Buffer.from(s.data['v']!, 'base64').toString()).toBe('b');
    expect(Date.now() - t0).toBeLessThan(25_000);
    // No token in its logs.
    const logs = ctrl.logs.join('\n');
    expect(logs).not.toContain(tokenA);
    expect(logs).not.toContain(tokenB);
  }, 120_000);
});
