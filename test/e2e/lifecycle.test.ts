/**
 * The controller on a real API server: the whole life cycle of SealedSecrets,
 * taking over upstream's keys, a restart that costs no RSA operation, and a scan
 * of logs, Events and metrics for secret material.
 */
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { keyToSecret, parsePrivateKeyPem, publicKeyFingerprint, sealSecret, type SealedSecret, type Secret } from '../../src/index.js';
import { sealedSecretCases, vectorKeys } from '../vectors.js';
import { applyManifests, controllerCertificate, createNamespaces, getSealedSecret, getSecretIfAny, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';

let cluster: Cluster;
let ctrl: ControllerProcess;
let saKubeconfig: string;
let certPem: string;
const plaintexts = new Set<string>();

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString());

function seal(ns: string, name: string, data: Record<string, string>, extra: Partial<Secret> = {}, scope?: 'strict' | 'namespace-wide' | 'cluster-wide'): SealedSecret {
  for (const v of Object.values(data)) plaintexts.add(v);
  const pub = createPublicKey(certPem);
  return sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: data, ...extra }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) }, { scope });
}

async function createSS(ss: SealedSecret, ns = ss.metadata.namespace!): Promise<void> {
  await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(ns), body: { ...ss, metadata: { ...ss.metadata, namespace: ns } } });
}

const getSecret = (ns: string, name: string) => getSecretIfAny(cluster.admin, ns, name);

/** Read-modify-write with retry on conflict: the controller writes status concurrently. */
async function updateSS(ns: string, name: string, mutate: (ss: SealedSecret) => void): Promise<void> {
  await waitFor(async () => {
    const ss = await getSS(ns, name);
    mutate(ss);
    await cluster.admin.request({ method: 'PUT', path: paths.sealedSecret(ns, name), body: ss });
    return true;
  }, 10_000, `update of ${ns}/${name}`);
}

const getSS = (ns: string, name: string) => getSealedSecret(cluster.admin, ns, name);

const synced = async (ns: string, name: string, want: 'True' | 'False') =>
  waitFor(async () => {
    const ss = await getSS(ns, name);
    const c = ss.status?.conditions?.find((x) => x.type === 'Synced');
    return c?.status === want && ss.status?.observedGeneration === ss.metadata.generation ? c : undefined;
  }, 20_000, `${ns}/${name} Synced=${want}`);

async function events(ns: string, name: string): Promise<{ reason: string; message: string; type: string }[]> {
  const list = await cluster.admin.request<{ items: { reason: string; message: string; type: string; involvedObject: { name: string } }[] }>({ method: 'GET', path: paths.events(ns) });
  return list.items.filter((e) => e.involvedObject.name === name);
}

beforeAll(async () => {
  cluster = await startCluster();
  const kinds = await applyManifests(cluster.admin);
  expect(kinds).toEqual(expect.arrayContaining(['CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'Role', 'Deployment', 'Service']));
  saKubeconfig = await serviceAccountKubeconfig(cluster);
  ctrl = await startController(saKubeconfig);
  certPem = await controllerCertificate(ctrl);
  await createNamespaces(cluster.admin, ['team-a', 'team-b']);
}, 20 * 60_000);

afterAll(async () => {
  await ctrl?.stop();
  cluster?.down();
});

describe('controller life cycle on a real API server', () => {
  it('generates a key in upstream format on first start and serves its certificate', async () => {
    const keys = await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets('kube-system'), query: { labelSelector: 'sealedsecrets.bitnami.com/sealed-secrets-key=active' } });
    expect(keys.items).toHaveLength(1);
    const k = keys.items[0]!;
    expect(k.type).toBe('kubernetes.io/tls');
    expect(k.metadata.name).toMatch(/^sealed-secrets-key[a-z0-9]{5}$/);
    expect(unb64(k.data!['tls.key'])).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(unb64(k.data!['tls.crt'])).toBe(certPem);
    expect((await fetch(`${ctrl.url}/readyz`)).status).toBe(200);
  });

  it('creates the Secret with an ownerReference, sets Synced=True and records an Unsealed Event', async () => {
    const ss = seal('team-a', 'db', { username: 'admin', password: 'pw-create-1' }, { type: 'kubernetes.io/basic-auth', metadata: { name: 'db', namespace: 'team-a', labels: { app: 'db' } } });
    await createSS(ss);
    const secret = await waitFor(() => getSecret('team-a', 'db'), 20_000, 'Secret team-a/db');
    expect(unb64(secret.data!['password'])).toBe('pw-create-1');
    expect(secret.type).toBe('kubernetes.io/basic-auth');
    expect(secret.metadata.labels).toEqual({ app: 'db' });
    const live = await getSS('team-a', 'db');
    expect(secret.metadata.ownerReferences).toEqual([{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: 'db', uid: live.metadata.uid, controller: true }]);
    await synced('team-a', 'db', 'True');
    await waitFor(async () => (await events('team-a', 'db')).some((e) => e.reason === 'Unsealed' && e.type === 'Normal'), 10_000, 'the Unsealed event');
  });

  it('updates the Secret when items change, and processes a metadata-only change', async () => {
    const next = seal('team-a', 'db', { username: 'admin', password: 'pw-update-2', extra: 'x-value-3' }, { type: 'kubernetes.io/basic-auth', metadata: { name: 'db', namespace: 'team-a', labels: { app: 'db' } } });
    await updateSS('team-a', 'db', (live) => (live.spec = next.spec));
    await waitFor(async () => unb64((await getSecret('team-a', 'db'))?.data?.['extra']) === 'x-value-3', 20_000, 'the new item');
    // Turning a strict SealedSecret cluster-wide by annotation alone changes its label: it must now fail.
    await updateSS('team-a', 'db', (cur) => (cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), 'sealedsecrets.bitnami.com/cluster-wide': 'true' }));
    const c = await waitFor(async () => {
      const s = await getSS('team-a', 'db');
      return s.status?.conditions?.[0]?.status === 'False' ? s.status.conditions[0] : undefined;
    }, 20_000, 'Synced=False after the scope annotation change');
    expect(c.message).toMatch(/^no key could decrypt secret \(extra, password, username\)/);
    // The existing Secret is left as it was: a failed reconcile never destroys data.
    expect(unb64((await getSecret('team-a', 'db'))?.data?.['password'])).toBe('pw-update-2');
    await updateSS('team-a', 'db', (cur) => delete cur.metadata.annotations!['sealedsecrets.bitnami.com/cluster-wide']);
    await synced('team-a', 'db', 'True');
  });

  it('restores a Secret edited or deleted by hand', async () => {
    const s = (await getSecret('team-a', 'db'))!;
    s.data!['password'] = b64('tampered');
    await cluster.admin.request({ method: 'PUT', path: paths.secret('team-a', 'db'), body: s });
    await waitFor(async () => unb64((await getSecret('team-a', 'db'))?.data?.['password']) === 'pw-update-2', 20_000, 'the edit to be reverted');
    await cluster.admin.request({ method: 'DELETE', path: paths.secret('team-a', 'db') });
    await waitFor(async () => unb64((await getSecret('team-a', 'db'))?.data?.['password']) === 'pw-update-2', 20_000, 'the Secret to be recreated');
  });

  it('renders template.data and keeps type and immutable', async () => {
    const ss = seal('team-a', 'app-config', { user: 'svc', pass: 'pw-tmpl-4' });
    ss.spec.template!.data = { 'config.yaml': 'dsn: postgres://{{ .user }}:{{ index . "pass" }}@db\n' };
    ss.spec.template!.immutable = true;
    await createSS(ss);
    const secret = await waitFor(() => getSecret('team-a', 'app-config'), 20_000, 'templated Secret');
    expect(unb64(secret.data!['config.yaml'])).toBe('dsn: postgres://svc:pw-tmpl-4@db\n');
    expect(secret.immutable).toBe(true);
  });

  it('a bad ciphertext gives Synced=False with a clear message, an ErrUnsealFailed Event, and no Secret', async () => {
    const ss = seal('team-a', 'broken', { token: 'pw-broken-5' });
    ss.spec.encryptedData['token'] = ss.spec.encryptedData['token']!.slice(0, 40) + 'AAAA' + ss.spec.encryptedData['token']!.slice(44);
    ss.spec.encryptedData['garbage'] = 'not base64!!';
    await createSS(ss);
    const c = await synced('team-a', 'broken', 'False');
    expect(c.message).toMatch(/^illegal base64 data at input byte \d+ \(garbage\)/);
    expect(await getSecret('team-a', 'broken')).toBeUndefined();
    const ev = await waitFor(async () => (await events('team-a', 'broken')).find((e) => e.reason === 'ErrUnsealFailed'), 10_000, 'the ErrUnsealFailed event');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toMatch(/^Failed to unseal: illegal base64 data/);
  });

  it('scopes: a strict SealedSecret moved to another namespace fails; cluster-wide and namespace-wide ones may move or be renamed', async () => {
    await createSS(seal('team-a', 'moved', { v: 'pw-scope-6' }), 'team-b');
    expect((await synced('team-b', 'moved', 'False')).message).toMatch(/^no key could decrypt secret \(v\)/);
    await createSS(seal('team-a', 'anywhere', { v: 'pw-scope-7' }, {}, 'cluster-wide'), 'team-b');
    await synced('team-b', 'anywhere', 'True');
    const renamed = seal('team-a', 'original', { v: 'pw-scope-8' }, {}, 'namespace-wide');
    renamed.metadata.name = 'renamed';
    await createSS(renamed);
    await synced('team-a', 'renamed', 'True');
    expect(unb64((await getSecret('team-a', 'renamed'))?.data?.['v'])).toBe('pw-scope-8');
  });

  it('refuses an existing Secret it does not own, until it is annotated managed; patch merges', async () => {
    await cluster.admin.request({ method: 'POST', path: paths.secrets('team-a'), body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'legacy', namespace: 'team-a' }, data: { old: b64('keep-me') } } });
    await createSS(seal('team-a', 'legacy', { fresh: 'pw-managed-9' }));
    const c = await synced('team-a', 'legacy', 'False');
    expect(c.message).toBe('failed update: Resource "legacy" already exists and is not managed by SealedSecret');
    expect((await getSecret('team-a', 'legacy'))!.data).toEqual({ old: b64('keep-me') });
    const s = (await getSecret('team-a', 'legacy'))!;
    s.metadata.annotations = { 'sealedsecrets.bitnami.com/managed': 'true' };
    await cluster.admin.request({ method: 'PUT', path: paths.secret('team-a', 'legacy'), body: s });
    await synced('team-a', 'legacy', 'True');
    expect((await getSecret('team-a', 'legacy'))!.data).toEqual({ fresh: b64('pw-managed-9') });

    await cluster.admin.request({ method: 'POST', path: paths.secrets('team-a'), body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'patched', namespace: 'team-a', annotations: { 'sealedsecrets.bitnami.com/patch': 'true' } }, data: { other: b64('theirs') } } });
    await createSS(seal('team-a', 'patched', { mine: 'pw-patch-10' }));
    await synced('team-a', 'patched', 'True');
    expect((await getSecret('team-a', 'patched'))!.data).toEqual({ other: b64('theirs'), mine: b64('pw-patch-10') });
  });

  it('deleting a SealedSecret lets the garbage collector delete its Secret', async () => {
    await createSS(seal('team-b', 'short-lived', { v: 'pw-gc-11' }));
    await waitFor(() => getSecret('team-b', 'short-lived'), 20_000, 'the Secret');
    await cluster.admin.request({ method: 'DELETE', path: paths.sealedSecret('team-b', 'short-lived') });
    await waitFor(async () => (await getSecret('team-b', 'short-lived')) === undefined, 90_000, 'garbage collection of the Secret');
  }, 120_000);
});

describe('taking over upstream keys and SealedSecrets', () => {
  it('loads key Secrets in upstream format without a restart and unseals the upstream vectors exactly', async () => {
    for (const k of vectorKeys()) {
      const { privateKey } = parsePrivateKeyPem(k.privateKeyPem, k.id);
      await cluster.admin.request({ method: 'POST', path: paths.secrets('kube-system'), body: keyToSecret(privateKey, k.certPem, { namespace: 'kube-system' }) });
    }
    await waitFor(async () => (await ctrl.metric('sealed_secrets_controller_keys')) === 1 + vectorKeys().length, 20_000, 'the imported keys');
    // The newest key still seals: imported keys are older than the generated one.
    expect(await (await fetch(`${ctrl.url}/v1/cert.pem`)).text()).toBe(certPem);
    // Several vectors share a namespace and name, so each one is applied, checked and removed in turn.
    const cases = sealedSecretCases().filter((c) => c.expected.ok);
    for (const c of cases) {
      const ns = c.sealedSecret.metadata.namespace ?? 'upstream-any';
      const name = c.sealedSecret.metadata.name;
      await createNamespaces(cluster.admin, [ns]);
      await createSS({ ...c.sealedSecret, metadata: { ...c.sealedSecret.metadata, namespace: ns } }, ns);
      const want = c.expected.secret.data ?? {};
      const s = await waitFor(async () => {
        const got = await getSecret(ns, name);
        return got && JSON.stringify(got.data ?? {}) === JSON.stringify(want) ? got : undefined;
      }, 30_000, `Secret ${ns}/${name} of ${c.id}`);
      expect(s.type).toBe(c.expected.secret.type ?? 'Opaque');
      const ours = /^sealed-secrets-ts\.io\//;
      expect(Object.fromEntries(Object.entries(s.metadata.annotations ?? {}).filter(([k]) => !ours.test(k)))).toEqual(c.expected.secret.metadata.annotations ?? {});
      expect(s.metadata.labels ?? {}).toEqual(c.expected.secret.metadata.labels ?? {});
      expect(s.metadata.ownerReferences === undefined).toBe(c.expected.secret.metadata.ownerReferences === undefined);
      await cluster.admin.request({ method: 'DELETE', path: paths.sealedSecret(ns, name) });
      await cluster.admin.request({ method: 'DELETE', path: paths.secret(ns, name) }).catch(() => undefined);
      await waitFor(async () => (await getSecret(ns, name)) === undefined, 30_000, `removal of ${ns}/${name}`);
    }
  }, 120_000);
});

describe('restart, and what never leaks', () => {
  it('after a restart, up-to-date Secrets cost zero RSA operations and nothing is written', async () => {
    await ctrl.stop();
    const before = await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets() });
    ctrl = await startController(saKubeconfig);
    await waitFor(async () => (await fetch(`${ctrl.url}/readyz`)).status === 200, 30_000, 'readiness after restart');
    await waitFor(() => ctrl.logs.some((l) => l.includes('msg=reconciling')), 20_000, 'the leader to reconcile');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await ctrl.metric('sealed_secrets_controller_rsa_private_operations_total')).toBe(0);
    const after = await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets() });
    const rv = (l: { items: Secret[] }) => Object.fromEntries(l.items.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s.metadata.resourceVersion]));
    expect(rv(after)).toEqual(rv(before));
  }, 90_000);

  it('logs, Events and metrics carry no plaintext, private key or sealed value', async () => {
    const haystack = [
      ctrl.logs.join('\n'),
      JSON.stringify(await cluster.admin.request({ method: 'GET', path: '/api/v1/events' })),
      await (await fetch(`${ctrl.metricsUrl}/metrics`)).text(),
    ].join('\n');
    for (const p of plaintexts) {
      expect(haystack.includes(p), `plaintext ${p} leaked`).toBe(false);
      expect(haystack.includes(b64(p)), `base64 of ${p} leaked`).toBe(false);
    }
    expect(haystack).not.toMatch(/PRIVATE KEY/);
    expect(haystack).not.toMatch(/A[gQ][A-D][A-Za-z0-9+/]{100,}/);
    expect(plaintexts.size).toBeGreaterThan(8);
  });
});
