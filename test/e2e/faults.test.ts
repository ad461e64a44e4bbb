/**
 * Faults on the real local control plane: the controller SIGKILLed in the middle of
 * a bulk sync, the API server restarted, etcd stopped for a while. Each time the
 * controller recovers by itself and converges with nothing lost and nothing
 * duplicated; the time to recover is printed.
 */
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { publicKeyFingerprint, sealSecret, type SealedSecret, type Secret } from '../../src/index.js';
import { startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';

let cluster: Cluster;
let ctrl: ControllerProcess;
let cert: string;
const NS = 'faults';

const seal = (name: string) => {
  const pub = createPublicKey(cert);
  return sealSecret({ metadata: { name, namespace: NS }, stringData: { v: `v-${name}` } }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) });
};

async function secretsMade(prefix: string): Promise<Secret[]> {
  const list = await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets(NS) });
  return list.items.filter((s) => s.metadata.name!.startsWith(prefix));
}

async function allSynced(prefix: string, n: number): Promise<boolean> {
  const list = await cluster.admin.request<{ items: SealedSecret[] }>({ method: 'GET', path: paths.sealedSecrets(NS) });
  const mine = list.items.filter((s) => s.metadata.name!.startsWith(prefix));
  return mine.length === n && mine.every((s) => s.status?.conditions?.[0]?.status === 'True');
}

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } });
  ctrl = await startController(cluster.kubeconfig, ['--key-size', '4096', '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms']);
  cert = await waitFor(async () => {
    const r = await fetch(`${ctrl.url}/v1/cert.pem`);
    return r.ok ? r.text() : undefined;
  }, 60_000, 'the certificate');
}, 20 * 60_000);

afterAll(async () => {
  await ctrl?.stop();
  cluster?.down();
});

describe('faults', () => {
  it('SIGKILL in the middle of a bulk sync: the restarted controller finishes, nothing lost or duplicated', async () => {
    const n = 300;
    for (let i = 0; i < n; i++) await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(NS), body: seal(`bulk-${i}`) });
    await waitFor(async () => (await secretsMade('bulk-')).length >= 30, 60_000, 'the sync to be under way');
    await ctrl.kill9();
    const partial = (await secretsMade('bulk-')).length;
    const t0 = Date.now();
    ctrl = await startController(cluster.kubeconfig, ['--key-size', '4096']);
    await waitFor(() => allSynced('bulk-', n), 180_000, 'convergence after SIGKILL', 500);
    console.log(`kill -9 with ${partial}/${n} Secrets made: converged ${Date.now() - t0} ms after the restart`);
    const made = await secretsMade('bulk-');
    expect(made).toHaveLength(n);
    for (const s of made) expect(Buffer.from(s.data!['v']!, 'base64').toString()).toBe(`v-${s.metadata.name}`);
  }, 240_000);

  it('an API server restart: the controller reconnects and unseals what was created meanwhile', async () => {
    const t0 = Date.now();
    cluster.run('restart-apiserver');
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(NS), body: seal('after-apiserver') });
    await waitFor(async () => (await secretsMade('after-apiserver')).length === 1, 120_000, 'the Secret after the API server restart', 250).catch((e: Error) => {
      throw new Error(`${e.message}; controller log tail:\n${ctrl.logs.slice(-15).join('\n')}`);
    });
    console.log(`API server restart: new SealedSecret unsealed ${Date.now() - t0} ms after the restart began`);
    expect(ctrl.proc.exitCode).toBeNull();
  }, 180_000);

  it('etcd stopped for 5 s: the controller survives and catches up', async () => {
    cluster.run('stop-etcd');
    await new Promise((r) => setTimeout(r, 5000));
    const t0 = Date.now();
    cluster.run('start-etcd');
    await waitFor(async () => {
      await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(NS), body: seal('after-etcd') });
      return true;
    }, 60_000, 'the API to take writes again', 500);
    await waitFor(async () => (await secretsMade('after-etcd')).length === 1, 120_000, 'the Secret after the etcd outage', 250);
    console.log(`etcd outage of 5 s: new SealedSecret unsealed ${Date.now() - t0} ms after etcd came back`);
    expect(ctrl.proc.exitCode).toBeNull();
    expect(await allSynced('bulk-', 300)).toBe(true);
  }, 180_000);

  it('through all of it, no plaintext or key material reached the logs, Events or metrics', async () => {
    const haystack = [ctrl.logs.join('\n'), JSON.stringify(await cluster.admin.request({ method: 'GET', path: paths.events(NS) })), await (await fetch(`${ctrl.metricsUrl}/metrics`)).text()].join('\n');
    expect(haystack).not.toMatch(/v-bulk-\d+|v-after-/);
    expect(haystack).not.toMatch(/di1idWxr|PRIVATE KEY/); // base64 of "v-bulk", key PEM
  });
});
