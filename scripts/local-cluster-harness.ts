/**
 * The local-cluster harness (e2e tests and `npm run demo`): a real local control plane (etcd + kube-apiserver +
 * kube-controller-manager from scripts/local-cluster.sh), the project's
 * manifests applied to it, and the real controller binary run as a local
 * process with the ServiceAccount's own token (so RBAC is exercised too).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Starts the controller binary. `kubeconfig` null: no --kubeconfig, so the controller finds its
 * configuration itself (in a Pod: the ServiceAccount files and KUBERNETES_SERVICE_*); `prefix`
 * is a command the controller is run under (e.g. unshare, to give it its own /run).
 */
export async function startController(kubeconfig: string | null, args: string[] = [], env: Record<string, string> = {}, listenHost = '127.0.0.1', prefix: string[] = []): Promise<ControllerProcess> {
  // RSA-2048 keys unless the caller says otherwise: key generation is then fast.
  const keySize = args.includes('--key-size') ? [] : ['--key-size', '2048'];
  const argv = [process.execPath, CONTROLLER_BIN, ...(kubeconfig === null ? [] : ['--kubeconfig', kubeconfig]), '--listen-addr', `${listenHost}:0`, '--listen-metrics-addr', '127.0.0.1:0', ...keySize, ...args];
  const [cmd, ...rest] = [...prefix, ...argv];
  const proc = spawn(cmd!, rest, {
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

// ---------------------------------------------------------------- the node (`up --node`)

/** Where `up --node` records who runs the one node of this machine. */
export const NODE_OWNER_FILE = '/run/sealed-secrets-ts-node.owner';

export interface NodeCluster extends Cluster {
  /** kubectl with this cluster's kubeconfig; throws with its stderr when it fails. */
  kubectl(args: string[], input?: string): string;
  /** Seconds `up --node` took. */
  upSeconds: number;
}

/**
 * The control plane plus the node: kubelet, kube-scheduler, containerd and the Pod bridge, and
 * the controller image built from the working tree and imported. One node per machine: when
 * another one runs (another test run), this waits up to `waitMs` for it to go.
 */
export async function startNodeCluster(waitMs = 20 * 60_000): Promise<NodeCluster> {
  const end = Date.now() + waitMs;
  for (;;) {
    let other = '';
    try {
      other = readFileSync(NODE_OWNER_FILE, 'utf8').trim();
    } catch {
      break;
    }
    if (!existsSync(join(other, 'node'))) break;
    if (Date.now() > end) throw new Error(`another node runs on this machine (state in ${other}); stop it with: scripts/local-cluster.sh down --state-dir ${other}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'ss-node-cluster-'));
  const t0 = Date.now();
  let out: string;
  try {
    out = execFileSync('bash', [CLUSTER_SH, 'up', '--node', '--crd', join(ROOT, 'deploy/base/crd.yaml'), '--state-dir', stateDir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 40 * 60_000,
    });
  } catch (e) {
    const err = e as { stderr?: string };
    rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`scripts/local-cluster.sh up --node failed:\n${(err.stderr ?? '').split('\n').slice(-25).join('\n')}`);
  }
  const upSeconds = (Date.now() - t0) / 1000;
  const kubeconfig = out.trim().split('\n').pop()!;
  const admin = clientFor(kubeconfig);
  const kubectl = (args: string[], input?: string) => {
    try {
      return execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
    } catch (e) {
      throw new Error(`kubectl ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
    }
  };
  return {
    kubeconfig,
    stateDir,
    admin,
    upSeconds,
    kubectl,
    down: () => {
      admin.close();
      execFileSync('bash', [CLUSTER_SH, 'down', '--state-dir', stateDir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5 * 60_000 });
      rmSync(stateDir, { recursive: true, force: true });
    },
    run: (cmd: string) => void execFileSync('bash', [CLUSTER_SH, cmd, '--state-dir', stateDir], { stdio: 'ignore', timeout: 120_000 }),
  };
}

export interface PodInfo {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: { name: string; resources?: { limits?: Record<string, string> } }[] };
  status: {
    phase?: string;
    podIP?: string;
    qosClass?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; containerID?: string; state?: Record<string, unknown> }[];
  };
}

/** The controller's Pods (label app.kubernetes.io/name=sealed-secrets in kube-system), not being deleted. */
export async function controllerPods(admin: KubeClient, ns = 'kube-system'): Promise<PodInfo[]> {
  const list = await admin.request<{ items: PodInfo[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent('app.kubernetes.io/name=sealed-secrets')}` });
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

export const podReady = (p: PodInfo) => (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Waits until `n` controller Pods are Ready; returns them. */
export function readyControllerPods(admin: KubeClient, n: number, timeoutMs = 120_000): Promise<PodInfo[]> {
  return waitFor(async () => {
    const pods = await controllerPods(admin);
    return pods.length === n && pods.every(podReady) ? pods : undefined;
  }, timeoutMs, `${n} Ready controller Pod(s)`, 250);
}

/** The cgroup v1 directory of a Pod's container (kubelet's cgroupfs layout), for one controller. */
export function containerCgroup(pod: PodInfo, controller = 'memory', container = 'controller'): string {
  const id = pod.status.containerStatuses?.find((c) => c.name === container)?.containerID?.replace(/^containerd:\/\//, '');
  if (!id) throw new Error(`Pod ${pod.metadata.namespace}/${pod.metadata.name} has no running ${container} container`);
  const qos = (pod.status.qosClass ?? 'Burstable').toLowerCase();
  const podDir = qos === 'guaranteed' ? `pod${pod.metadata.uid}` : `${qos}/pod${pod.metadata.uid}`;
  return `/sys/fs/cgroup/${controller}/kubepods/${podDir}/${id}`;
}

/** The host pid of a container's first process (PID 1 inside the Pod). */
export function containerPid(pod: PodInfo, container = 'controller'): number {
  const procs = readFileSync(join(containerCgroup(pod, 'pids', container), 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
  // PID 1 of the container: the process whose parent is outside the cgroup (the shim).
  for (const pid of procs) {
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    if (!procs.includes(ppid)) return pid;
  }
  throw new Error(`no first process in ${pod.metadata.name}`);
}

/** Applies a kustomization with `kubectl apply -k`; resolves when `replicas` controller Pods are Ready. */
export async function deployController(cluster: NodeCluster, overlay = 'deploy/overlays/dev', replicas = 1): Promise<{ seconds: number; pods: PodInfo[]; output: string }> {
  const t0 = Date.now();
  const output = cluster.kubectl(['apply', '-k', join(ROOT, overlay)]);
  const pods = await readyControllerPods(cluster.admin, replicas, 180_000);
  return { seconds: (Date.now() - t0) / 1000, pods, output };
}
