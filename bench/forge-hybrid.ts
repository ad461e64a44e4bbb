/**
 * The same wire format done in node-forge (pure JavaScript): the slow baseline
 * that made RSA-4096 syncs slow. Used only by the benchmarks, to compare.
 */
import forge from 'node-forge';

export interface ForgeKeys {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

export function forgeKeys(privatePem: string): ForgeKeys {
  const privateKey = forge.pki.privateKeyFromPem(privatePem);
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e) };
}

const oaep = (label: Uint8Array) => ({
  md: forge.md.sha256.create(),
  mgf1: { md: forge.md.sha256.create() },
  label: Buffer.from(label).toString('binary'),
});

export function forgeEncrypt(keys: ForgeKeys, plaintext: Uint8Array, label: Uint8Array): Buffer {
  const sessionKey = forge.random.getBytesSync(32);
  const rsaCt = keys.publicKey.encrypt(sessionKey, 'RSA-OAEP', oaep(label));
  const cipher = forge.cipher.createCipher('AES-GCM', sessionKey);
  cipher.start({ iv: '\0'.repeat(12), tagLength: 128 });
  cipher.update(forge.util.createBuffer(Buffer.from(plaintext).toString('binary')));
  cipher.finish();
  const len = Buffer.alloc(2);
  len.writeUInt16BE(rsaCt.length, 0);
  return Buffer.concat([len, Buffer.from(rsaCt, 'binary'), Buffer.from(cipher.output.getBytes(), 'binary'), Buffer.from(cipher.mode.tag.getBytes(), 'binary')]);
}

export function forgeDecrypt(keys: ForgeKeys, blob: Buffer, label: Uint8Array): Buffer {
  const n = blob.readUInt16BE(0);
  const sessionKey = keys.privateKey.decrypt(blob.subarray(2, 2 + n).toString('binary'), 'RSA-OAEP', oaep(label));
  const body = blob.subarray(2 + n);
  const decipher = forge.cipher.createDecipher('AES-GCM', sessionKey);
  decipher.start({ iv: '\0'.repeat(12), tagLength: 128, tag: forge.util.createBuffer(body.subarray(body.length - 16).toString('binary')) });
  decipher.update(forge.util.createBuffer(body.subarray(0, body.length - 16).toString('binary')));
  if (!decipher.finish()) throw new Error('authentication failed');
  return Buffer.from(decipher.output.getBytes(), 'binary');
}
