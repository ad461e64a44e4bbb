/**
 * Regression test from the second adversarial review (it failed while the hole was open): the wall-clock backstop of TemplateBudget is checked only between steps, and
 * `replace` hands the whole search to one native String.prototype.indexOf call. V8's string
 * search is super-linear for some needles (a needle longer than its 250-character Boyer-Moore
 * window whose head mismatches late: each alignment compares thousands of characters), and
 * `replace` charges only s.length + from.length to `scanned`. Literals are not charged as
 * bytes produced. So one action
 *
 *   {{ replace NEEDLE "" (replace GUESS FILLER .password) | len }}
 *
 * costs microseconds when GUESS does not occur in the value (no filler run) and seconds when it
 * does (a 120 KB run of filler the needle crawls over): a substring oracle on the plaintext, with
 * a gap of seconds, far beyond the documented bounded channel (SECURITY.md: ~10-25 ms) and past
 * the 250 ms backstop. The unseal worker is stuck for the whole search (no task timeout), which
 * also stalls every other reconcile and /v1/verify, so anyone timing /v1/verify through the
 * service proxy (or reading status times, whole seconds are enough) reads the bit.
 */
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../src/index.js';

const FILL = '~';
/** A needle V8 searches slowly in a run of FILL: its last 10,000 chars match anywhere, its head mismatches at char 9,999. */
const M = 20_000;
const BACK = 10_000;
export const NEEDLE = FILL.repeat(M - BACK - 1) + 'b' + FILL.repeat(BACK);
export const RUN = FILL.repeat(120_000);
export const substringProbe = (guess: string, item = 'password') => `{{ replace "${NEEDLE}" "" (replace "${guess}" "${RUN}" .${item}) | len }}`;

function time(src: string, value: string): number {
  const t = performance.now();
  try {
    renderTemplate('probe', src, new Map([['password', Buffer.from(value)]]));
  } catch {
    // Over the budget: an ERR_VALUE, as fast as the budget makes it.
  }
  return performance.now() - t;
}

describe('review2: CPU the budget does not bound (native string search)', () => {
  it('rendering time does not depend on whether a guessed substring is in the value (beyond the documented ~25 ms)', () => {
    const src = substringProbe('hunter');
    const a = time(src, 'hunter2-xyz'); // guess is a substring
    const b = time(src, 'qwerty9-xyz'); // it is not
    console.log(`substring present: ${a.toFixed(0)} ms, absent: ${b.toFixed(0)} ms`);
    expect(Math.abs(a - b)).toBeLessThan(100);
  }, 60_000);

  it('no single template runs far past the 250 ms wall-clock backstop', () => {
    // Value-independent: the same search over a literal run.
    const src = `{{ replace "${NEEDLE}" "" "${RUN}" | len }}`;
    const t = performance.now();
    try {
      renderTemplate('probe', src, new Map());
    } catch {
      /* an ERR_VALUE is the backstop working */
    }
    const ms = performance.now() - t;
    console.log(`literal search: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(500);
  }, 60_000);
});

/* ---- the same, through the real controller: what a non-reader measures ---- */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createMainServer } from '../../controller/http.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { parsePrivateKeyPem, sealSecret, type SealedSecret } from '../../src/index.js';
import { vectorKeys } from '../vectors.js';

const WORKER = fileURLToPath(new URL('../../dist/unseal-worker.cjs', import.meta.url));
const key = parsePrivateKeyPem(vectorKeys()[0]!.privateKeyPem, 'k');
let pool: UnsealPool;
beforeAll(async () => {
  // One worker stands for "every worker busy": an attacker applies one probe per worker.
  pool = new UnsealPool({ filename: WORKER, workers: 1 });
  await pool.setKeys([{ ...key, orderingTime: 0 }]);
  // A fresh worker's first unseal and verify, and the first fetch, pay one-time start-up work
  // (hundreds of ms under load, whatever the values: measured with B first too); done here so that
  // A, observed first, is not charged for it.
  const warm = sealSecret({ metadata: { name: 'warm', namespace: 'probe' }, stringData: { password: 'warm-up-value' } }, { publicKey: key.publicKey });
  warm.spec.template = { ...warm.spec.template, data: { probe: substringProbe('nothing') } };
  await pool.unseal(warm);
  await pool.verify(warm);
  // And the process's first HTTP request (fetch's own start-up), through a throwaway server.
  const { createServer } = await import('node:http');
  const srv = createServer((_q, r) => r.end('ok'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  await (await fetch(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/`, { method: 'POST', body: '{}' })).text();
  srv.close();
});
afterAll(() => pool.close());

/** The victim's ciphertext, copied; the attacker adds the template. */
function probe(password: string, guess: string): SealedSecret {
  const ss = sealSecret({ metadata: { name: 'target', namespace: 'probe' }, stringData: { password } }, { publicKey: key.publicKey });
  ss.spec.template = { ...ss.spec.template, data: { probe: substringProbe(guess) } };
  return ss;
}

/** Reconciles `ss` and, meanwhile, times a /v1/verify of an unrelated object (what the service proxy lets anyone do). */
async function observe(ss: SealedSecret): Promise<{ verifyMs: number; unsealSeconds: number; status: unknown }> {
  const api = new MemoryApi();
  const metrics = createMetrics('review2');
  const log = createLogger({ level: 'info', format: 'json', write: () => {} });
  const macKey = createHmac('sha256', 'k').digest();
  const { controller } = assembleController({ api, pool, log, metrics, macKey: () => macKey, events: { emit: () => {} }, now: () => new Date('2026-12-01T00:00:00Z') });
  const server = createMainServer({ certificatePem: () => 'c', ready: () => ({ ok: true, detail: '' }), verify: (s) => pool.verify(s), rotate: (s) => pool.reencrypt(s), metrics, log, rateLimit: 0, rateLimitBurst: 0, readTimeoutMs: 60_000, writeTimeoutMs: 60_000 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const other = sealSecret({ metadata: { name: 'other', namespace: 'probe' }, stringData: { x: 'y' } }, { publicKey: key.publicKey });
  try {
    api.put('sealedsecrets', { ...ss, metadata: { ...ss.metadata, uid: 'uid-1', generation: 1 } } as never);
    controller.startInformers();
    await controller.startWorkers();
    await new Promise((r) => setTimeout(r, 50));
    const t = performance.now();
    const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/verify`, { method: 'POST', body: JSON.stringify(other) });
    await r.text();
    const verifyMs = performance.now() - t;
    await controller.idle();
    const text = await metrics.registry.metrics();
    const unsealSeconds = Number(/sealed_secrets_controller_unseal_duration_seconds_sum (\S+)/.exec(text)?.[1]);
    const live = api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret;
    return { verifyMs, unsealSeconds, status: live.status?.conditions?.map((c) => [c.status, c.reason]) };
  } finally {
    controller.stop();
    server.close();
  }
}

describe('review2: the substring oracle through the controller', () => {
  it('/v1/verify latency and unseal_duration_seconds do not depend on whether the guess is in the Secret', async () => {
    // The first observation in a process pays one-time start-up work (controller, server, fetch, worker)
    // whatever the values; a throwaway one goes first so that A is not charged for it.
    await observe(probe('warm-up-xyz', 'nothing'));
    const a = await observe(probe('hunter2-xyz', 'hunter2'));
    const b = await observe(probe('qwerty9-xyz', 'hunter2'));
    console.log('guess in value:', a, '\nguess not in value:', b);
    expect(a.status).toEqual(b.status); // the concealment itself holds...
    expect(Math.abs(a.unsealSeconds - b.unsealSeconds)).toBeLessThan(0.1); // ...but the metric tells them apart
    expect(Math.abs(a.verifyMs - b.verifyMs)).toBeLessThan(100); // and so does anyone timing /v1/verify
  }, 120_000);
});
