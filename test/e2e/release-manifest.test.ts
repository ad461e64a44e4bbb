/**
 * The one-file install on a real API server: deploy/release/controller-norbac.yaml, then
 * deploy/release/controller.yaml, applied with `kubectl apply -f` as the README says; the
 * controller then runs with the ServiceAccount and RBAC that controller.yaml created (its
 * own token), unseals, and writes nothing to its output but log lines: no runtime warnings
 * on the Node line this suite runs on (scripts/test-runtimes.mjs: the image's line).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { paths } from '../../controller/kube/client.js';
import type { SealedSecret } from '../../src/index.js';
import { kubeseal, tempDir } from '../cli-helpers.js';
import { ROOT, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';

const RELEASE = join(ROOT, 'deploy/release');
let cluster: Cluster;
let ctrl: ControllerProcess | undefined;
const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const objects = (file: string) =>
  parseAllDocuments(readFileSync(join(RELEASE, file), 'utf8'))
    .map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } })
    .map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
const exists = async (kind: string, ns: string, name: string) => {
  const path: Record<string, string> = {
    ServiceAccount: `/api/v1/namespaces/${ns}/serviceaccounts/${name}`,
    ClusterRole: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`,
    ClusterRoleBinding: `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`,
    Role: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/${name}`,
    RoleBinding: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings/${name}`,
    Service: `/api/v1/namespaces/${ns}/services/${name}`,
    Deployment: `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
    CustomResourceDefinition: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
  };
  if (!path[kind]) throw new Error(`no path for ${kind}`);
  try {
    await cluster.admin.request({ method: 'GET', path: path[kind]! });
    return true;
  } catch (e) {
    if ((e as { notFound?: boolean }).notFound) return false;
    throw e;
  }
};

beforeAll(async () => {
  cluster = await startCluster();
}, 20 * 60_000);

afterAll(async () => {
  await ctrl?.stop();
  cluster?.down();
});

describe('the release manifests on a real API server', () => {
  it('controller-norbac.yaml applies and creates its objects, and no ServiceAccount or RBAC object', async () => {
    kubectl('apply', '-f', join(RELEASE, 'controller-norbac.yaml'));
    for (const o of objects('controller-norbac.yaml')) {
      const [kind, ns, name] = o.split('/') as [string, string, string];
      expect(await exists(kind, ns, name), o).toBe(true);
    }
    const rbacOnly = objects('controller.yaml').filter((o) => !objects('controller-norbac.yaml').includes(o));
    expect(rbacOnly.length).toBeGreaterThan(0);
    for (const o of rbacOnly) {
      const [kind, ns, name] = o.split('/') as [string, string, string];
      expect(await exists(kind, ns, name), o).toBe(false);
    }
  });

  it('controller.yaml applies over it, creating every object it holds', async () => {
    kubectl('apply', '-f', join(RELEASE, 'controller.yaml'));
    for (const o of objects('controller.yaml')) {
      const [kind, ns, name] = o.split('/') as [string, string, string];
      expect(await exists(kind, ns, name), o).toBe(true);
    }
    // kubectl agrees: every object of the file is there.
    expect(kubectl('get', '-f', join(RELEASE, 'controller.yaml'), '-o', 'name').trim().split('\n')).toHaveLength(objects('controller.yaml').length);
  });

  it(`the controller runs on Node ${process.versions.node} with the installed ServiceAccount and RBAC, unseals, and prints only log lines`, async () => {
    ctrl = await startController(await serviceAccountKubeconfig(cluster));
    const dir = tempDir();
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: installed\n  namespace: default\nstringData:\n  token: v-installed-1\n';
    const certUrl = `${ctrl.url}/v1/cert.pem`;
    await waitFor(async () => (await fetch(certUrl)).ok, 30_000, 'the controller certificate');
    const r = await kubeseal(['--cert', certUrl], { input: secret, cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: parseYaml(r.stdout) as SealedSecret });
    const s = await waitFor(async () => cluster.admin.request<{ data: Record<string, string> }>({ method: 'GET', path: paths.secret('default', 'installed') }), 30_000, 'the Secret');
    expect(Buffer.from(s.data['token']!, 'base64').toString()).toBe('v-installed-1');
    // stdout and stderr together: structured log lines only (a runtime warning would be `(node:PID) ...Warning`).
    expect(ctrl.logs.length).toBeGreaterThan(0);
    expect(ctrl.logs.filter((l) => !/^time=\S+ level=[A-Z]+ msg=/.test(l))).toEqual([]);
  }, 120_000);
});
