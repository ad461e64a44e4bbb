/**
 * Regression test from the adversarial review (it failed while the hole was open): value-dependent outcomes that still reach status on a
 * real API server. Each case is sealed over two plaintexts A and B that someone without
 * read access to the Secret must not be able to tell apart. The test asserts the first rule
 * (A and B look the same from status); it FAILS while the hole is open, and prints what
 * a non-reader sees for each.
 *
 * Root causes:
 * - shape: on an ERR_VALUE the controller writes a different object (Opaque placeholder, or
 *   the existing Secret's type and data, plus one more annotation) from the one it writes
 *   on success. Whatever the API server refuses about the *success* object for public
 *   reasons (tls without tls.crt, a type change, ...) or about the *error* object (the
 *   annotation total) then says whether the values made an ERR_VALUE.
 * - checkValues does not model every value-dependent check of ValidateSecret / storage:
 *   Go's json.Unmarshal refuses 1e400 (JSON.parse accepts it), ssh-auth refuses an empty
 *   ssh-privatekey.
 * (Tried and not reproduced here: 800 kB of rendered data plus ~600 kB of public labels was
 * accepted by etcd 3.4, so no etcd-size threshold below the 1 MiB check was shown.)
 */
import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { sealSecret, type SealedSecret } from '../../src/index.js';
import { getSealedSecret, getSecretIfAny, syncedCondition, useControllerCluster, waitFor, type Cluster, type ControllerProcess } from './harness.js';

let cluster: Cluster;
let ctrl: ControllerProcess;
let publicKey: KeyObject;
const NS = { A: 'review-a', B: 'review-b' } as const;

interface Case {
  name: string;
  A: Record<string, string>;
  B: Record<string, string>;
  type?: string;
  data?: Record<string, string>;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  /** First create it with no template (both succeed), then update to the case. */
  updateOf?: boolean;
}

const longItem = 'p'.repeat(200);
/** A value error iff the value is not base64 (Sprig's b64dec returns its error text instead of failing, as Go's does). */
const B64_PROBE = '{{ $d := .password | b64dec }}{{ if hasPrefix "illegal base64" $d }}{{ fail "not base64" }}{{ end }}{{ $d }}';

const CASES: Case[] = [
  {
    name: 'tls-missing-keys: the placeholder (Opaque) is accepted, the real tls Secret is refused',
    A: { password: 'YW!jZA==' },
    B: { password: 'YWJjZA==' },
    type: 'kubernetes.io/tls',
    data: { probe: B64_PROBE },
  },
  {
    name: 'type-change: an ERR_VALUE keeps the existing type, success changes it and is refused',
    A: { password: 'YW!jZA==' },
    B: { password: 'YWJjZA==' },
    type: 'example.com/other',
    data: { probe: B64_PROBE },
    updateOf: true,
  },
  {
    name: 'docker-1e400: JSON.parse accepts 1e400, Go json.Unmarshal (ValidateSecret) refuses it',
    A: { n: '1e400' },
    B: { n: '1e300' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': '{"auths":{},"n":{{ .n }}}' },
  },
  {
    name: 'ssh-empty: ssh-auth refuses an empty ssh-privatekey; equality with a guess',
    A: { password: 'hunter2' },
    B: { password: 'qwerty9' },
    type: 'kubernetes.io/ssh-auth',
    data: { 'ssh-privatekey': '{{ trimPrefix "hunter2" .password }}' },
  },
  {
    name: 'annotations-256KiB: the unseal-error annotation pushes the error Secret over the annotation limit',
    A: { password: 'YW!jZA==' },
    B: { password: 'YWJjZA==' },
    // 262144 minus the controller's own annotations (about 250 bytes) minus 150: the
    // unseal-error annotation (about 330 bytes with this item name) does not fit.
    annotations: { big: 'x'.repeat(262144 - 3 - 252 - 150) },
    data: { [longItem]: B64_PROBE },
  },
];

function seal(c: Case, v: 'A' | 'B', ns: string, name: string, withTemplate = true): SealedSecret {
  const ss = sealSecret({ metadata: { name, namespace: ns }, type: withTemplate ? c.type : undefined, stringData: c[v] }, { publicKey });
  if (withTemplate) {
    const meta = { ...(ss.spec.template?.metadata ?? {}) };
    if (c.annotations) meta.annotations = { ...(meta.annotations ?? {}), ...c.annotations };
    if (c.labels) meta.labels = c.labels;
    ss.spec.template = { ...ss.spec.template, metadata: meta, ...(c.data ? { data: c.data } : {}) };
  }
  return ss;
}

const getSS = (ns: string, name: string) => getSealedSecret(cluster.admin, ns, name);

const getSecret = (ns: string, name: string) => getSecretIfAny(cluster.admin, ns, name);

const visible = (ns: string, name: string, ms: number) => syncedCondition(cluster.admin, ns, name, ms);

useControllerCluster(Object.values(NS), (c) => ({ cluster, ctrl, publicKey } = c));

describe('review: value-dependent outcomes on a real API server', () => {
  it('what a non-reader sees is the same for A and B in every case', async () => {
    // Cases that update an existing Secret: create it first, without the template (both succeed).
    for (const [i, c] of CASES.entries()) {
      for (const v of ['A', 'B'] as const) {
        const ns = NS[v];
        await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(ns), body: seal(c, v, ns, `case-${i}`, !c.updateOf) });
      }
    }
    for (const [i, c] of CASES.entries()) {
      if (!c.updateOf) continue;
      for (const v of ['A', 'B'] as const) {
        const ns = NS[v];
        await waitFor(() => getSecret(ns, `case-${i}`), 30_000, `Secret ${ns}/case-${i}`);
        await visible(ns, `case-${i}`, 20_000);
        const live = await getSS(ns, `case-${i}`);
        live.spec = seal(c, v, ns, `case-${i}`).spec;
        await cluster.admin.request({ method: 'PUT', path: paths.sealedSecret(ns, `case-${i}`), body: live });
      }
    }
    const seen: { name: string; A: string; B: string }[] = [];
    for (const [i, c] of CASES.entries()) {
      const A = await visible(NS.A, `case-${i}`, 25_000);
      const B = await visible(NS.B, `case-${i}`, 5_000);
      seen.push({ name: c.name, A, B });
    }
    const deferred = ctrl.logs.filter((l) => /deferred/.test(l)).map((l) => l.replace(/time=\S+ ?/, '')).slice(0, 5);
    console.log(JSON.stringify(seen, null, 2));
    console.log('controller log lines about deferred writes:\n' + deferred.join('\n'));
    for (const s of seen) expect.soft(s.A, s.name).toBe(s.B);
  }, 300_000);
});
