/**
 * review4: the Lease-forbidden fallback (run unelected) must never leave two writers.
 * A 403 on the Lease is taken as "RBAC grants no Lease rights, for good". But a 403 can be
 * transient (a webhook authorizer timing out, RBAC edited or re-applied by a GitOps sync, a
 * terminating namespace refusing the create) and then:
 *  - a LEADER that gets one 403 on renew stops campaigning yet keeps `leading` forever (the
 *    renew-deadline check is skipped), while the Lease expires and another replica takes it;
 *  - a FOLLOWER that gets one 403 runs unelected for good beside the elected leader.
 * Either way two replicas write Secrets, status and keys (both run key renewal).
 */
import { describe, expect, it } from 'vitest';
import { ApiError, type KubeApi, type KubeRequest } from '../../controller/kube/client.js';
import { LeaderElector } from '../../controller/leader.js';
import { createLogger } from '../../controller/log.js';

const log = createLogger({ level: 'error', format: 'json', write: () => {} });

/** One Lease shared by the electors; `deny` makes the next n requests of one identity fail with 403. */
function leaseApi() {
  let lease: { metadata: Record<string, unknown>; spec: Record<string, unknown> } | undefined;
  let rv = 0;
  const deny = new Map<string, number>();
  const api = (who: string): KubeApi =>
    ({
      async request<T>(r: KubeRequest): Promise<T> {
        const n = deny.get(who) ?? 0;
        if (n > 0) {
          deny.set(who, n - 1);
          throw new ApiError(403, 'Forbidden', 'leases.coordination.k8s.io is forbidden (transient)');
        }
        if (r.method === 'GET') {
          if (!lease) throw new ApiError(404, 'NotFound', 'not found');
          return structuredClone(lease) as T;
        }
        const body = r.body as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
        if (r.method === 'POST') {
          if (lease) throw new ApiError(409, 'AlreadyExists', 'exists');
        } else if (lease && body.metadata['resourceVersion'] !== lease.metadata['resourceVersion']) {
          throw new ApiError(409, 'Conflict', 'conflict');
        }
        lease = { metadata: { ...body.metadata, resourceVersion: String(++rv) }, spec: body.spec };
        return structuredClone(lease) as T;
      },
    }) as unknown as KubeApi;
  return { api, deny };
}

const opts = (identity: string, now: () => number) => ({ namespace: 'ns', name: 'lease', identity, leaseDurationMs: 150, renewDeadlineMs: 100, retryPeriodMs: 20, now });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a replica writes: elected leader, or unelected after a 403 (main.ts starts workers then). */
const writes = (e: LeaderElector, unelected: { v: boolean }) => e.leading || unelected.v;

describe('a transient 403 on the Lease', () => {
  it('never leaves two replicas writing (leader gets one 403 on renew)', async () => {
    const { api, deny } = leaseApi();
    const ua = { v: false };
    const ub = { v: false };
    const a = new LeaderElector(api('a'), log, opts('a', Date.now));
    const b = new LeaderElector(api('b'), log, opts('b', Date.now));
    a.run(() => {}, () => {}, () => { ua.v = !a.leading; });
    await sleep(60);
    expect(a.leading).toBe(true);
    b.run(() => {}, () => {}, () => { ub.v = !b.leading; });
    deny.set('a', 1); // one refused renewal of the leader
    await sleep(1600); // the Lease says 1 s (whole seconds)
    const writers = [writes(a, ua), writes(b, ub)].filter(Boolean).length;
    await a.stop();
    await b.stop();
    expect(writers).toBe(1);
  });

  it('never leaves two replicas writing (follower gets one 403)', async () => {
    const { api, deny } = leaseApi();
    const ua = { v: false };
    const ub = { v: false };
    const a = new LeaderElector(api('a'), log, opts('a', Date.now));
    const b = new LeaderElector(api('b'), log, opts('b', Date.now));
    a.run(() => {}, () => {}, () => { ua.v = !a.leading; });
    await sleep(60);
    deny.set('b', 1); // one refused read of the follower
    b.run(() => {}, () => {}, () => { ub.v = !b.leading; });
    await sleep(600);
    const writers = [writes(a, ua), writes(b, ub)].filter(Boolean).length;
    await a.stop();
    await b.stop();
    expect(writers).toBe(1);
  });

  it('still runs unelected when the Lease stays forbidden (upstream RBAC)', async () => {
    const { api, deny } = leaseApi();
    const ua = { v: false };
    const a = new LeaderElector(api('a'), log, opts('a', Date.now));
    deny.set('a', 1_000_000);
    a.run(() => {}, () => {}, () => { ua.v = true; });
    await sleep(600);
    await a.stop();
    expect(ua.v).toBe(true);
    expect(a.forbidden).toBe(true);
  });

  it('two replicas unelected for want of Lease rights: once the rights are granted (as the log says to), one writer', async () => {
    const { api, deny } = leaseApi();
    // As main.ts: writing after onStart or onForbidden (when not leading), not after onStop.
    const replica = (id: string) => {
      const w = { v: false };
      const e = new LeaderElector(api(id), log, opts(id, Date.now));
      e.run(() => { w.v = true; }, () => { w.v = false; }, () => { if (!e.leading) w.v = true; });
      return { e, w };
    };
    deny.set('a', 1_000_000);
    deny.set('b', 1_000_000);
    const a = replica('a');
    const b = replica('b');
    await sleep(500);
    expect([a.w.v, b.w.v]).toEqual([true, true]); // upstream's RBAC: both unelected (two replicas, as deploy/base)
    deny.clear(); // the Role now grants leases
    await sleep(2500);
    const writers = [a.w.v, b.w.v].filter(Boolean).length;
    await a.e.stop();
    await b.e.stop();
    expect(writers).toBe(1);
  });
});
