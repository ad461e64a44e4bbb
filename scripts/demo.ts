/**
 * `npm run demo`: the main job on a fresh machine. It brings up a real local Kubernetes
 * cluster with a node (control plane, kubelet, containerd: built from Debian's source the first
 * time), builds the controller image from the working tree, runs it as the Pods of
 * `kubectl apply -k deploy/overlays/dev`, seals a sample Secret with kubeseal (which fetches the
 * certificate from the Pod through the API server's service proxy), applies the SealedSecret and
 * shows the Pods beside the Secret they made.
 * `npm run demo -- --keep` leaves the cluster running.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { paths } from '../controller/kube/client.js';
import type { SealedSecret, Secret } from '../src/index.js';
import { ROOT, deployController, startNodeCluster, waitFor } from './local-cluster-harness.js';

const say = (s: string) => process.stdout.write(`\n\x1b[1m# ${s}\x1b[0m\n`);

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  say('1. A local Kubernetes cluster with a real node: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, containerd (the first run builds them, ~25 min on 2 cores)');
  const cluster = await startNodeCluster();
  process.stdout.write(`KUBECONFIG=${cluster.kubeconfig}  (up in ${cluster.upSeconds.toFixed(0)} s; the controller image was built from this working tree and imported)\n`);
  try {
    say('2. kubectl apply -k deploy/overlays/dev: the CRD, RBAC, Services and the controller Deployment');
    const { seconds, output } = await deployController(cluster, 'deploy/overlays/dev');
    process.stdout.write(output);
    process.stdout.write(`the controller Pod is Ready (keys loaded) ${seconds.toFixed(1)} s after apply\n`);

    say('3. A developer seals a Secret: kubeseal fetches the certificate from the Pod through the API server (service proxy)');
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\n  namespace: default\ntype: Opaque\nstringData:\n  username: billing\n  password: correct horse battery staple\n';
    process.stdout.write(secret);
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfig };
    const sealed = execFileSync(process.execPath, [join(ROOT, 'dist/kubeseal.cjs')], { input: secret, encoding: 'utf8', env });
    process.stdout.write(sealed);

    say('4. The SealedSecret is applied (what Flux or Argo CD do from Git)');
    const ss = parse(sealed) as SealedSecret;
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: ss });

    say('5. The controller Pod unsealed it into a Secret');
    const made = await waitFor(() => cluster.admin.request<Secret>({ method: 'GET', path: paths.secret('default', 'db-credentials') }).catch(() => undefined), 30_000, 'the Secret');
    process.stdout.write(cluster.kubectl(['-n', 'kube-system', 'get', 'pods', '-o', 'wide']));
    process.stdout.write('\n');
    const shown = { ...made, metadata: { name: made.metadata.name, namespace: made.metadata.namespace, annotations: made.metadata.annotations, ownerReferences: made.metadata.ownerReferences } };
    process.stdout.write(stringify(shown));
    process.stdout.write(`password = ${Buffer.from(made.data!['password']!, 'base64').toString()}\n`);
    const status = await waitFor(async () => {
      const s = await cluster.admin.request<SealedSecret>({ method: 'GET', path: paths.sealedSecret('default', 'db-credentials') });
      return s.status?.conditions?.[0];
    }, 20_000, 'the SealedSecret status');
    process.stdout.write(`SealedSecret status: Synced=${status.status}\n`);
    if (keep) {
      say(`Left running. export KUBECONFIG=${cluster.kubeconfig}; stop with: scripts/local-cluster.sh down --state-dir ${cluster.stateDir}`);
      return;
    }
    say('Done: taking the cluster and the node down (Pods first; the machine is left as it was)');
    cluster.down();
  } catch (e) {
    try {
      cluster.down();
    } catch {
      // reported below
    }
    throw e;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
