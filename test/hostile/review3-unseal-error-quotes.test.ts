/**
 * Regression test from the third adversarial review (it failed while the hole was open): the unseal-error annotation quotes
 * characters of the plaintext. SECURITY.md lets annotation readers (Argo CD's UI) see *that*
 * a value error happened ("the Secret's shape"), but printf's "verb %h is not supported"
 * message takes the verb from the format, and the format can be a value:
 *
 *   x: {{ printf (print "%" (trimPrefix "hun" .password)) "a" }}
 *
 * puts the value's 4th character in `sealed-secrets-ts.io/unseal-error`
 * ("printf: verb %t is not supported ..."): a whole password in one reconcile per character,
 * read by anyone who sees Secret metadata (unless the character is one of s v d q x X %,
 * which the absence of the annotation also tells). The API server's own messages, which
 * reconciler.ts also copies there ("the API server refused the Secret: ..." - "invalid
 * character 'p' ..."), are the same kind of leak.
 *
 * Fix: the annotation (and every ERR_VALUE detail) must be fixed text per check, never derived
 * from the value: "printf: unsupported verb", and for an API server refusal only its status/reason.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { ANNOTATION_UNSEAL_ERROR } from '../../controller/reconciler.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { sealSecret, type Secret } from '../../src/index.js';
import { usePool, vectorKey } from './pool-fixture.js';

const key = vectorKey;
let pool: UnsealPool;
usePool(1, (p) => (pool = p));

async function annotationFor(password: string, template: string): Promise<string | undefined> {
  const api = new MemoryApi();
  const ss = sealSecret({ metadata: { name: 'db', namespace: 'team' }, stringData: { password } }, { publicKey: key.publicKey });
  ss.spec.template = { ...ss.spec.template, data: { x: template } };
  api.put('sealedsecrets', { ...ss, metadata: { ...ss.metadata, uid: 'u1', generation: 1 } } as never);
  const { controller } = assembleController({
    api,
    pool,
    log: createLogger({ level: 'error', format: 'json', write: () => {} }),
    metrics: createMetrics('review3err'),
    macKey: () => createHmac('sha256', 'k').digest(),
    events: { emit: () => {} },
  });
  controller.startInformers();
  await controller.startWorkers();
  await controller.idle();
  controller.stop();
  return (api.get('secrets', 'team/db') as unknown as Secret | undefined)?.metadata.annotations?.[ANNOTATION_UNSEAL_ERROR];
}

describe('review3: the unseal-error annotation never quotes a value', () => {
  it('printf with a value-made format: the same annotation whatever the character', async () => {
    // With Go's whole fmt, a bad verb prints %!t(string=a) into the value instead of failing; fail's
    // own text, made from the value, is the same leak in today's language (Go: "error calling fail: ter2").
    const probe = '{{ fail (trimPrefix "hun" .password) }}';
    const a = await annotationFor('hunter2', probe); // 4th char 't'
    const b = await annotationFor('hunber2', probe); // 4th char 'b'
    expect(a, 'both are value errors').toBeDefined();
    expect(b).toBeDefined();
    console.log(`annotation A: ${a}\nannotation B: ${b}`);
    expect(a).not.toMatch(/%t\b/);
    expect(a).toEqual(b);
  }, 60_000);
});
