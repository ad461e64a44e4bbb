/**
 * Which key opens which SealedSecret, found by trial decryption with the held keys
 * (exact, whatever annotations say). The basis of `sealed-secrets-keys list` and of
 * the refusal to retire a key that something still needs.
 */
import { KeyRing, isSealedSecretsError, objectRef, planUnseal, type SealedSecret } from '../src/index.js';
import type { StoredKey } from './keystore/key-store.js';

export interface KeyUsage {
  /** fingerprint -> SealedSecrets (ns/name) with at least one item only that key opens. */
  byKey: Map<string, string[]>;
  /** SealedSecrets that no held key opens completely (sealed for another controller, or broken). */
  unopenable: string[];
  rsaOperations: number;
}

export function keyUsage(keys: readonly StoredKey[], sealedSecrets: readonly SealedSecret[]): KeyUsage {
  const ring = new KeyRing();
  for (const k of keys) ring.add(k.privateKey, k.publicKey, { orderingTime: k.notBefore });
  const byKey = new Map<string, string[]>(keys.map((k) => [k.fingerprint, []]));
  const unopenable: string[] = [];
  let rsaOperations = 0;
  for (const ss of sealedSecrets) {
    const ref = objectRef(ss.metadata);
    let plan;
    try {
      plan = planUnseal(ss);
    } catch (e) {
      if (isSealedSecretsError(e)) {
        unopenable.push(ref);
        continue;
      }
      throw e;
    }
    const used = new Set<string>();
    let ok = true;
    let hints = plan.hints;
    for (const blob of [...plan.items.map((i) => i.blob), ...(plan.v1Blob ? [plan.v1Blob] : [])]) {
      const r = ring.openCounted(blob, plan.label, hints);
      rsaOperations += r.rsaOperations;
      if (!r.plaintext) {
        ok = false;
        continue;
      }
      r.plaintext.fill(0);
      used.add(r.fingerprint);
      hints = [r.fingerprint, ...hints];
    }
    if (!ok) unopenable.push(ref);
    for (const fp of used) byKey.get(fp)?.push(ref);
  }
  return { byKey, unopenable, rsaOperations };
}
