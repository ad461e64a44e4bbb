/**
 * Regression test from the second adversarial review (it failed while the hole was open). Review round 2, on a real API server (v1.20): the deprecated v1 spec.data path writes
 * whatever metadata the plaintext JSON carries. Any encryptedData item's ciphertext can be
 * pasted as spec.data (same OAEP label), so the "Secret" is the JSON of a victim's item. Two
 * members of that JSON reach observables that are not concealed:
 *
 * 1. metadata.resourceVersion (a JSON object that came from `kubectl get -o json`, or a genuine
 *    old v1 blob sealed from one): the POST is refused by storage with a plain error, which the
 *    API server answers 500 "resourceVersion should not be set on objects to be created". 500 is
 *    not a verdict refusedAsInvalid() falls back on: the reconcile returns 'retry' forever, logs
 *    "Secret write deferred", counts reconciles_total{outcome="retry"} and re-decrypts on every
 *    backoff, and status never reaches the generation. B (the same JSON without it) is Synced.
 * 2. metadata.annotations["sealedsecrets.bitnami.com/skip-set-owner-references"]="true": the
 *    Secret is created without the ownerReference, so the next reconcile (any change an
 *    attacker makes to the SealedSecret) finds a Secret it does not control and puts
 *    ERR_UNMANAGED ("already exists and is not managed") in status. B is Synced.
 */
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { sealSecret, type SealedSecret } from '../../src/index.js';
import { getSealedSecret, syncedCondition, useControllerCluster, type Cluster, type ControllerProcess } from './harness.js';

let cluster: Cluster;
let ctrl: ControllerProcess;
let publicKey: KeyObject;
const NS = { A: 'review2-a', B: 'review2-b' } as const;

interface Case {
  name: string;
  A: object;
  B: object;
}
const CASES: Case[] = [
  {
    name: 'resourceVersion in the JSON: 500 from storage -> retry loop, no status',
    A: { metadata: { resourceVersion: '12345' }, data: { k: 'dg==' } },
    B: { metadata: { resourceVersion: '' }, data: { k: 'dg==' } },
  },
  {
    name: 'skip-set-owner-references in the JSON: the next reconcile reports ERR_UNMANAGED',
    A: { metadata: { annotations: { 'sealedsecrets.bitnami.com/skip-set-owner-references': 'true' } }, data: { k: 'dg==' } },
    B: { metadata: { annotations: { 'sealedsecrets.bitnami.com/skip-set-owner-references': 'nope' } }, data: { k: 'dg==' } },
  },
];

/** The victim's item (a JSON value), its ciphertext pasted by the attacker as the deprecated spec.data. */
function pasted(value: object, ns: string, name: string): SealedSecret {
  const victim = sealSecret({ metadata: { name, namespace: ns }, stringData: { cfg: JSON.stringify(value) } }, { publicKey });
  return { ...victim, spec: { encryptedData: {}, data: victim.spec.encryptedData['cfg'] } as never };
}

const getSS = (ns: string, name: string) => getSealedSecret(cluster.admin, ns, name);

const visible = (ns: string, name: string, ms: number) => syncedCondition(cluster.admin, ns, name, ms);

useControllerCluster(Object.values(NS), (c) => ({ cluster, ctrl, publicKey } = c));

describe('review2: v1 plaintext metadata on a real API server', () => {
  it('what a non-reader sees is the same for A and B', async () => {
    for (const [i, c] of CASES.entries()) for (const v of ['A', 'B'] as const) {
      await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(NS[v]), body: pasted(c[v], NS[v], `case-${i}`) });
    }
    const first = CASES.map((c, i) => ({ name: c.name, A: '', B: '' }));
    for (const [i] of CASES.entries()) {
      first[i]!.A = await visible(NS.A, `case-${i}`, 20_000);
      first[i]!.B = await visible(NS.B, `case-${i}`, 5_000);
    }
    // The attacker's next change to each SealedSecret (a template edit: public, and ignored by v1).
    for (const [i] of CASES.entries()) for (const v of ['A', 'B'] as const) {
      const live = await getSS(NS[v], `case-${i}`);
      live.spec = { ...live.spec, template: { metadata: { labels: { touched: 'yes' } } } };
      await cluster.admin.request({ method: 'PUT', path: paths.sealedSecret(NS[v], `case-${i}`), body: live });
    }
    const second = CASES.map((c, i) => ({ name: c.name, A: '', B: '' }));
    for (const [i] of CASES.entries()) {
      second[i]!.A = await visible(NS.A, `case-${i}`, 20_000);
      second[i]!.B = await visible(NS.B, `case-${i}`, 5_000);
    }
    const metrics = await (await fetch(`${ctrl.metricsUrl}/metrics`)).text();
    const deferred = ctrl.logs.filter((l) => /deferred|not synced/.test(l)).map((l) => l.replace(/time=\S+ ?/, '')).slice(0, 4);
    console.log(JSON.stringify({ first, second }, null, 2));
    console.log('reconciles:', metrics.split('\n').filter((l) => l.startsWith('sealed_secrets_controller_reconciles_total')).join(' | '));
    console.log('log lines:\n' + deferred.join('\n'));
    for (const s of [...first, ...second]) expect.soft(s.A, s.name).toBe(s.B);
    expect(deferred.filter((l) => l.includes(NS.A))).toEqual([]);
  }, 300_000);
});
