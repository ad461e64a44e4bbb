/**
 * deploy/'s RBAC on a real API server: the controller's ServiceAccount may make exactly the
 * calls the controller makes (SubjectAccessReviews, verb by verb), deleting Secrets only with
 * deploy/components/old-gc-behavior; and with --old-gc-behavior, running on that
 * ServiceAccount's token, it deletes the Secret its deleted SealedSecret controlled and keeps
 * a same-named Secret that was never its own.
 */
import { createPublicKey } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { publicKeyFingerprint, sealSecret } from '../../src/index.js';
import { applyManifests, getSecretIfAny, ROOT, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';

let cluster: Cluster;
let ctrl: ControllerProcess | undefined;
const SA = 'system:serviceaccount:kube-system:sealed-secrets-controller';

async function can(verb: string, resource: string, o: { group?: string; namespace?: string; subresource?: string; name?: string } = {}): Promise<boolean> {
  const r = await cluster.admin.request<{ status: { allowed: boolean } }>({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: SA, groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'], resourceAttributes: { verb, resource, group: o.group ?? '', namespace: o.namespace, subresource: o.subresource, name: o.name } },
    },
  });
  return r.status.allowed;
}

const getSecret = (ns: string, name: string) => getSecretIfAny(cluster.admin, ns, name);

beforeAll(async () => {
  cluster = await startCluster();
  await applyManifests(cluster.admin);
}, 20 * 60_000);

afterAll(async () => {
  await ctrl?.stop();
  cluster?.down();
});

describe('deploy/ RBAC', () => {
  it('grants the controller exactly what it calls, and no delete, namespace, spec-update or status-patch rights', async () => {
    const granted: [string, string, Parameters<typeof can>[2]?][] = [
      ['list', 'sealedsecrets', { group: 'bitnami.com' }],
      ['watch', 'sealedsecrets', { group: 'bitnami.com' }],
      ['get', 'sealedsecrets', { group: 'bitnami.com', namespace: 'team-a', name: 'db' }],
      // Upstream's verb for status (the controller sends an update, conditioned on resourceVersion).
      ['update', 'sealedsecrets', { group: 'bitnami.com', subresource: 'status', namespace: 'team-a' }],
      ['list', 'secrets'],
      ['watch', 'secrets'],
      ['create', 'secrets', { namespace: 'team-a' }],
      ['update', 'secrets', { namespace: 'team-a', name: 'db' }],
      ['create', 'events', { namespace: 'team-a' }],
      // The key store and leader election, in the controller namespace only.
      ['get', 'secrets', { namespace: 'kube-system', name: 'sealed-secrets-key' }],
      ['create', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-system' }],
      ['update', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-system', name: 'sealed-secrets-controller' }],
      // The default Lease name follows --key-prefix (label-selector shards each lead).
      ['get', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-system', name: 'sealed-secrets-controller-shard-a' }],
    ];
    const refused: [string, string, Parameters<typeof can>[2]?][] = [
      ['delete', 'secrets', { namespace: 'team-a', name: 'db' }],
      ['delete', 'secrets', { namespace: 'kube-system', name: 'sealed-secrets-key' }],
      ['get', 'secrets', { namespace: 'team-a', name: 'db' }],
      ['get', 'namespaces', { name: 'team-a' }],
      ['patch', 'events', { namespace: 'team-a' }],
      ['patch', 'sealedsecrets', { group: 'bitnami.com', subresource: 'status', namespace: 'team-a' }],
      ['update', 'sealedsecrets', { group: 'bitnami.com', namespace: 'team-a', name: 'db' }],
      ['create', 'leases', { group: 'coordination.k8s.io', namespace: 'team-a' }],
    ];
    const wrong: string[] = [];
    for (const [verb, res, o] of granted) if (!(await can(verb, res, o))) wrong.push(`not granted: ${verb} ${res} ${JSON.stringify(o ?? {})}`);
    for (const [verb, res, o] of refused) if (await can(verb, res, o)) wrong.push(`granted: ${verb} ${res} ${JSON.stringify(o ?? {})}`);
    expect(wrong).toEqual([]);
  });

  it('deploy/components/old-gc-behavior adds delete on Secrets, and the controller then deletes only the Secret its deleted SealedSecret controlled', async () => {
    // An overlay of base plus the component, as a user would write it.
    const overlay = join(cluster.stateDir, 'old-gc-overlay');
    mkdirSync(overlay, { recursive: true });
    writeFileSync(join(overlay, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ${relative(overlay, join(ROOT, 'deploy/base'))}\ncomponents:\n- ${relative(overlay, join(ROOT, 'deploy/components/old-gc-behavior'))}\n`);
    expect(await applyManifests(cluster.admin, relative(ROOT, overlay))).toEqual(expect.arrayContaining(['ClusterRole', 'ClusterRoleBinding']));
    await waitFor(() => can('delete', 'secrets', { namespace: 'team-a', name: 'db' }), 10_000, 'delete on Secrets');

    await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gc' } } }).catch(() => undefined);
    ctrl = await startController(await serviceAccountKubeconfig(cluster), ['--old-gc-behavior']);
    const certPem = await waitFor(async () => {
      const r = await fetch(`${ctrl!.url}/v1/cert.pem`);
      return r.ok ? r.text() : undefined;
    }, 30_000, 'the controller certificate');
    const pub = createPublicKey(certPem);
    const seal = (name: string) => sealSecret({ metadata: { name, namespace: 'gc' }, stringData: { v: `pw-${name}` } }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) });
    // Someone else's Secret, with the name a SealedSecret then takes: the controller refuses it (not managed).
    await cluster.admin.request({ method: 'POST', path: paths.secrets('gc'), body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'theirs', namespace: 'gc' }, data: { keep: Buffer.from('theirs').toString('base64') } } });
    for (const n of ['owned', 'theirs']) await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('gc'), body: seal(n) });
    await waitFor(() => getSecret('gc', 'owned'), 20_000, 'Secret gc/owned');
    await waitFor(async () => ctrl!.logs.some((l) => l.includes('already exists and is not managed by SealedSecret')), 20_000, 'gc/theirs refused');
    for (const n of ['owned', 'theirs']) await cluster.admin.request({ method: 'DELETE', path: paths.sealedSecret('gc', n) });
    await waitFor(async () => (await getSecret('gc', 'owned')) === undefined, 60_000, 'deletion of gc/owned');
    await waitFor(async () => (await ctrl!.metric('sealed_secrets_controller_reconciles_total{outcome="gone"}')) >= 2, 20_000, 'both SealedSecrets reconciled as gone');
    expect((await getSecret('gc', 'theirs'))?.data).toEqual({ keep: Buffer.from('theirs').toString('base64') });
    expect(ctrl.logs.join('\n')).not.toMatch(/forbidden/i);
  }, 180_000);
});
