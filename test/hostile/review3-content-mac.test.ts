/**
 * Regression test from the third adversarial review (it failed while the hole was open): the content-MAC annotation
 * (sealed-secrets-ts.io/content-mac) is an oracle for anyone who sees Secret annotations but
 * not data (SECURITY.md: "Argo CD's UI shows them, not the data") and can create SealedSecrets.
 *
 * contentMac() is HMAC(macKey, canonical({type, data, labels, annotations})): one cluster-wide
 * key, and nothing about *which* Secret, or which SealedSecret version, it is. So two Secrets
 * with the same content carry the same MAC, wherever they are:
 *
 * 1. Guess testing without templates: the attacker seals a guess ("hunter2") under the target's
 *    item name in a namespace of their own and compares the MAC on their Secret with the MAC on
 *    the target's Secret. Equal MAC <=> right guess. One SealedSecret update per guess, no key
 *    needed: exactly what the MAC was meant to stop ("a plain hash of the content would let
 *    anyone who sees annotations test guesses"). It also tells, with no guessing at all, which
 *    Secrets in the cluster share a password.
 * 2. With templates it is the review-1 prefix oracle again, read from annotations instead of
 *    status: the target's template is `x: {{ .password | trimPrefix "h" | len }}` (password: null),
 *    and a second SealedSecret of the attacker's holds literal templates `x: "6"` / `x: "7"`.
 *    Whichever MAC matches tells whether the guessed prefix was right; no ERR_VALUE, no status
 *    difference, just the annotation.
 *
 * Fix: bind the MAC to the Secret's identity and to what it was built from, e.g.
 * HMAC(macKey, namespace/name/uid || source-hash || canonical(content)). Since a given
 * SealedSecret version always builds the same content, the MAC then says nothing the spec does
 * not already say.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryApi } from '../../bench/memory-api.js';
import { assembleController } from '../../controller/assemble.js';
import { createLogger } from '../../controller/log.js';
import { createMetrics } from '../../controller/metrics.js';
import { ANNOTATION_CONTENT_MAC } from '../../controller/reconciler.js';
import { UnsealPool } from '../../controller/unseal-pool.js';
import { sealSecret, type SealedSecret, type Secret } from '../../src/index.js';
import { usePool, vectorKey } from './pool-fixture.js';

const key = vectorKey;
let pool: UnsealPool;
usePool(1, (p) => (pool = p));

function sealed(ns: string, name: string, stringData: Record<string, string>, template?: SealedSecret['spec']['template']): SealedSecret {
  const ss = sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData }, { publicKey: key.publicKey }, { allowEmptyData: true });
  if (template) ss.spec.template = { ...ss.spec.template, ...template };
  return ss;
}

/** Runs the real controller over the objects and returns each Secret's content-MAC annotation. */
async function macs(objects: SealedSecret[]): Promise<Map<string, string | undefined>> {
  const api = new MemoryApi();
  const log = createLogger({ level: 'error', format: 'json', write: () => {} });
  const macKey = createHmac('sha256', 'cluster-mac-key').digest();
  let uid = 0;
  for (const ss of objects) api.put('sealedsecrets', { ...ss, metadata: { ...ss.metadata, uid: `uid-${++uid}`, generation: 1 } } as never);
  const { controller } = assembleController({ api, pool, log, metrics: createMetrics('review3mac'), macKey: () => macKey, events: { emit: () => {} } });
  controller.startInformers();
  await controller.startWorkers();
  await controller.idle();
  controller.stop();
  const out = new Map<string, string | undefined>();
  for (const ss of objects) {
    const k = `${ss.metadata.namespace}/${ss.metadata.name}`;
    out.set(k, (api.get('secrets', k) as unknown as Secret | undefined)?.metadata.annotations?.[ANNOTATION_CONTENT_MAC]);
  }
  return out;
}

describe('review3: the content MAC is no oracle for annotation readers', () => {
  it('a right guess sealed by the attacker in another namespace does not reproduce the target Secret\'s MAC', async () => {
    const m = await macs([
      sealed('prod', 'db', { password: 'hunter2' }), // the target: the attacker cannot read it
      sealed('attacker', 'guess-right', { password: 'hunter2' }),
      sealed('attacker', 'guess-wrong', { password: 'qwerty1' }),
    ]);
    const target = m.get('prod/db');
    expect(target).toBeDefined();
    // While open: the right guess gives exactly the target's MAC, the wrong one does not.
    expect(m.get('attacker/guess-right'), 'equal content must not mean equal MAC across Secrets').not.toBe(target);
  }, 60_000);

  it('a template over the value and a literal template do not give the same MAC when their outputs agree', async () => {
    const probe = (name: string, guess: string) =>
      sealed('team', name, { password: 'hunter2' }, { data: { password: null as unknown as string, x: `{{ .password | trimPrefix "${guess}" | len }}` } });
    const literal = (name: string, n: number) => sealed('team', name, {}, { data: { x: String(n) } });
    const m = await macs([probe('probe-h', 'h'), probe('probe-q', 'q'), literal('len6', 6), literal('len7', 7)]);
    // While open: probe-h's MAC equals len6's (the prefix "h" was right), probe-q's equals len7's.
    const dictionary = new Set([m.get('team/len6'), m.get('team/len7')]);
    expect(dictionary.has(m.get('team/probe-h')), 'the MAC of a value-dependent output must not match a literal output').toBe(false);
    expect(dictionary.has(m.get('team/probe-q'))).toBe(false);
  }, 60_000);
});
