/**
 * Fourth adversarial review (template engine): a TypeError escapes the renderer, on a branch the
 * values choose, and the reconciler's fallback for it differs from the success path in the metrics.
 *
 * 1. Ranging over a dict while `unset` removes a later key: exec.ts walkRange sorts the keys once
 *    and then passes `val.entries.get(k)!` — undefined for the removed key — as the element, and
 *    `{{ if $v }}` calls isTrue(undefined) -> `v.truth()`: "TypeError: Cannot read properties of
 *    undefined (reading 'truth')", not an EvalError, out of renderParsed. (Go 1.19 ranges over a
 *    snapshot of keys and values, fmtsort.Sort: $v is the old value.) The removal can be made to depend on a value:
 *      {{ $d := dict "a" 1 "b" 2 }}{{ range $k, $v := $d }}
 *        {{ if hasPrefix "h" $.password }}{{ $_ := unset $d "b" }}{{ end }}{{ if $v }}{{ end }}{{ end }}
 * 2. The worker turns it into ERR_WORKER; the reconciler conceals an ERR_WORKER of a SealedSecret with
 *    templates as an ERR_VALUE (good: status, Events, logs match) but records
 *    unseal_duration_seconds.observe(0) and rsa_operations += number of items, where the success (and
 *    the real ERR_VALUE) path records the decryption time and the real RSA operation count. A metrics
 *    reader sees 0 s in the histogram iff the guess was right: one clean bit per reconcile. The same
 *    holds for any worker death on a value-dependent branch (R4-7's toDate bomb under an `if`).
 * Fix: (1) walkRange over a map iterates a snapshot of [key, value] pairs, as Go does, and renderParsed/recover treat any non-EvalError as an ERR_VALUE too;
 * (2) on the concealed ERR_WORKER path observe what success would (e.g. the worker reports decryptMs
 * and rsaOperations before rendering, or the pool measures decryption separately), or stop
 * exporting per-reconcile decryption time.
 *
 * Needs `node scripts/build.mjs` (dist/unseal-worker.cjs), as the other pool tests.
 */
import { describe, expect, it } from 'vitest';
import type { UnsealPool } from '../../controller/unseal-pool.js';
import { renderTemplate } from '../../src/template.js';
import { probeMetrics, usePool } from './pool-fixture.js';

let pool: UnsealPool;
usePool(1, (p) => (pool = p));

const PROBE = '{{ $d := dict "a" 1 "b" 2 }}{{ range $k, $v := $d }}{{ if hasPrefix "h" $.password }}{{ $_ := unset $d "b" }}{{ end }}{{ if $v }}{{ end }}{{ end }}ok';

async function durationSumMs(password: string, n = 3): Promise<number> {
  const text = await probeMetrics(pool, 'review4te', password, PROBE, n);
  return Number(/sealed_secrets_controller_unseal_duration_seconds_sum (\S+)/.exec(text)![1]) * 1000;
}

describe('review4: an exception out of the renderer, and its fallback in the metrics', () => {
  it('renderTemplate throws only SealedSecretsErrors', () => {
    let err: unknown;
    try {
      renderTemplate('out', PROBE, new Map([['password', Buffer.from('hunter2')]]));
    } catch (e) {
      err = e;
    }
    expect((err as Error | undefined)?.constructor?.name).not.toBe('TypeError');
  });

  it('unseal_duration_seconds does not show whether the value took the branch', async () => {
    await durationSumMs('warmup!', 1);
    const right = await durationSumMs('hunter2'); // TypeError -> ERR_WORKER -> observe(0)
    const wrong = await durationSumMs('qwerty9'); // success -> observe(decryption time)
    console.log(`unseal_duration sum: right guess ${right.toFixed(2)} ms, wrong guess ${wrong.toFixed(2)} ms`);
    expect(right === 0).toBe(wrong === 0);
  }, 120_000);
});
