/**
 * The Bitnami sealed-secrets wire format, on node:crypto (OpenSSL).
 * Source: upstream pkg/crypto/crypto.go, HybridEncrypt / HybridDecrypt.
 *
 *   blob     = uint16_be(len(rsaCt)) || rsaCt || aesCt || tag
 *   rsaCt    = RSA-OAEP(hash SHA-256, MGF1 SHA-256, label)(sessionKey)      RFC 8017 §7.1
 *              exactly k bytes, k = modulus size (256 / 384 / 512)
 *   aesCt    = AES-256-GCM(key = sessionKey, nonce = 12 zero bytes, no AAD)(plaintext)
 *   tag      = the 16-byte GCM tag
 *
 * Why the constants are what they are:
 * - The session key is 32 fresh random bytes per value and is never reused, so a
 *   fixed (zero) GCM nonce never repeats under one key: (key, nonce) pairs stay unique.
 * - The label binds the value to its scope (`ns/name`, `ns` or empty) through OAEP
 *   only; GCM has no AAD. A wrong label fails in the RSA step.
 * - There is no version byte and no key id in the blob (upstream compatibility), so
 *   a holder of several keys must try them; see keyring.ts for hints.
 *
 * Every failure to open (wrong key, wrong label, tampering, truncation, trailing
 * bytes) is the same `undefined`: callers report one uniform error and no oracle
 * tells which step failed.
 *
 * No I/O, no logging, no clock. Session keys are zeroed after use (best effort:
 * OpenSSL and V8 may hold copies we cannot reach).
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

const SESSION_KEY_BYTES = 32;
const GCM_TAG_BYTES = 16;
const ZERO_NONCE = Buffer.alloc(12);
const LENGTH_PREFIX_BYTES = 2;

/** Seals `plaintext` for the holder of `publicKey`'s private key, bound to `label`. */
export function hybridEncrypt(publicKey: KeyObject, plaintext: Uint8Array, label: Uint8Array): Buffer {
  const sessionKey = randomBytes(SESSION_KEY_BYTES);
  try {
    const rsaCt = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label },
      sessionKey,
    );
    const cipher = createCipheriv('aes-256-gcm', sessionKey, ZERO_NONCE);
    const body = cipher.update(plaintext);
    const last = cipher.final();
    const tag = cipher.getAuthTag();
    const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + rsaCt.length + body.length + last.length + tag.length);
    out.writeUInt16BE(rsaCt.length, 0);
    let at = LENGTH_PREFIX_BYTES;
    at += rsaCt.copy(out, at);
    at += body.copy(out, at);
    at += last.copy(out, at);
    tag.copy(out, at);
    return out;
  } finally {
    sessionKey.fill(0);
  }
}

/**
 * Opens a blob with one private key; `undefined` when it does not open, whatever the reason.
 *
 * `modulusBytes` is the key's k. A blob whose RSA block is not exactly k bytes is not
 * tried: HybridEncrypt always writes k bytes, so such a blob was sealed for a key of
 * another size, and skipping it saves a full RSA private operation.
 */
export function openWithKey(
  privateKey: KeyObject,
  modulusBytes: number,
  blob: Uint8Array,
  label: Uint8Array,
): Buffer | undefined {
  if (blob.length < LENGTH_PREFIX_BYTES) return undefined;
  const rsaLen = (blob[0]! << 8) | blob[1]!;
  if (rsaLen !== modulusBytes) return undefined;
  const bodyStart = LENGTH_PREFIX_BYTES + rsaLen;
  if (blob.length < bodyStart + GCM_TAG_BYTES) return undefined;

  let sessionKey: Buffer;
  try {
    sessionKey = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label },
      blob.subarray(LENGTH_PREFIX_BYTES, bodyStart),
    );
  } catch {
    return undefined;
  }
  try {
    if (sessionKey.length !== SESSION_KEY_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', sessionKey, ZERO_NONCE, { authTagLength: GCM_TAG_BYTES });
    decipher.setAuthTag(blob.subarray(blob.length - GCM_TAG_BYTES));
    const body = decipher.update(blob.subarray(bodyStart, blob.length - GCM_TAG_BYTES));
    const last = decipher.final();
    return last.length === 0 ? body : Buffer.concat([body, last]);
  } catch {
    return undefined;
  } finally {
    sessionKey.fill(0);
  }
}
