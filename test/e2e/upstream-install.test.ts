/**
 * A drop-in for upstream's install (issue 11), on a real API server: the controller runs on a
 * ServiceAccount bound to exactly the rules of upstream's Helm chart (templates/cluster-role.yaml
 * and role.yaml, default values: no Lease rights, only `update` on sealedsecrets/status), in a
 * namespace of its own that is not kube-system. It must run unelected and say so, unseal, write
 * status and Events; its conditions must read right in Argo CD's and kstatus's (Flux's) rules
 * (test/e2e/health-rules.ts); a Secret written with skip-set-owner-references stays its own
 * across an update, a restart and a key rotation while a foreign Secret is refused; and with
 * --skip-recreate it needs no cluster-wide Secret list/watch.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, paths } from '../../controller/kube/client.js';
import { publicKeyFingerprint, sealSecret, type SealedSecret, type Secret } from '../../src/index.js';
import { argoCdHealth, kstatus } from './health-rules.js';
import { controllerCertificate, createNamespaces, getSealedSecret, getSecretIfAny, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';

const CTRL_NS = 'sealed-secrets';
const APPS = 'apps';
let cluster: Cluster;
let ctrl: ControllerProcess | undefined;
let kubeconfig: string;
const ARGS = ['--key-activation-delay', '0s'];
const ENV = { POD_NAMESPACE: CTRL_NS };

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]) => ({ apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) });
/** Upstream's chart, rendered with its default values (release name sealed-secrets-controller). */
const UPSTREAM_CLUSTER_RULES = [
  rule(['bitnami.com'], ['sealedsecrets'], ['get', 'list', 'watch']),
  rule(['bitnami.com'], ['sealedsecrets/status'], ['update']),
  rule([''], ['secrets'], ['get', 'list', 'create', 'update', 'delete', 'watch']),
  rule([''], ['events'], ['create', 'patch']),
];
const UPSTREAM_KEY_ADMIN_RULES = [rule([''], ['secrets'], ['get'], ['sealed-secrets-key']), rule([''], ['secrets'], ['create', 'list'])];

async function create(path: string, body: unknown): Promise<void> {
  await cluster.admin.request({ method: 'POST', path, body });
}

async function installUpstreamRbac(): Promise<void> {
  const sa = { kind: 'ServiceAccount', name: 'sealed-secrets-controller', namespace: CTRL_NS };
  await create(`/api/v1/namespaces/${CTRL_NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa.name, namespace: CTRL_NS } });
  await create(`${RBAC}/clusterroles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'secrets-unsealer' }, rules: UPSTREAM_CLUSTER_RULES });
  await create(`${RBAC}/clusterrolebindings`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'sealed-secrets-controller' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secrets-unsealer' }, subjects: [sa] });
  await create(`${RBAC}/namespaces/${CTRL_NS}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'sealed-secrets-controller-key-admin', namespace: CTRL_NS }, rules: UPSTREAM_KEY_ADMIN_RULES });
  await create(`${RBAC}/namespaces/${CTRL_NS}/rolebindings`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'sealed-secrets-controller-key-admin', namespace: CTRL_NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'sealed-secrets-controller-key-admin' }, subjects: [sa] });
}

const getSS = (name: string) => getSealedSecret(cluster.admin, APPS, name);
const getSecret = (name: string) => getSecretIfAny(cluster.admin, APPS, name);
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString());

async function seal(name: string, value: string, template: Partial<Secret> = {}): Promise<SealedSecret> {
  const pub = createPublicKey(await controllerCertificate(ctrl!));
  return sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: APPS, ...template.metadata }, stringData: { v: value } }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) });
}

/** Read-modify-write with retry on conflict: the controller writes status concurrently. */
async function updateSpec(name: string, next: SealedSecret): Promise<void> {
  await waitFor(async () => {
    const live = await getSS(name);
    live.spec = next.spec;
    try {
      await cluster.admin.request({ method: 'PUT', path: paths.sealedSecret(APPS, name), body: live });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.conflict) return false;
      throw e;
    }
  }, 10_000, `update of ${APPS}/${name}`);
}

/** The SealedSecret once its status describes its current generation. */
async function settled(name: string, synced?: 'True' | 'False'): Promise<SealedSecret> {
  return waitFor(async () => {
    const ss = await getSS(name);
    const c = ss.status?.conditions?.find((x) => x.type === 'Synced');
    return c && ss.status?.observedGeneration === ss.metadata.generation && (!synced || c.status === synced) ? ss : undefined;
  }, 30_000, `${APPS}/${name} settled${synced ? ` with Synced=${synced}` : ''}`);
}

const conds = (ss: SealedSecret) => (ss.status?.conditions ?? []).map((c) => `${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`);

async function eventsOf(name: string): Promise<string[]> {
  const list = await cluster.admin.request<{ items: { reason: string; message: string; type: string; involvedObject: { name: string } }[] }>({ method: 'GET', path: paths.events(APPS) });
  return list.items.filter((e) => e.involvedObject.name === name).map((e) => `${e.type} ${e.reason} ${e.message}`);
}

async function keySecrets(): Promise<Secret[]> {
  return (await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets(CTRL_NS), query: { labelSelector: 'sealedsecrets.bitnami.com/sealed-secrets-key=active' } })).items;
}

beforeAll(async () => {
  cluster = await startCluster();
  await createNamespaces(cluster.admin, [CTRL_NS, APPS]);
  await installUpstreamRbac();
  kubeconfig = await serviceAccountKubeconfig(cluster, CTRL_NS, 'sealed-secrets-controller');
  ctrl = await startController(kubeconfig, ARGS, ENV);
}, 20 * 60_000);

afterAll(async () => {
  await ctrl?.stop();
  cluster?.down();
});

describe("upstream's chart RBAC (no Lease rights, update on sealedsecrets/status)", () => {
  it('runs unelected and says so in the log, a metric and /readyz; keeps its keys in its own namespace; unseals, writes status and Events', async () => {
    await waitFor(() => ctrl!.logs.some((l) => l.includes('leader election is forbidden: running unelected')), 30_000, 'the Lease-forbidden warning');
    const line = ctrl!.logs.find((l) => l.includes('leader election is forbidden'))!;
    expect(line).toContain('level=ERROR');
    expect(line).toContain(`lease=${CTRL_NS}/sealed-secrets-controller`);
    expect(line).toContain('grant get, create and update on leases');
    expect(await ctrl!.metric('sealed_secrets_controller_leader_election_forbidden')).toBe(1);
    expect(await ctrl!.metric('sealed_secrets_controller_is_leader')).toBe(1);
    const ready = await waitFor(async () => {
      const r = await fetch(`${ctrl!.url}/readyz`);
      return r.ok ? r.text() : undefined;
    }, 30_000, '/readyz');
    expect(ready).toContain('unelected: the Lease is forbidden, see logs');
    // The key is where the chart's Role lets it be: the controller's namespace, not kube-system.
    expect(await keySecrets()).toHaveLength(1);

    await create(paths.sealedSecrets(APPS), await seal('db', 'pw-1'));
    const ss = await settled('db', 'True');
    expect(unb64((await getSecret('db'))?.data?.['v'])).toBe('pw-1');
    expect(conds(ss)).toEqual(['Synced=True Unsealed: ', 'Ready=True Unsealed: ']);
    await waitFor(async () => (await eventsOf('db')).includes('Normal Unsealed SealedSecret unsealed successfully'), 10_000, 'the Unsealed Event');
    expect(ctrl!.logs.filter((l) => /status update failed|forbidden/i.test(l) && !l.includes('leader election is forbidden'))).toEqual([]);
  }, 120_000);

  it("reads right in Argo CD's and kstatus's rules: success Healthy/Current, failure Degraded/Failed (Stalled), an unobserved generation Progressing/InProgress", async () => {
    const ok = await settled('db', 'True');
    expect(argoCdHealth(ok)).toEqual({ status: 'Healthy', message: '' });
    expect(argoCdHealth(ok, { legacy: true })).toEqual({ status: 'Healthy', message: '' });
    expect(kstatus(ok)).toEqual({ status: 'Current', message: 'Resource is current' });

    // Sealed for a key the controller does not have: waits for a change (Stalled).
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    await create(paths.sealedSecrets(APPS), sealSecret({ metadata: { name: 'wrong', namespace: APPS }, stringData: { v: 'x' } }, { publicKey: other }));
    const bad = await settled('wrong', 'False');
    const synced = bad.status!.conditions!.find((c) => c.type === 'Synced')!;
    expect(synced.message).toMatch(/^no key could decrypt secret \(v\)/);
    expect(conds(bad)).toEqual([`Synced=False ErrUnsealFailed: ${synced.message}`, `Ready=False ErrUnsealFailed: ${synced.message}`, `Stalled=True ErrUnsealFailed: ${synced.message}`]);
    expect(argoCdHealth(bad)).toEqual({ status: 'Degraded', message: synced.message });
    expect(kstatus(bad)).toEqual({ status: 'Failed', message: synced.message });

    // An existing Secret that is not the controller's: upstream's texts first, our hint after.
    await create(paths.secrets(APPS), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'theirs', namespace: APPS }, data: { keep: Buffer.from('k').toString('base64') } });
    await create(paths.sealedSecrets(APPS), await seal('theirs', 'x'));
    const refused = await settled('theirs', 'False');
    expect(refused.status!.conditions![0]!.message).toBe('failed update: Resource "theirs" already exists and is not managed by SealedSecret');
    expect(kstatus(refused).status).toBe('Failed');
    expect(argoCdHealth(refused).status).toBe('Degraded');
    await waitFor(async () => (await eventsOf('theirs')).some((e) => e.startsWith('Warning ErrUpdateFailed Resource "theirs" already exists and is not managed by SealedSecret; add the annotation')), 10_000, 'the ErrUpdateFailed Event');
    expect(unb64((await getSecret('theirs'))?.data?.['keep'])).toBe('k');
  }, 120_000);

  it('a Secret written with skip-set-owner-references stays the controller\'s across an update, a restart and a key rotation; a Secret with its annotations copied is refused', async () => {
    const template = { metadata: { annotations: { 'sealedsecrets.bitnami.com/skip-set-owner-references': 'true' } } };
    await create(paths.sealedSecrets(APPS), await seal('noowner', 'v1', template));
    await settled('noowner', 'True');
    const first = (await getSecret('noowner'))!;
    expect(first.metadata.ownerReferences ?? []).toEqual([]);
    expect(unb64(first.data?.['v'])).toBe('v1');

    // Someone copies everything the controller wrote on it onto a Secret of their own.
    const copied = Object.fromEntries(Object.entries(first.metadata.annotations ?? {}));
    await create(paths.secrets(APPS), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'forged', namespace: APPS, annotations: copied }, data: first.data });
    await create(paths.sealedSecrets(APPS), await seal('forged', 'x', template));
    expect((await settled('forged', 'False')).status!.conditions![0]!.message).toBe('failed update: Resource "forged" already exists and is not managed by SealedSecret');
    expect(unb64((await getSecret('forged'))?.data?.['v'])).toBe('v1');

    // An update of the SealedSecret (a new source hash): still ours, updated.
    await updateSpec('noowner', await seal('noowner', 'v2', template));
    await waitFor(async () => unb64((await getSecret('noowner'))?.data?.['v']) === 'v2', 20_000, 'noowner updated to v2');
    expect(conds(await settled('noowner', 'True'))).toEqual(['Synced=True Unsealed: ', 'Ready=True Unsealed: ']);

    // Pending: the controller is down while the spec changes. Both tools say "not yet".
    await ctrl!.stop();
    ctrl = undefined;
    const v3 = sealSecret({ metadata: { name: 'noowner', namespace: APPS, ...template.metadata }, stringData: { v: 'v3' } }, { publicKey: createPublicKey(await keySecretCert()) });
    await updateSpec('noowner', v3);
    const pending = await getSS('noowner');
    expect(pending.status?.observedGeneration).toBe((pending.metadata.generation ?? 0) - 1);
    expect(argoCdHealth(pending)).toEqual({ status: 'Progressing', message: 'Waiting for Sealed Secret to be decrypted' });
    expect(kstatus(pending).status).toBe('InProgress');

    // A restart: still ours, updated.
    ctrl = await startController(kubeconfig, ARGS, ENV);
    await waitFor(async () => unb64((await getSecret('noowner'))?.data?.['v']) === 'v3', 30_000, 'noowner updated to v3 after the restart');
    await settled('noowner', 'True');

    // A key rotation (SIGUSR1; the unelected controller may rotate): every SealedSecret is
    // looked at again, and a SealedSecret sealed for the new key updates the same Secret.
    const certBefore = await controllerCertificate(ctrl);
    ctrl.proc.kill('SIGUSR1');
    await waitFor(async () => (await keySecrets()).length === 2, 30_000, 'the second key');
    await waitFor(async () => (await controllerCertificate(ctrl!)) !== certBefore, 30_000, 'the new sealing key served');
    await updateSpec('noowner', await seal('noowner', 'v4', template));
    await waitFor(async () => unb64((await getSecret('noowner'))?.data?.['v']) === 'v4', 30_000, 'noowner updated to v4 (new key)');
    expect(conds(await settled('noowner', 'True'))).toEqual(['Synced=True Unsealed: ', 'Ready=True Unsealed: ']);
    expect((await eventsOf('noowner')).filter((e) => e.includes('ErrUpdateFailed'))).toEqual([]);
    expect((await getSecret('noowner'))!.metadata.ownerReferences ?? []).toEqual([]);
  }, 240_000);

  it('--skip-recreate with --watch-for-secrets=false needs no cluster-wide list or watch of Secrets', async () => {
    await ctrl!.stop();
    ctrl = undefined;
    // Upstream's ClusterRole without list and watch on Secrets (what --skip-recreate is for).
    const limited = UPSTREAM_CLUSTER_RULES.map((r) => (r.resources[0] === 'secrets' ? rule([''], ['secrets'], ['get', 'create', 'update']) : r));
    const cr = await cluster.admin.request<{ rules: unknown[] }>({ method: 'GET', path: `${RBAC}/clusterroles/secrets-unsealer` });
    await cluster.admin.request({ method: 'PUT', path: `${RBAC}/clusterroles/secrets-unsealer`, body: { ...cr, rules: limited } });
    const dbBefore = (await getSecret('db'))!.metadata.resourceVersion;
    ctrl = await startController(kubeconfig, [...ARGS, '--skip-recreate', '--watch-for-secrets=false'], ENV);
    await waitFor(async () => (await fetch(`${ctrl!.url}/readyz`)).ok, 30_000, 'ready without a Secret informer');
    await create(paths.sealedSecrets(APPS), await seal('limited', 'lim'));
    await settled('limited', 'True');
    expect(unb64((await getSecret('limited'))?.data?.['v'])).toBe('lim');
    // Up-to-date Secrets, read one by one with get, are not written again.
    await waitFor(async () => (await ctrl!.metric('sealed_secrets_controller_reconciles_total{outcome="unchanged"}')) >= 2, 20_000, 'the resync');
    expect((await getSecret('db'))!.metadata.resourceVersion).toBe(dbBefore);
    expect(ctrl.logs.filter((l) => /watch failed|forbidden/i.test(l) && !l.includes('leader election is forbidden'))).toEqual([]);
  }, 120_000);
});

/** The newest key's certificate, read from the key Secrets (the controller is stopped). */
async function keySecretCert(): Promise<string> {
  const keys = await keySecrets();
  keys.sort((a, b) => String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
  return Buffer.from(keys[0]!.data!['tls.crt']!, 'base64').toString();
}
