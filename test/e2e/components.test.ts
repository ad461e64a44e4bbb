/**
 * The install options (deploy/components/*): each rendered with `kubectl kustomize` of its test
 * overlay (test/fixtures/kustomize/<name>, on top of deploy/base) and applied with `kubectl apply`
 * to the real local API server, which must accept every object. The Prometheus Operator's kinds
 * are accepted through minimal CRDs (test/fixtures/monitoring-crds.yaml). Namespaced RBAC is
 * exercised for real: the controller runs with the ServiceAccount's token and only those rights,
 * unseals in its namespaces, and is refused Secrets anywhere else. Pods are created from the
 * rendered pod templates (there is no kubelet: they stay Pending), so admission resolves the
 * PriorityClass and validates the security context and topology spread.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { ApiError, paths } from '../../controller/kube/client.js';
import { publicKeyFingerprint, sealSecret, type SealedSecret, type Secret } from '../../src/index.js';
import { ROOT, clientFor, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster } from './harness.js';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  subjects?: unknown[];
  roleRef?: { kind: string; name: string };
  value?: number;
}

let cluster: Cluster;
let servesPolicyV1 = false;

const render = (name: string): Obj[] =>
  parseAllDocuments(execFileSync('kubectl', ['kustomize', join(ROOT, 'test/fixtures/kustomize', name)], { encoding: 'utf8' }))
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);

/**
 * `kubectl apply` of the rendered objects with the admin kubeconfig. The test API server is
 * Kubernetes 1.20, which serves PodDisruptionBudget only as policy/v1beta1 (policy/v1 is 1.21+,
 * and the only version from 1.25): there, and only there, the PDB is sent as v1beta1, whose
 * fields used here (minAvailable, selector) are the same.
 */
function apply(objs: Obj[]): string {
  const docs = objs.map((o) => (o.kind === 'PodDisruptionBudget' && o.apiVersion === 'policy/v1' && !servesPolicyV1 ? { ...o, apiVersion: 'policy/v1beta1' } : o));
  return execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', '-'], { input: docs.map((d) => stringify(d)).join('---\n'), encoding: 'utf8' });
}

const kubectlGet = (kind: string, name: string, ns?: string): Obj =>
  JSON.parse(execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'get', kind, name, ...(ns ? ['-n', ns] : []), '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Obj;

/** Every rendered object exists on the API server after apply. */
function expectAllExist(objs: Obj[]): void {
  for (const o of objs) {
    const kind = o.kind === 'PodDisruptionBudget' && !servesPolicyV1 ? 'poddisruptionbudgets.v1beta1.policy' : `${o.kind.toLowerCase()}${o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[1]}.${o.apiVersion.split('/')[0]}` : ''}`;
    expect(kubectlGet(kind, o.metadata.name, o.metadata.namespace).metadata.name, `${o.kind} ${o.metadata.name}`).toBe(o.metadata.name);
  }
}

const one = (objs: Obj[], kind: string, name?: string): Obj => {
  const found = objs.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
};

/** A Pod from the Deployment's pod template: what the ReplicaSet controller would create. */
async function podFromTemplate(objs: Obj[], name: string): Promise<Obj> {
  const d = one(objs, 'Deployment');
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: d.metadata.namespace, labels: { 'template-check': 'true' } }, spec: d.spec.template.spec };
  return cluster.admin.request<Obj>({ method: 'POST', path: `/api/v1/namespaces/${d.metadata.namespace}/pods`, body: pod });
}

async function ensureNamespace(ns: string): Promise<void> {
  try {
    await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  } catch (e) {
    if (!(e instanceof ApiError && e.conflict)) throw e;
  }
}

beforeAll(async () => {
  cluster = await startCluster();
  servesPolicyV1 = execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'api-versions'], { encoding: 'utf8' }).split('\n').includes('policy/v1');
  execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', join(ROOT, 'test/fixtures/monitoring-crds.yaml')], { encoding: 'utf8' });
  execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'wait', '--for', 'condition=established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com', 'crd/podmonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com'], { encoding: 'utf8' });
  for (const ns of ['team-a', 'team-c']) await ensureNamespace(ns);
}, 20 * 60_000);

afterAll(() => {
  cluster?.down();
});

describe('kustomize components on a real API server', () => {
  // First, while nothing cluster-wide has been applied: the namespaced install alone.
  it('namespaced-rbac: no cluster-wide Secret rights; the controller unseals in its namespaces and is refused elsewhere', async () => {
    const objs = render('namespaced-rbac');
    expect(objs.some((o) => o.kind === 'ClusterRoleBinding')).toBe(false);
    const bindings = objs.filter((o) => o.kind === 'RoleBinding' && o.roleRef?.name === 'secrets-unsealer');
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(['kube-system', 'team-a']);
    apply(objs);
    expectAllExist(objs);
    expect(() => kubectlGet('clusterrolebinding', 'sealed-secrets-controller')).toThrow();

    // The controller with the rendered Deployment's environment (its flags) and the ServiceAccount's token.
    const env = Object.fromEntries((one(objs, 'Deployment').spec.template.spec.containers[0].env as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    expect(env).toEqual({ SEALED_SECRETS_ALL_NAMESPACES: 'false', SEALED_SECRETS_ADDITIONAL_NAMESPACES: 'team-a' });
    const saKubeconfig = await serviceAccountKubeconfig(cluster);
    const ctrl = await startController(saKubeconfig, [], env);
    try {
      const certPem = await waitFor(async () => {
        const r = await fetch(`${ctrl.url}/v1/cert.pem`);
        return r.ok ? r.text() : undefined;
      }, 30_000, 'the controller certificate');
      const pub = createPublicKey(certPem);
      const seal = (ns: string): SealedSecret => sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: ns }, stringData: { password: 'namespaced-pw' } }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) });
      await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('team-a'), body: seal('team-a') });
      await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('team-c'), body: seal('team-c') });
      const secret = await waitFor(async () => {
        try {
          return await cluster.admin.request<Secret>({ method: 'GET', path: paths.secret('team-a', 'db') });
        } catch {
          return undefined;
        }
      }, 20_000, 'Secret team-a/db');
      expect(Buffer.from(secret.data!['password']!, 'base64').toString()).toBe('namespaced-pw');
      // The ServiceAccount may not read Secrets cluster-wide or in a namespace it was not given.
      const sa = clientFor(saKubeconfig);
      try {
        for (const path of ['/api/v1/secrets', paths.secrets('team-c'), paths.sealedSecrets('team-c')]) {
          const err = await sa.request({ method: 'GET', path }).then(() => undefined, (e: unknown) => e);
          expect((err as ApiError | undefined)?.status, path).toBe(403);
        }
        expect(((await sa.request<{ items: unknown[] }>({ method: 'GET', path: paths.secrets('team-a') })).items.length)).toBeGreaterThan(0);
      } finally {
        sa.close();
      }
      // Outside its namespaces nothing is unsealed (the reconcile of team-a took well under this).
      await new Promise((r) => setTimeout(r, 2000));
      const other = await cluster.admin.request({ method: 'GET', path: paths.secret('team-c', 'db') }).then(() => true, () => false);
      expect(other).toBe(false);
      expect(ctrl.logs.some((l) => /forbidden|403/i.test(l))).toBe(false);
    } finally {
      await ctrl.stop();
    }
  });

  it('crd-only: the CRD alone, identical to base\'s, accepted', () => {
    const objs = render('crd-only');
    expect(objs.map((o) => o.kind)).toEqual(['CustomResourceDefinition']);
    expect(objs[0]).toEqual(parseAllDocuments(readFileSync(join(ROOT, 'deploy/base/crd.yaml'), 'utf8'))[0]!.toJS());
    apply(objs);
    expectAllExist(objs);
  });

  it('service-monitor and pod-monitor: select the metrics port of the controller, keep its namespace label', () => {
    for (const name of ['service-monitor', 'pod-monitor']) {
      const objs = render(name);
      const m = one(objs, name === 'service-monitor' ? 'ServiceMonitor' : 'PodMonitor');
      expect(m.apiVersion).toBe('monitoring.coreos.com/v1');
      const endpoints = (m.spec.endpoints ?? m.spec.podMetricsEndpoints) as { port: string; honorLabels: boolean; path: string }[];
      expect(endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics', honorLabels: true })]);
      const sel = m.spec.selector.matchLabels as Record<string, string>;
      if (name === 'service-monitor') {
        // Of the Services it selects, only the metrics Service has a port named `metrics`.
        const services = objs.filter((o) => o.kind === 'Service' && Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v));
        expect(services.filter((s) => (s.spec.ports as { name: string }[]).some((p) => p.name === 'metrics')).map((s) => s.metadata.name)).toEqual(['sealed-secrets-controller-metrics']);
      } else {
        const tpl = one(objs, 'Deployment').spec.template;
        expect(Object.entries(sel).every(([k, v]) => tpl.metadata.labels[k] === v)).toBe(true);
        expect(tpl.spec.containers[0].ports).toContainEqual({ name: 'metrics', containerPort: 8081 });
      }
      apply(objs);
      expectAllExist(objs);
    }
  });

  it('prometheus-rule and grafana-dashboard: accepted', () => {
    for (const name of ['prometheus-rule', 'grafana-dashboard']) {
      const objs = render(name);
      apply(objs);
      expectAllExist(objs);
    }
    const cm = kubectlGet('configmap', 'sealed-secrets-dashboard', 'kube-system');
    expect(cm.metadata.labels?.['grafana_dashboard']).toBe('1');
    expect(JSON.parse(cm.data!['sealed-secrets.json']!).uid).toBe('sealed-secrets-controller');
    const pr = kubectlGet('prometheusrule.v1.monitoring.coreos.com', 'sealed-secrets-controller', 'kube-system');
    expect(pr.spec.groups[0].rules).toHaveLength(10);
  });

  it('pdb: minAvailable 1 of the controller pods', () => {
    const objs = render('pdb');
    const pdb = one(objs, 'PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'sealed-secrets' } } });
    expect(one(objs, 'Deployment').spec.replicas).toBeGreaterThan(1);
    apply(objs);
    expectAllExist(objs);
  });

  it('network-policy: ingress 8080 and 8081 from labelled namespaces, egress to the API server ports and DNS only', () => {
    const objs = render('network-policy');
    const np = one(objs, 'NetworkPolicy');
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect((np.spec.ingress as { ports: { port: number }[] }[]).flatMap((r) => r.ports.map((p) => p.port))).toEqual([8080, 8081]);
    expect((np.spec.egress as { ports: { port: number; protocol: string }[] }[]).flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`))).toEqual(['TCP/443', 'TCP/6443', 'UDP/53', 'TCP/53']);
    apply(objs);
    expectAllExist(objs);
  });

  it('cert-ingress: exactly /v1/cert.pem (Exact) to the http port', () => {
    const objs = render('cert-ingress');
    const ing = one(objs, 'Ingress');
    const paths0 = ing.spec.rules.flatMap((r: { http: { paths: unknown[] } }) => r.http.paths);
    expect(paths0).toEqual([{ path: '/v1/cert.pem', pathType: 'Exact', backend: { service: { name: 'sealed-secrets-controller', port: { name: 'http' } } } }]);
    apply(objs);
    expectAllExist(objs);
  });

  it('no-service-proxier: the service-proxy Role and its binding to system:authenticated are gone', () => {
    const base = render('pdb');
    expect(base.some((o) => o.metadata.name === 'sealed-secrets-service-proxier')).toBe(true);
    const objs = render('no-service-proxier');
    expect(objs.filter((o) => o.metadata.name === 'sealed-secrets-service-proxier')).toEqual([]);
    expect(objs.length).toBe(base.length - 3); // less the PDB, the Role and the RoleBinding
    apply(objs);
    expectAllExist(objs);
  });

  it('openshift, priority-class, topology-spread: pods from the rendered templates are admitted', async () => {
    const os = render('openshift');
    const psc = one(os, 'Deployment').spec.template.spec.securityContext;
    expect(psc).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(one(os, 'Deployment').spec.template.spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    apply(os);
    // OpenShift's SCC then assigns a UID from the namespace's range: the template accepts one.
    const osPod = await podFromTemplate(os, 'openshift-template-check');
    expect(osPod.spec.securityContext.runAsUser).toBeUndefined();

    const pc = render('priority-class');
    const cls = one(pc, 'PriorityClass');
    expect(one(pc, 'Deployment').spec.template.spec.priorityClassName).toBe(cls.metadata.name);
    apply(pc);
    const pcPod = await podFromTemplate(pc, 'priority-template-check');
    // The Priority admission plugin resolved the class to its value.
    expect(pcPod.spec.priorityClassName).toBe('sealed-secrets-controller');
    expect(pcPod.spec.priority).toBe(cls.value);

    const ts = render('topology-spread');
    expect((one(ts, 'Deployment').spec.template.spec.topologySpreadConstraints as { topologyKey: string }[]).map((c) => c.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    apply(ts);
    const tsPod = await podFromTemplate(ts, 'spread-template-check');
    expect(tsPod.spec.topologySpreadConstraints).toHaveLength(2);
    execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'delete', 'pods', '-n', 'kube-system', '-l', 'template-check=true', '--wait=false'], { encoding: 'utf8' });
  });

  it('all compatible components together on top of overlays/prod: rendered and accepted', () => {
    const objs = render('all');
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap', 'PodDisruptionBudget', 'NetworkPolicy', 'Ingress', 'PriorityClass']) one(objs, kind);
    const spec = one(objs, 'Deployment').spec;
    expect(spec.replicas).toBe(3);
    // prod's hostname constraint and the component's zone constraint, merged by topologyKey.
    expect((spec.template.spec.topologySpreadConstraints as { topologyKey: string }[]).map((c) => c.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    expect(spec.template.spec.securityContext.runAsUser).toBeUndefined();
    apply(objs);
    expectAllExist(objs);
  });
});
