/**
 * `npm run demo`: the main job on a fresh machine. It brings up a real local
 * Kubernetes control plane (built from Debian's source the first time), installs
 * the CRD and RBAC from deploy/, starts the controller, seals a sample Secret with
 * kubeseal, applies the SealedSecret and shows the Secret the controller made.
 * `npm run demo -- --keep` leaves the cluster and controller running.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { paths } from '../controller/kube/client.js';
import type { SealedSecret, Secret } from '../src/index.js';
import { ROOT, applyManifests, serviceAccountKubeconfig, startCluster, startController, waitFor } from './local-cluster-harness.js';

const say = (s: string) => process.stdout.write(`\n\x1b[1m# ${s}\x1b[0m\n`);

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  say('1. A local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager (the first run builds them, ~8 min)');
  const cluster = await startCluster();
  process.stdout.write(`KUBECONFIG=${cluster.kubeconfig}\n`);
  let stop = async () => cluster.down();
  try {
    say('2. Install deploy/base (CRD, RBAC, Service) and start the controller as its ServiceAccount');
    const kinds = await applyManifests(cluster.admin);
    process.stdout.write(`applied: ${kinds.join(', ')}\n`);
    const ctrl = await startController(await serviceAccountKubeconfig(cluster));
    stop = async () => {
      await ctrl.stop();
      cluster.down();
    };
    const cert = await waitFor(async () => {
      const r = await fetch(`${ctrl.url}/v1/cert.pem`);
      return r.ok ? r.text() : undefined;
    }, 60_000, 'the controller certificate');
    process.stdout.write(`controller at ${ctrl.url}; its certificate:\n${cert}`);

    say('3. A developer seals a Secret offline: kubeseal --cert <controller>/v1/cert.pem < secret.yaml');
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\n  namespace: default\ntype: Opaque\nstringData:\n  username: billing\n  password: correct horse battery staple\n';
    process.stdout.write(secret);
    const sealed = execFileSync(process.execPath, [join(ROOT, 'dist/kubeseal.cjs'), '--cert', `${ctrl.url}/v1/cert.pem`], { input: secret, encoding: 'utf8' });
    process.stdout.write(sealed);

    say('4. The SealedSecret is applied (what Flux or Argo CD do from Git)');
    const ss = parse(sealed) as SealedSecret;
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('default'), body: ss });

    say('5. The controller unsealed it into a Secret');
    const made = await waitFor(() => cluster.admin.request<Secret>({ method: 'GET', path: paths.secret('default', 'db-credentials') }).catch(() => undefined), 30_000, 'the Secret');
    const shown = { ...made, metadata: { name: made.metadata.name, namespace: made.metadata.namespace, annotations: made.metadata.annotations, ownerReferences: made.metadata.ownerReferences } };
    process.stdout.write(stringify(shown));
    process.stdout.write(`password = ${Buffer.from(made.data!['password']!, 'base64').toString()}\n`);
    const status = await waitFor(async () => {
      const s = await cluster.admin.request<SealedSecret>({ method: 'GET', path: paths.sealedSecret('default', 'db-credentials') });
      return s.status?.conditions?.[0];
    }, 20_000, 'the SealedSecret status');
    process.stdout.write(`SealedSecret status: Synced=${status.status}\n`);
    if (keep) {
      say(`Left running. export KUBECONFIG=${cluster.kubeconfig}; stop with: scripts/local-cluster.sh down --state-dir ${cluster.stateDir} (and kill ${ctrl.proc.pid})`);
      ctrl.proc.unref();
      return;
    }
    say('Done: stopping the controller and the cluster');
    await stop();
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
