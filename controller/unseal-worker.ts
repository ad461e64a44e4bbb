/**
 * The unseal worker (a piscina worker thread). It holds the private keys as
 * KeyObjects, received once through workerData; the main thread never runs an
 * RSA private operation. Results and errors cross back as plain data; errors
 * as {code, message, hint}, never with a stack or the data being processed.
 */
import { workerData } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import {
  KeyRing,
  reencryptSealedSecret,
  toErrorJSON,
  unsealSealedSecret,
  verifySealedSecret,
  warmTemplateEngine,
  type ErrorJSON,
  type SealedSecret,
  type Secret,
} from '../src/index.js';

// The template engine's JIT warm-up happens here, not in the first SealedSecret's unseal (whose time would then stand out).
warmTemplateEngine();

export interface PoolKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  orderingTime: number;
}

export interface WorkerInit {
  keys: PoolKey[];
  acceptDeprecatedV1Data: boolean;
}

/** One SealedSecret to unseal, with the fingerprints of the keys that opened it before. */
export interface UnsealItem {
  sealedSecret: SealedSecret;
  hints: string[];
}

export type UnsealItemResult =
  /** valueError: the values cannot make the Secret; `secret` is the placeholder (see unsealSealedSecret). */
  | { ok: true; secret: Secret; openedBy: [string, string][]; rsaOperations: number; valueError?: ErrorJSON; decryptMs?: number }
  | { ok: false; error: ErrorJSON };

/** Unseals go in batches (one message per batch, not per SealedSecret); each item succeeds or fails alone. */
export type WorkerTask =
  | { kind: 'unseal'; items: UnsealItem[] }
  | { kind: 'reencrypt'; sealedSecret: SealedSecret; toFingerprint?: string }
  /** Do all items open? Decrypts only: renders no template (/v1/verify). */
  | { kind: 'verify'; sealedSecret: SealedSecret };

export type WorkerResult =
  | { ok: true; results: UnsealItemResult[] }
  | { ok: true; sealedSecret: SealedSecret; rsaOperations: number }
  | { ok: true; verified: true; rsaOperations: number }
  | { ok: false; error: ErrorJSON };

const init = workerData as WorkerInit;
const ring = new KeyRing();
for (const k of init.keys) ring.add(k.privateKey, k.publicKey, { orderingTime: k.orderingTime });

function unsealOne(item: UnsealItem): UnsealItemResult {
  try {
    const r = unsealSealedSecret(item.sealedSecret, ring, { acceptDeprecatedV1Data: init.acceptDeprecatedV1Data, extraHints: item.hints, clock: () => performance.now() });
    const out: UnsealItemResult = { ok: true, secret: r.secret, openedBy: [...r.openedBy], rsaOperations: r.rsaOperations, decryptMs: r.decryptMs };
    if (r.valueError) out.valueError = toErrorJSON(r.valueError);
    return out;
  } catch (e) {
    return { ok: false, error: toErrorJSON(e) };
  }
}

export default function run(task: WorkerTask): WorkerResult {
  try {
    if (task.kind === 'reencrypt') {
      const r = reencryptSealedSecret(task.sealedSecret, ring, { acceptDeprecatedV1Data: init.acceptDeprecatedV1Data, toFingerprint: task.toFingerprint });
      return { ok: true, sealedSecret: r.sealedSecret, rsaOperations: r.rsaOperations };
    }
    if (task.kind === 'verify') {
      const r = verifySealedSecret(task.sealedSecret, ring, { acceptDeprecatedV1Data: init.acceptDeprecatedV1Data });
      return { ok: true, verified: true, rsaOperations: r.rsaOperations };
    }
    return { ok: true, results: task.items.map(unsealOne) };
  } catch (e) {
    return { ok: false, error: toErrorJSON(e) };
  }
}
