/**
 * The local-cluster harness (e2e tests and `npm run demo`): a real local control plane (etcd + kube-apiserver +
 * kube-controller-manager from scripts/local-cluster.sh), the project's
 * manifests applied to it, and the real controller binary run as a local
 * process with the ServiceAccount's own token (so RBAC is exercised too).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '../controller/kube/kubeconfig.js';
import { parseAllDocuments } from 'yaml';
import { KubeClient, paths } from '../controller/kube/client.js';

// The repository: beside dist/ when bundled (CommonJS), beside scripts/ when run from source.
export const ROOT = typeof __dirname === 'string' ? resolve(__dirname, '..') : fileURLToPath(new URL('..', import.meta.url));
export const CONTROLLER_BIN = join(ROOT, 'dist/sealed-secrets-controller.cjs');
const CLUSTER_SH = join(ROOT, 'scripts/local-cluster.sh');

export interface Cluster {
  kubeconfig: string;
  stateDir: string;
  admin: KubeClient;
  down(): void;
  run(cmd: string): void;
}

export function clientFor(kubeconfig: string, qps = -1): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return new KubeClient(kc, { qps, burst: 1000 });
}

export async function startCluster(): Promise<Cluster> {
  const stateDir = mkdtempSync(join(tmpdir(), 'ss-e2e-cluster-'));
  const out = execFileSync('bash', [CLUSTER_SH, 'up', '--crd', join(ROOT, 'deploy/base/crd.yaml'), '--state-dir', stateDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 15 * 60_000,
  });
  const kubeconfig = out.trim().split('\n').pop()!;
  const admin = clientFor(kubeconfig);
  return {
    kubeconfig,
    stateDir,
    admin,
    down: () => {
      admin.close();
      execFileSync('bash', [CLUSTER_SH, 'down', '--state-dir', stateDir], { stdio: 'ignore' });
      rmSync(stateDir, { recursive: true, force: true });
    },
    run: (cmd: string) => void execFileSync('bash', [CLUSTER_SH, cmd, '--state-dir', stateDir], { stdio: 'ignore', timeout: 120_000 }),
  };
}

const COLLECTIONS: Record<string, (ns: string) => string> = {
  ServiceAccount: (ns) => `/api/v1/namespaces/${ns}/serviceaccounts`,
  Service: (ns) => `/api/v1/namespaces/${ns}/services`,
  Role: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
  RoleBinding: (ns) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
  ClusterRole: () => '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: () => '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
  Deployment: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  CustomResourceDefinition: () => '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
};

/** Renders deploy/ with `kubectl kustomize` and creates every object (the CRD exists already). */
export async function applyManifests(admin: KubeClient, dir = 'deploy/base'): Promise<string[]> {
  const yaml = execFileSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8' });
  const kinds: string[] = [];
  for (const doc of parseAllDocuments(yaml)) {
    const obj = doc.toJS() as { kind: string; metadata: { namespace?: string } };
    if (!obj) continue;
    kinds.push(obj.kind);
    const path = COLLECTIONS[obj.kind];
    if (!path) throw new Error(`no path for ${obj.kind}`);
    try {
      await admin.request({ method: 'POST', path: path(obj.metadata.namespace ?? 'default'), body: obj });
    } catch (e) {
      if (!(e as { conflict?: boolean }).conflict) throw e;
    }
  }
  return kinds;
}

/** A kubeconfig that authenticates as the controller's ServiceAccount (its token Secret). */
export async function serviceAccountKubeconfig(cluster: Cluster, ns = 'kube-system', sa = 'sealed-secrets-controller'): Promise<string> {
  const token = await waitFor(async () => {
    const acct = await cluster.admin.request<{ secrets?: { name: string }[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/serviceaccounts/${sa}` });
    const name = acct.secrets?.[0]?.name;
    if (!name) return undefined;
    const s = await cluster.admin.request<{ data?: { token?: string } }>({ method: 'GET', path: paths.secret(ns, name) });
    return s.data?.token ? Buffer.from(s.data.token, 'base64').toString() : undefined;
  }, 30_000, 'the ServiceAccount token');
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const c = kc.getCurrentCluster()!;
  const file = join(cluster.stateDir, `${sa}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: c.server, 'certificate-authority-data': c.caData ?? Buffer.from(readFileSync(c.caFile!)).toString('base64') } }],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'local', user: sa, namespace: ns } }],
      'current-context': 'sa',
    }),
  );
  return file;
}

export async function waitFor<T>(f: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ControllerProcess {
  proc: ChildProcess;
  url: string;
  metricsUrl: string;
  logs: string[];
  metric(name: string): Promise<number>;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

export async function startController(kubeconfig: string, args: string[] = [], env: Record<string, string> = {}, listenHost = '127.0.0.1'): Promise<ControllerProcess> {
  // RSA-2048 keys unless the caller says otherwise: key generation is then fast.
  const keySize = args.includes('--key-size') ? [] : ['--key-size', '2048'];
  const proc = spawn(process.execPath, [CONTROLLER_BIN, '--kubeconfig', kubeconfig, '--listen-addr', `${listenHost}:0`, '--listen-metrics-addr', '127.0.0.1:0', ...keySize, ...args], {
    env: { PATH: process.env['PATH'] ?? '', POD_NAMESPACE: 'kube-system', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let buf = '';
  const onData = (c: Buffer) => {
    buf += c.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      logs.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const addr = (what: string) =>
    waitFor(() => logs.map((l) => new RegExp(`msg="${what} listening" address=(\\S+)`).exec(l)?.[1]).find(Boolean), 20_000, `the controller's ${what}`).catch((e: Error) => {
      proc.kill('SIGKILL');
      throw new Error(`${e.message}; controller output:\n${logs.slice(-10).join('\n')}`);
    });
  const url = `http://${await addr('HTTP server')}`;
  const metricsUrl = `http://${await addr('metrics server')}`;
  return {
    proc,
    url,
    metricsUrl,
    logs,
    async metric(name: string) {
      const text = await (await fetch(`${metricsUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
      return line ? Number(line.split(' ').pop()) : NaN;
    },
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
