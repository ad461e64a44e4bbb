/**
 * What each kind of write costs the local API server and etcd, in CPU per operation: the
 * reference that explains the API-server bulk-sync numbers (a SealedSecret costs one Secret
 * create, one status write and, rate-limited, one Event). `node dist/api-costs.cjs [--n 2000]`
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { paths } from '../controller/kube/client.js';
import { startCluster } from '../scripts/local-cluster-harness.js';

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const pidOf = (name: string) => Number(execFileSync('pgrep', ['-o', '-x', name], { encoding: 'utf8' }).trim());
const arg = (name: string, d: string) => (process.argv.indexOf(name) >= 0 ? process.argv[process.argv.indexOf(name) + 1]! : d);
type Obj = { metadata: { name: string; managedFields?: unknown }; status?: unknown };

async function main(): Promise<void> {
  const n = Number(arg('--n', '2000'));
  const cluster = await startCluster();
  try {
    const api = pidOf('kube-apiserver');
    const etcd = pidOf('etcd');
    for (const ns of ['a', 'b']) await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
    const rows: { operation: string; seconds: number; apiServerMsPerOp: number; etcdMsPerOp: number }[] = [];
    const step = async (operation: string, f: (i: number) => Promise<unknown>) => {
      const a0 = cpuSeconds(api);
      const e0 = cpuSeconds(etcd);
      const t0 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < n) await f(next++);
      }));
      rows.push({ operation, seconds: (performance.now() - t0) / 1000, apiServerMsPerOp: ((cpuSeconds(api) - a0) * 1000) / n, etcdMsPerOp: ((cpuSeconds(etcd) - e0) * 1000) / n });
      process.stderr.write(`${operation}: done\n`);
    };
    const condition = (status: string) => ({ observedGeneration: 1, conditions: [{ type: 'Synced', status, lastUpdateTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString(), reason: 'Unsealed' }] });
    const ciphertext = 'A'.repeat(1100); // an RSA-4096 item, base64
    // Two watches on everything, as the controller has.
    const ac = new AbortController();
    void cluster.admin.watch(paths.secrets(), { resourceVersion: '0' }, () => undefined, ac.signal).catch(() => undefined);
    void cluster.admin.watch(paths.sealedSecrets(), { resourceVersion: '0' }, () => undefined, ac.signal).catch(() => undefined);
    await step('create a Secret (the baseline)', (i) => cluster.admin.request({ method: 'POST', path: paths.secrets('a'), body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: `p-${i}` }, data: { a: 'eHg=', b: 'eXk=' } } }));
    await step('create a SealedSecret (2 items)', (i) =>
      cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('b'), body: { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: `s-${i}`, namespace: 'b' }, spec: { encryptedData: { a: ciphertext, b: ciphertext }, template: { metadata: { name: `s-${i}`, namespace: 'b' } } } } }),
    );
    await step('SealedSecret status, merge patch', (i) => cluster.admin.request({ method: 'PATCH', path: paths.sealedSecretStatus('b', `s-${i}`), contentType: 'application/merge-patch+json', body: { status: condition('True') }, discardBody: true }));
    await step('SealedSecret status, JSON patch', (i) => cluster.admin.request({ method: 'PATCH', path: paths.sealedSecretStatus('b', `s-${i}`), contentType: 'application/json-patch+json', body: [{ op: 'replace', path: '/status', value: condition('False') }], discardBody: true }));
    const list = await cluster.admin.request<{ items: Obj[] }>({ method: 'GET', path: paths.sealedSecrets('b') });
    const byName = new Map(list.items.map((o) => [o.metadata.name, o]));
    await step('SealedSecret status, PUT', (i) => {
      const o = byName.get(`s-${i}`)!;
      delete o.metadata.managedFields;
      o.status = condition('True');
      return cluster.admin.request({ method: 'PUT', path: paths.sealedSecretStatus('b', `s-${i}`), body: o, discardBody: true });
    });
    // What the controller sends: update on the status subresource, metadata only as the
    // precondition (uid, resourceVersion), after the PUT above bumped every resourceVersion.
    const again = new Map((await cluster.admin.request<{ items: { metadata: { name: string; uid: string; resourceVersion: string } }[] }>({ method: 'GET', path: paths.sealedSecrets('b') })).items.map((o) => [o.metadata.name, o.metadata]));
    await step('SealedSecret status, minimal update (ours)', (i) => {
      const m = again.get(`s-${i}`)!;
      return cluster.admin.request({
        method: 'PUT',
        path: paths.sealedSecretStatus('b', `s-${i}`),
        body: { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: m.name, namespace: 'b', uid: m.uid, resourceVersion: m.resourceVersion }, status: condition('False') },
        discardBody: true,
      });
    });
    await step('create an Event', (i) =>
      cluster.admin.request({
        method: 'POST',
        path: paths.events('b'),
        body: { apiVersion: 'v1', kind: 'Event', metadata: { generateName: `s-${i}.`, namespace: 'b' }, involvedObject: { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: `s-${i}`, namespace: 'b' }, reason: 'Unsealed', message: 'SealedSecret unsealed successfully', type: 'Normal', source: { component: 'sealed-secrets' }, count: 1 },
        discardBody: true,
      }),
    );
    ac.abort();
    console.log(`${n} operations each, 16 in flight, two watches open:`);
    for (const r of rows) console.log(`${r.operation.padEnd(42)} ${r.seconds.toFixed(1).padStart(6)} s   API server ${r.apiServerMsPerOp.toFixed(2)} ms CPU/op   etcd ${r.etcdMsPerOp.toFixed(2)} ms CPU/op`);
  } finally {
    cluster.down();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`api-costs failed: ${(e as Error).stack}\n`);
  process.exitCode = 1;
});
