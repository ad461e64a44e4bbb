/**
 * The slow baseline users know: an unseal worker that decrypts with node-forge
 * (pure JavaScript RSA), speaking the same protocol as controller/unseal-worker.ts,
 * so the bulk-sync benchmark can run the same sync with it.
 */
import { workerData } from 'node:worker_threads';
import { buildSecret, decryptError, planUnseal, privateKeyToPem, publicKeyFingerprint, toErrorJSON } from '../src/index.js';
import type { UnsealItem, UnsealItemResult, WorkerInit, WorkerResult, WorkerTask } from '../controller/unseal-worker.js';
import { forgeDecrypt, forgeKeys, type ForgeKeys } from './forge-hybrid.js';

const init = workerData as WorkerInit;
const keys: { fingerprint: string; forge: ForgeKeys; bytes: number }[] = init.keys
  .map((k) => ({ fingerprint: publicKeyFingerprint(k.publicKey), forge: forgeKeys(privateKeyToPem(k.privateKey)), bytes: (k.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8, t: k.orderingTime }))
  .sort((a, b) => b.t - a.t);

function unsealOne(item: UnsealItem): UnsealItemResult {
  try {
    const plan = planUnseal(item.sealedSecret);
    const plaintexts = new Map<string, Buffer>();
    const openedBy: [string, string][] = [];
    let rsaOperations = 0;
    const order = [...item.hints, ...plan.hints];
    const ranked = [...keys].sort((a, b) => (order.indexOf(a.fingerprint) + 1 || 1e9) - (order.indexOf(b.fingerprint) + 1 || 1e9));
    const failed: string[] = [];
    for (const { key, blob } of plan.items) {
      let opened = false;
      for (const k of ranked) {
        if (blob.readUInt16BE(0) !== k.bytes) continue;
        rsaOperations++;
        try {
          plaintexts.set(key, forgeDecrypt(k.forge, blob, plan.label));
          openedBy.push([key, k.fingerprint]);
          opened = true;
          break;
        } catch {
          // the next key
        }
      }
      if (!opened) failed.push(key);
    }
    if (failed.length) throw decryptError(failed);
    return { ok: true, secret: buildSecret(item.sealedSecret, plaintexts), openedBy, rsaOperations };
  } catch (e) {
    return { ok: false, error: toErrorJSON(e) };
  }
}

export default function run(task: WorkerTask): WorkerResult {
  if (task.kind !== 'unseal') return { ok: false, error: toErrorJSON(new Error('the forge baseline only unseals')) };
  return { ok: true, results: task.items.map(unsealOne) };
}
