/**
 * Fourth adversarial review (template engine), R4-1 at the level the reconciler sees: how long the
 * unseal pool takes to answer for a SealedSecret whose template branches on its value. This is the
 * latency that shows in the status update an attacker watches (and that a fix padding the answer in
 * the worker or the pool would close; the CPU metric is a separate problem, see NOTES-REVIEW.md).
 *
 * Needs `node scripts/build.mjs` (dist/unseal-worker.cjs), as the other pool tests.
 */
import { describe, expect, it } from 'vitest';
import type { UnsealPool } from '../../controller/unseal-pool.js';
import { sealSecret } from '../../src/index.js';
import { usePool, vectorKey } from './pool-fixture.js';

let pool: UnsealPool;
usePool(1, (p) => (pool = p));

const TEMPLATE = '{{ if lt .password "m" }}{{ range until 4 }}{{ derivePassword 1 "long" "x" "y" "z" }}{{ end }}{{ end }}ok';

async function answerMs(password: string, n: number): Promise<number> {
  const ss = sealSecret({ metadata: { name: `t${n}`, namespace: 'team' }, stringData: { password } }, { publicKey: vectorKey.publicKey });
  ss.spec.template = { ...(ss.spec.template ?? {}), data: { out: TEMPLATE } };
  const t0 = performance.now();
  await pool.unseal({ ...ss, metadata: { ...ss.metadata, uid: `u${n}` } } as never).catch(() => undefined);
  return performance.now() - t0;
}

describe('review4: the pool answers later when the value takes the expensive branch', () => {
  it('the answer time does not depend on the value', async () => {
    await answerMs('zzz', 0); // warm up the worker
    const slow = Math.min(await answerMs('aaa-secret', 1), await answerMs('bbb-secret', 2));
    const fast = Math.max(await answerMs('zzz-secret', 3), await answerMs('yyy-secret', 4));
    expect(slow - fast).toBeLessThan(100);
  }, 180_000);
});
