/** Two controller processes with leader election on a Lease; the leader is killed with SIGKILL. */
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { sealSecret, type Secret } from '../../src/index.js';
import { applyManifests, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';

let cluster: Cluster;
let a: ControllerProcess;
let b: ControllerProcess;
let kc: string;
const fast = ['--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms'];

beforeAll(async () => {
  cluster = await startCluster();
  await applyManifests(cluster.admin);
  kc = await serviceAccountKubeconfig(cluster);
  a = await startController(kc, fast);
  await waitFor(() => a.logs.some((l) => l.includes('msg="became leader"')), 20_000, 'the first leader');
  b = await startController(kc, fast);
}, 20 * 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  cluster?.down();
});

describe('leader election', () => {
  it('only one replica leads and only one key is generated; followers serve the same certificate', async () => {
    await waitFor(async () => (await fetch(`${b.url}/readyz`)).ok, 20_000, 'the follower to be ready');
    expect(b.logs.some((l) => l.includes('became leader'))).toBe(false);
    expect(await a.metric('sealed_secrets_controller_is_leader')).toBe(1);
    const keys = await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets('kube-system'), query: { labelSelector: 'sealedsecrets.bitnami.com/sealed-secrets-key=active' } });
    expect(keys.items).toHaveLength(1);
    expect(await (await fetch(`${b.url}/v1/cert.pem`)).text()).toBe(await (await fetch(`${a.url}/v1/cert.pem`)).text());
  });

  it('two controllers with other key prefixes (label-selector shards) each lead on a Lease of their own in the same namespace', async () => {
    const shard = (p: string) => startController(kc, [...fast, '--key-prefix', `shard-${p}`, '--label-selector', `shard=${p}`]);
    const [x, y] = await Promise.all([shard('x'), shard('y')]);
    try {
      for (const c of [x, y]) await waitFor(() => c.logs.some((l) => l.includes('msg="became leader"')), 20_000, 'each shard to lead');
      expect(await x.metric('sealed_secrets_controller_is_leader')).toBe(1);
      expect(await y.metric('sealed_secrets_controller_is_leader')).toBe(1);
      const leases = await cluster.admin.request<{ items: { metadata: { name: string }; spec: { holderIdentity?: string } }[] }>({ method: 'GET', path: paths.leases('kube-system') });
      const names = leases.items.map((l) => l.metadata.name);
      expect(names).toContain('sealed-secrets-controller');
      const own = (p: string) => leases.items.find((l) => new RegExp(`^sealed-secrets-controller-shard-${p}-[0-9a-f]{10}$`).test(l.metadata.name));
      expect(own('x')?.spec.holderIdentity).toBeTruthy();
      expect(own('y')?.spec.holderIdentity).toBeTruthy();
      expect(own('x')!.spec.holderIdentity).not.toBe(own('y')!.spec.holderIdentity);
      // The first pair still has exactly one leader on its own Lease.
      expect(await a.metric('sealed_secrets_controller_is_leader')).toBe(1);
      expect(await b.metric('sealed_secrets_controller_is_leader')).toBe(0);
      expect([...x.logs, ...y.logs].join('\n')).not.toMatch(/forbidden/i);
    } finally {
      await Promise.all([x.stop(), y.stop()]);
    }
  }, 60_000);

  it('when the leader is killed, the other takes over and keeps unsealing', async () => {
    const cert = await (await fetch(`${a.url}/v1/cert.pem`)).text();
    const seal = (name: string) => sealSecret({ metadata: { name, namespace: 'default' }, stringData: { v: name } }, { publicKey: createPublicKey(cert) });
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: seal('before') });
    await waitFor(() => cluster.admin.request({ method: 'GET', path: paths.secret('default', 'before') }), 20_000, 'the first Secret');
    const killedAt = Date.now();
    await a.kill9();
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: seal('after') });
    await waitFor(() => b.logs.some((l) => l.includes('msg="became leader"')), 20_000, 'the follower to take over');
    await waitFor(() => cluster.admin.request({ method: 'GET', path: paths.secret('default', 'after') }), 20_000, 'the Secret made by the new leader');
    const recovery = Date.now() - killedAt;
    console.log(`leader failover: new SealedSecret unsealed ${recovery} ms after SIGKILL of the leader (lease 3 s)`);
    const keys = await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets('kube-system'), query: { labelSelector: 'sealedsecrets.bitnami.com/sealed-secrets-key=active' } });
    expect(keys.items).toHaveLength(1);
  }, 60_000);
});
