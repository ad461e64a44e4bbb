/** The e2e tests use the same local-cluster harness as `npm run demo`, plus a few object helpers of their own. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { ApiError, paths, type KubeClient } from '../../controller/kube/client.js';
import type { SealedSecret, Secret } from '../../src/index.js';
import { applyManifests, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from '../../scripts/local-cluster-harness.js';

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

export interface ControllerCluster {
  cluster: Cluster;
  ctrl: ControllerProcess;
  /** The controller's sealing key, from its certificate. */
  publicKey: KeyObject;
}

/**
 * For a test file: before its tests, a cluster with deploy/base applied, the controller running
 * with its ServiceAccount's token (`controllerArgs` added), its certificate served, and
 * `namespaces` created, handed to `set`; after them, all of it stopped and removed.
 */
export function useControllerCluster(namespaces: readonly string[], set: (c: ControllerCluster) => void, controllerArgs: string[] = []): void {
  let c: Partial<ControllerCluster> = {};
  beforeAll(async () => {
    const cluster = await startCluster();
    c = { cluster };
    await applyManifests(cluster.admin);
    const ctrl = await startController(await serviceAccountKubeconfig(cluster), controllerArgs);
    c.ctrl = ctrl;
    const publicKey = createPublicKey(await controllerCertificate(ctrl));
    await createNamespaces(cluster.admin, namespaces);
    set({ cluster, ctrl, publicKey });
  }, 20 * 60_000);
  afterAll(async () => {
    await c.ctrl?.stop();
    c.cluster?.down();
  });
}

/**
 * What a reader of SealedSecrets sees within `ms`: the Synced condition of the current
 * generation (the namespace's name replaced by NS), or that there is none.
 */
export async function syncedCondition(admin: KubeClient, ns: string, name: string, ms: number): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const ss = await getSealedSecret(admin, ns, name);
    const c = ss.status?.conditions?.find((x) => x.type === 'Synced');
    if (ss.status?.observedGeneration === ss.metadata.generation && c) return `Synced=${c.status} ${c.message ?? ''}`.replaceAll(ns, 'NS').slice(0, 240);
    if (Date.now() > end) return `no status for generation ${ss.metadata.generation} after ${ms} ms (observedGeneration ${ss.status?.observedGeneration})`;
    await new Promise((r) => setTimeout(r, 250));
  }
}
