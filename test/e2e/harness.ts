/** The e2e tests use the same local-cluster harness as `npm run demo`, plus a few object helpers of their own. */
import { ApiError, paths, type KubeClient } from '../../controller/kube/client.js';
import type { SealedSecret, Secret } from '../../src/index.js';
import { waitFor, type ControllerProcess } from '../../scripts/local-cluster-harness.js';

export {
  CONTROLLER_BIN,
  ROOT,
  applyManifests,
  clientFor,
  serviceAccountKubeconfig,
  startCluster,
  startController,
  waitFor,
  type Cluster,
  type ControllerProcess,
} from '../../scripts/local-cluster-harness.js';

/** The certificate the controller serves on /v1/cert.pem, once it serves one. */
export function controllerCertificate(ctrl: ControllerProcess): Promise<string> {
  return waitFor(async () => {
    const r = await fetch(`${ctrl.url}/v1/cert.pem`);
    return r.ok ? r.text() : undefined;
  }, 30_000, 'the controller certificate');
}

/** Creates the namespaces; one that exists already is fine. */
export async function createNamespaces(admin: KubeClient, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
    } catch (e) {
      if (!(e instanceof ApiError && e.conflict)) throw e;
    }
  }
}

export function getSealedSecret(admin: KubeClient, ns: string, name: string): Promise<SealedSecret> {
  return admin.request<SealedSecret>({ method: 'GET', path: paths.sealedSecret(ns, name) });
}

/** The Secret, or undefined when there is none. */
export async function getSecretIfAny(admin: KubeClient, ns: string, name: string): Promise<Secret | undefined> {
  try {
    return await admin.request<Secret>({ method: 'GET', path: paths.secret(ns, name) });
  } catch (e) {
    if (e instanceof ApiError && e.notFound) return undefined;
    throw e;
  }
}
