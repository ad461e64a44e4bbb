/**
 * The first rule, tried as an attacker would: someone who may create SealedSecrets but
 * not read Secrets copies a ciphertext and adds a template (or an item, or a type) whose
 * failure depends on the plaintext. Each case below is run over two plaintexts of the same
 * length that a leaky controller would tell apart; everything such an attacker can observe
 * (status, Events, metrics, logs, the /v1/verify answer) must be the same for both, while
 * the Secret's readers see the difference (so each case really is value-dependent).
 *
 * Runs the real reconciler with the real worker pool over the in-memory API; the same
 * family runs on the real API server in test/e2e/oracle.test.ts.
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createMainServer } from '../../controller/http.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { ANNOTATION_UNSEAL_ERROR } from '../../controller/reconciler.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { type SealedSecret, type Secret } from '../../src/index.js';
import { usePool, vectorKey } from './pool-fixture.js';
import { ORACLE_CASES, sealCase, type OracleCase } from './oracle-cases.js';

const key = vectorKey;
let pool: UnsealPool;
usePool(2, (p) => (pool = p));
interface Observed {
  status: unknown;
  events: string[];
  metrics: string[];
  logs: string[];
  verify: { status: number; body: string };
  secretAnnotation: string | undefined;
}

/** What the attacker can see, with the times that differ between any two runs taken out. */
async function observe(c: OracleCase, variant: 'A' | 'B'): Promise<Observed> {
  const api = new MemoryApi();
  const logs: string[] = [];
  const log = createLogger({ level: 'info', format: 'json', write: (l) => logs.push(l) });
  const metrics = createMetrics('oracle');
  const events: string[] = [];
  const macKey = createHmac('sha256', 'k').digest();
  const ss = sealCase(c, variant, 'probe', 'target', key.publicKey);
  api.put('sealedsecrets', { ...ss, metadata: { ...ss.metadata, uid: 'uid-1', generation: 1 } } as never);
  const { controller } = assembleController({
    api,
    pool,
    log,
    metrics,
    macKey: () => macKey,
    events: { emit: (_ss, type, reason, message) => events.push(`${type} ${reason} ${message}`) },
    now: () => new Date('2026-12-01T00:00:00Z'),
  });
  controller.startInformers();
  await controller.startWorkers();
  await controller.idle();
  controller.stop();

  const server = createMainServer({
    certificatePem: () => 'cert',
    ready: () => ({ ok: true, detail: 'ok' }),
    verify: (s) => pool.verify(s),
    rotate: (s) => pool.reencrypt(s),
    metrics,
    log,
    rateLimit: 0,
    rateLimitBurst: 0,
    readTimeoutMs: 5000,
    writeTimeoutMs: 5000,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let verify: Observed['verify'];
  try {
    const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ss) });
    verify = { status: r.status, body: await r.text() };
  } finally {
    server.close();
  }
  const live = api.get('sealedsecrets', 'probe/target') as unknown as SealedSecret;
  const scrape = await metrics.registry.metrics();
  return {
    status: live.status,
    events,
    // The project's own series, minus durations (timing is noise here) and process gauges.
    metrics: scrape.split('\n').filter((l) => l.startsWith('sealed_secrets_controller_') && !/duration_seconds/.test(l)),
    logs: logs.map((l) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      delete o['time'];
      delete o['ts'];
      return JSON.stringify(o);
    }),
    verify,
    secretAnnotation: (api.get('secrets', 'probe/target') as unknown as Secret | undefined)?.metadata.annotations?.[ANNOTATION_UNSEAL_ERROR],
  };
}


describe('no plaintext oracle through the controller', () => {
  it.each(ORACLE_CASES.map((c) => [c.name, c] as const))('%s: status, Events, metrics, logs and /v1/verify are the same for both plaintexts', async (_n, c) => {
    const a = await observe(c, 'A');
    const b = await observe(c, 'B');
    // The case is value-dependent: the Secret's readers are told about A and not B.
    expect(a.secretAnnotation, 'the Secret of A records why it could not be made').toBeDefined();
    expect(b.secretAnnotation).toBeUndefined();
    // Nothing else differs.
    expect(a.status).toEqual(b.status);
    expect(a.events).toEqual(b.events);
    expect(a.metrics).toEqual(b.metrics);
    expect(a.logs).toEqual(b.logs);
    expect(a.verify).toEqual(b.verify);
    // And what they see is what success looks like.
    expect(a.verify.status).toBe(200);
    // Every condition is success's: Synced and Ready True, no Stalled or Reconciling (kstatus: Current).
    expect((a.status as SealedSecret['status'])?.conditions?.map((x) => `${x.type}=${x.status} ${x.reason ?? ''}`)).toEqual(['Synced=True Unsealed', 'Ready=True Unsealed']);
    expect(a.events).toEqual(['Normal Unsealed SealedSecret unsealed successfully']);
  });
});
