/**
 * Bulk sync against the real local API server: N SealedSecrets, cold (every one
 * must be unsealed) and warm (controller restarted, nothing changed), the same
 * client creating N plain Secrets as the API server's own baseline, and the
 * controller's RSS. `node dist/cluster-sync.cjs [--secrets N] [--key-size B] [--json FILE]`
 * With `--node`: the controller as the Pod of deploy/overlays/dev on the local node (scripts/
 * local-cluster.sh up --node), cold sync against the same baseline, peak memory from the Pod's
 * cgroup. `node dist/cluster-sync.cjs --node [--secrets N] [--qps Q] [--json FILE]`
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { paths } from '../controller/kube/client.js';
import { publicKeyFingerprint, sealSecret, type SealedSecret } from '../src/index.js';
import {
  containerCgroup,
  containerPid,
  controllerPods,
  deployController,
  podReady,
  readyControllerPods,
  startCluster,
  startController,
  startNodeCluster,
  waitFor,
  type Cluster,
  type ControllerProcess,
} from '../scripts/local-cluster-harness.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds (user + system) used so far by a process. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** The control plane's processes: where the machine's CPU goes during a sync. */
function planePids(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ['kube-apiserver', 'etcd']) {
    try {
      out[name] = Number(execFileSync('pgrep', ['-o', '-x', name], { encoding: 'utf8' }).trim());
    } catch {
      // not found: not reported
    }
  }
  return out;
}

const cpuOf = (pids: Record<string, number>) => Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p)]));
const cpuSince = (pids: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, Number((cpuSeconds(p) - (before[k] ?? 0)).toFixed(1))]));

async function createAll(cluster: Cluster, objects: { path: string; body: unknown }[], concurrency = 16): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < objects.length) {
        const o = objects[next++]!;
        await cluster.admin.request({ method: 'POST', path: o.path, body: o.body });
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function metric(ctrl: ControllerProcess, name: string): Promise<number> {
  const v = await ctrl.metric(name);
  return Number.isNaN(v) ? 0 : v;
}

/** The cold sync with the controller in a Pod: the same baseline, the ratio, the Pod's cgroup peak. */
async function runNode(n: number): Promise<void> {
  const qps = flag('--qps', '400');
  const cluster = await startNodeCluster();
  try {
    const { seconds: applyToReadySeconds } = await deployController(cluster);
    const extra = [`--kubeclient-qps=${qps}`, `--kubeclient-burst=${Number(qps) * 2}`, '--log-level=info'];
    cluster.kubectl(['-n', 'kube-system', 'patch', 'deployment', 'sealed-secrets-controller', '--type', 'json', '-p', JSON.stringify(extra.map((value) => ({ op: 'add', path: '/spec/template/spec/containers/0/args/-', value })))]);
    await waitFor(async () => {
      const pods = await controllerPods(cluster.admin);
      return pods.length === 1 && podReady(pods[0]!) && readFileSync(`/proc/${containerPid(pods[0]!)}/cmdline`, 'utf8').includes(extra[0]!) ? true : undefined;
    }, 120_000, 'the patched Pod', 500);
    const keys = await cluster.admin.request<{ items: { metadata: { creationTimestamp: string }; data: Record<string, string> }[] }>({ method: 'GET', path: `/api/v1/namespaces/kube-system/secrets?labelSelector=${encodeURIComponent('sealedsecrets.bitnami.com/sealed-secrets-key')}` });
    const newest = keys.items.sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp)).pop()!;
    const pub = createPublicKey(Buffer.from(newest.data['tls.crt']!, 'base64').toString());
    const key = { publicKey: pub, fingerprint: publicKeyFingerprint(pub) };
    for (const name of ['bench', 'baseline']) await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
    const baselineSeconds = await createAll(
      cluster,
      Array.from({ length: n }, (_, i) => ({ path: paths.secrets('baseline'), body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: `p-${i}`, namespace: 'baseline' }, stringData: { password: `pw-${i}`, username: `user-${i}` } } })),
    );
    cluster.kubectl(['-n', 'kube-system', 'scale', 'deployment', 'sealed-secrets-controller', '--replicas=0']);
    await waitFor(async () => (await cluster.admin.request<{ items: unknown[] }>({ method: 'GET', path: `/api/v1/namespaces/kube-system/pods?labelSelector=${encodeURIComponent('app.kubernetes.io/name=sealed-secrets')}` })).items.length === 0, 120_000, 'no controller Pod');
    await createAll(cluster, Array.from({ length: n }, (_, i) => ({ path: paths.sealedSecrets('bench'), body: sealSecret({ metadata: { name: `s-${i}`, namespace: 'bench' }, stringData: { password: `pw-${i}`, username: `user-${i}` } }, key) })));
    const t0 = performance.now();
    cluster.kubectl(['-n', 'kube-system', 'scale', 'deployment', 'sealed-secrets-controller', '--replicas=1']);
    const [pod] = await readyControllerPods(cluster.admin, 1, 30 * 60_000);
    await waitFor(async () => {
      const list = await cluster.admin.request<{ items: unknown[]; metadata: { remainingItemCount?: number } }>({ method: 'GET', path: `${paths.secrets('bench')}?limit=1` });
      return list.items.length + (list.metadata.remainingItemCount ?? 0) >= n;
    }, 60 * 60_000, 'the cold sync', 1000);
    const coldSeconds = (performance.now() - t0) / 1000;
    const podDir = join(containerCgroup(pod!), '..');
    const after = (await controllerPods(cluster.admin))[0]!;
    const result = {
      where: 'node-pod',
      secrets: n,
      itemsPerSecret: 2,
      keySize: 2048,
      kubeclientQps: Number(qps),
      applyToReadySeconds,
      baselineCreateSeconds: baselineSeconds,
      coldSeconds,
      coldOverBaseline: coldSeconds / baselineSeconds,
      podPeakMemoryMiB: Math.round(Number(readFileSync(join(podDir, 'memory.max_usage_in_bytes'), 'utf8')) / 1048576),
      podMemoryLimitMiB: Math.round(Number(readFileSync(join(podDir, 'memory.limit_in_bytes'), 'utf8')) / 1048576),
      restartCount: after.status.containerStatuses?.[0]?.restartCount,
    };
    console.log(JSON.stringify(result, null, 2));
    const out = flag('--json', '');
    if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  } finally {
    cluster.down();
  }
}

async function main(): Promise<void> {
  const n = Number(flag('--secrets', '3000'));
  if (process.argv.includes('--node')) return runNode(n);
  const keySize = flag('--key-size', '4096');
  const workers = flag('--workers', '0');
  const cluster = await startCluster();
  try {
    await run(cluster, n, keySize, workers);
  } finally {
    cluster.down();
  }
}

async function run(cluster: Cluster, n: number, keySize: string, workers: string): Promise<void> {
  const ctrlEnv: Record<string, string> = process.env['CTRL_NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['CTRL_NODE_OPTIONS'] } : {};
  const ns = 'bench';
  await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'baseline' } } });
  const qps = flag('--qps', '');
  const args = ['--key-size', keySize, '--workers', workers, '--leader-elect=false', ...(qps ? ['--kubeclient-qps', qps, '--kubeclient-burst', qps === '-1' ? '1000' : String(Number(qps) * 2)] : [])];
  let ctrl = await startController(cluster.kubeconfig, args, ctrlEnv);
  try {
    const cert = await waitFor(async () => {
      const r = await fetch(`${ctrl.url}/v1/cert.pem`);
      return r.ok ? r.text() : undefined;
    }, 120_000, 'the certificate');
    // The controller's own footprint, before any SealedSecret exists.
    await new Promise((r) => setTimeout(r, 2000));
    const rssIdle = rssMb(ctrl.proc.pid!);
    const pub = createPublicKey(cert);
    const key = { publicKey: pub, fingerprint: publicKeyFingerprint(pub) };
    const sealed: SealedSecret[] = [];
    for (let i = 0; i < n; i++) {
      sealed.push(sealSecret({ metadata: { name: `s-${i}`, namespace: ns }, stringData: { password: `pw-${i}`, username: `user-${i}` } }, key));
    }
    // Baseline: the same client creating N plain Secrets.
    const plane = planePids();
    const planeBeforeBaseline = cpuOf(plane);
    const baselineSeconds = await createAll(
      cluster,
      Array.from({ length: n }, (_, i) => ({ path: paths.secrets('baseline'), body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: `p-${i}`, namespace: 'baseline' }, stringData: { password: `pw-${i}`, username: `user-${i}` } } })),
    );
    const baselineCpu = cpuSince(plane, planeBeforeBaseline);
    // Cold: the controller is stopped while the SealedSecrets are created, then started.
    await ctrl.stop();
    await createAll(cluster, sealed.map((s) => ({ path: paths.sealedSecrets(ns), body: s })));
    const planeBeforeCold = cpuOf(plane);
    const t0 = performance.now();
    ctrl = await startController(cluster.kubeconfig, args, ctrlEnv);
    // While the cold sync runs, create new SealedSecrets one at a time and time each until its Secret exists.
    const probeMs: number[] = [];
    const probes = (async () => {
      await waitFor(async () => (await metric(ctrl, 'sealed_secrets_controller_reconciles_total{outcome="synced"}')) >= Math.min(100, n / 10), 10 * 60_000, 'the cold sync to start', 100);
      for (let i = 0; i < 10; i++) {
        const p = sealSecret({ metadata: { name: `probe-${i}`, namespace: ns }, stringData: { v: `probe-${i}` } }, key);
        const start = performance.now();
        await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(ns), body: p });
        await waitFor(() => cluster.admin.request({ method: 'GET', path: paths.secret(ns, `probe-${i}`) }).catch(() => undefined), 120_000, `probe ${i}`, 20);
        probeMs.push(performance.now() - start);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await waitFor(async () => (await metric(ctrl, 'sealed_secrets_controller_reconciles_total{outcome="synced"}')) >= n + 10, 30 * 60_000, 'cold sync', 1000);
    await probes;
    const coldSeconds = (performance.now() - t0) / 1000;
    const sorted = [...probeMs].sort((a, b) => a - b);
    const coldRsa = await metric(ctrl, 'sealed_secrets_controller_rsa_private_operations_total');
    const rssCold = rssMb(ctrl.proc.pid!);
    const coldCpu = { ...cpuSince(plane, planeBeforeCold), controller: Number(cpuSeconds(ctrl.proc.pid!).toFixed(1)) };
    process.stderr.write(`baseline ${baselineSeconds.toFixed(1)} s, cold ${coldSeconds.toFixed(1)} s\n`);
    const secrets = await cluster.admin.request<{ items: { metadata: { name: string } }[] }>({ method: 'GET', path: paths.secrets(ns) });
    const made = secrets.items.filter((s) => s.metadata.name.startsWith('s-')).length;
    const synced = n + 10;
    if (made !== n) throw new Error(`expected ${n} Secrets, found ${made}`);
    // Warm: restart with nothing changed.
    await ctrl.stop();
    const t1 = performance.now();
    ctrl = await startController(cluster.kubeconfig, args, ctrlEnv);
    await waitFor(async () => (await metric(ctrl, 'sealed_secrets_controller_reconciles_total{outcome="unchanged"}')) >= synced, 30 * 60_000, 'warm resync', 250);
    const warmSeconds = (performance.now() - t1) / 1000;
    const warmRsa = await metric(ctrl, 'sealed_secrets_controller_rsa_private_operations_total');
    const rssWarm = rssMb(ctrl.proc.pid!);
    const result = {
      where: 'api-server',
      secrets: n,
      itemsPerSecret: 2,
      keySize: Number(keySize),
      kubeclientQps: qps ? Number(qps) : 50,
      workers: Number(workers) || undefined,
      baselineCreateSeconds: baselineSeconds,
      coldSeconds,
      coldOverBaseline: coldSeconds / baselineSeconds,
      coldRsaOps: coldRsa,
      newObjectP50Ms: sorted[Math.floor(sorted.length / 2)],
      newObjectMaxMs: sorted[sorted.length - 1],
      warmSeconds,
      warmRsaOps: warmRsa,
      rssMbIdle: rssIdle,
      rssMbAfterCold: rssCold,
      cpuSecondsBaseline: baselineCpu,
      cpuSecondsCold: coldCpu,
      rssMbAfterWarm: rssWarm,
    };
    console.log(JSON.stringify(result, null, 2));
    const out = flag('--json', '');
    if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  } finally {
    await ctrl.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`cluster-sync failed: ${(e as Error).stack}\n`);
  process.exitCode = 1;
});
