/**
 * Sprig's hash and symmetric crypto functions: sha1sum, sha256sum, adler32sum, bcrypt,
 * htpasswd, derivePassword (the Master Password algorithm over scrypt), encryptAES,
 * decryptAES. Key generation and certificates are in x509.ts.
 *
 * The expensive ones (bcrypt, scrypt) declare their cost before running: see heavy().
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, scryptSync } from 'node:crypto';
import bcryptjs from 'bcryptjs';
import { type FuncContext, FuncError, type GoString, fromBytes, goBytes, toUtf8 } from '../values.js';

/**
 * Known-expensive work, declared before it runs: charged to the budget's allowance for such
 * work (TemplateBudget.heavy, which also moves the wall-clock deadline by as much) and to its
 * steps. The declared costs are worst cases measured on a loaded 2-core machine; if the work
 * takes longer still, the clock stops the templates at the next charge (an ERR_VALUE).
 */
export function heavy(ctx: FuncContext, ms: number, what: string): void {
  // The allowance (TEMPLATE_LIMITS.heavyMs, 2000 ms per SealedSecret) caps how many run; a
  // step per 4 declared ms also counts them against the templates' steps, so no template
  // can pair the most expensive functions with the longest loops.
  ctx.budget.step(Math.ceil(ms / 4));
  ctx.budget.heavy(ms, what);
}

/** Declared costs in milliseconds (worst cases measured on a loaded 2-core machine). */
export const HEAVY_MS = {
  bcrypt: 300,
  scrypt: 500,
  rsa2048: 900,
  rsa4096: 2000,
  ecdsa: 5,
  ed25519: 5,
  sign: 10,
} as const;

export function hashHex(ctx: FuncContext, algo: 'sha1' | 'sha256', input: GoString): GoString {
  ctx.budget.scan(input.length);
  ctx.budget.produce(algo === 'sha1' ? 40 : 64);
  return createHash(algo).update(goBytes(input)).digest('hex');
}

/** hash/adler32's Checksum, printed with %d. */
export function adler32sum(ctx: FuncContext, input: GoString): GoString {
  ctx.budget.scan(input.length);
  ctx.budget.produce(10);
  let a = 1;
  let b = 0;
  // Reduce every 5552 bytes, as zlib does, so the sums stay exact.
  for (let i = 0; i < input.length; ) {
    const end = Math.min(input.length, i + 5552);
    for (; i < end; i++) {
      a += input.charCodeAt(i);
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return String(((b << 16) | a) >>> 0);
}

// bcrypt's own base64 alphabet (x/crypto/bcrypt/base64.go), unpadded.
const BCRYPT_B64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function bcryptBase64(b: Buffer): string {
  let out = '';
  for (let i = 0; i < b.length; i += 3) {
    const c1 = b[i]!;
    const c2 = b[i + 1];
    const c3 = b[i + 2];
    out += BCRYPT_B64[c1 >> 2]! + BCRYPT_B64[((c1 & 3) << 4) | ((c2 ?? 0) >> 4)]!;
    if (c2 !== undefined) out += BCRYPT_B64[((c2 & 15) << 2) | ((c3 ?? 0) >> 6)]!;
    if (c3 !== undefined) out += BCRYPT_B64[c3 & 63]!;
  }
  return out;
}

/** bcrypt.GenerateFromPassword(input, DefaultCost = 10): "$2a$10$" + salt + hash. */
export function bcrypt(ctx: FuncContext, input: GoString): GoString {
  ctx.budget.scan(Math.min(input.length, 72));
  ctx.budget.produce(60);
  heavy(ctx, HEAVY_MS.bcrypt, 'bcrypt');
  const salt = '$2a$10$' + bcryptBase64(ctx.randomBytes(16)).slice(0, 22);
  // bcrypt reads at most 72 bytes of the password (x/crypto cycles the key through the
  // 72 bytes of Blowfish's P-array; bcryptjs truncates the same way).
  return bcryptjs.hashSync(toUtf8(input.slice(0, 72)), salt);
}

export function htpasswd(ctx: FuncContext, username: GoString, password: GoString): GoString {
  ctx.budget.scan(username.length);
  if (username.includes(':')) {
    ctx.budget.produce(18 + username.length);
    return 'invalid username: ' + username;
  }
  ctx.budget.produce(username.length + 1);
  return username + ':' + bcrypt(ctx, password);
}

const MASTER_PASSWORD_SEED = 'com.lyndir.masterpassword';

const PASSWORD_TEMPLATES: Readonly<Record<string, readonly string[]>> = {
  maximum: ['anoxxxxxxxxxxxxxxxxx', 'axxxxxxxxxxxxxxxxxno'],
  long: [
    'CvcvnoCvcvCvcv', 'CvcvCvcvnoCvcv', 'CvcvCvcvCvcvno', 'CvccnoCvcvCvcv', 'CvccCvcvnoCvcv',
    'CvccCvcvCvcvno', 'CvcvnoCvccCvcv', 'CvcvCvccnoCvcv', 'CvcvCvccCvcvno', 'CvcvnoCvcvCvcc',
    'CvcvCvcvnoCvcc', 'CvcvCvcvCvccno', 'CvccnoCvccCvcv', 'CvccCvccnoCvcv', 'CvccCvccCvcvno',
    'CvcvnoCvccCvcc', 'CvcvCvccnoCvcc', 'CvcvCvccCvccno', 'CvccnoCvcvCvcc', 'CvccCvcvnoCvcc',
    'CvccCvcvCvccno',
  ],
  medium: ['CvcnoCvc', 'CvcCvcno'],
  short: ['Cvcn'],
  basic: ['aaanaaan', 'aannaaan', 'aaannaaa'],
  pin: ['nnnn'],
};

const TEMPLATE_CHARACTERS: Readonly<Record<string, string>> = {
  V: 'AEIOU',
  C: 'BCDFGHJKLMNPQRSTVWXYZ',
  v: 'aeiou',
  c: 'bcdfghjklmnpqrstvwxyz',
  A: 'AEIOUBCDFGHJKLMNPQRSTVWXYZ',
  a: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz',
  n: '0123456789',
  o: "@&%?,=[]_:-+*$#!'^~;()/.",
  x: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()',
};

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Sprig's derivePassword: Master Password (scrypt N=32768 r=8 p=2, HMAC-SHA256 seed, templates). */
export function derivePassword(ctx: FuncContext, counter: bigint, passwordType: GoString, password: GoString, user: GoString, site: GoString): GoString {
  const templates = Object.hasOwn(PASSWORD_TEMPLATES, passwordType) ? PASSWORD_TEMPLATES[passwordType] : undefined;
  if (!templates) {
    ctx.budget.produce(31 + passwordType.length);
    return 'cannot find password template ' + passwordType;
  }
  ctx.budget.scan(password.length + user.length + site.length);
  ctx.budget.produce(20);
  heavy(ctx, HEAVY_MS.scrypt, 'derivePassword');
  const seed = Buffer.from(MASTER_PASSWORD_SEED, 'latin1');
  const salt = Buffer.concat([seed, u32be(user.length), goBytes(user)]);
  const key = scryptSync(goBytes(password), salt, 64, { N: 32768, r: 8, p: 2, maxmem: 96 * 1024 * 1024 });
  const msg = Buffer.concat([seed, u32be(site.length), goBytes(site), u32be(Number(BigInt.asUintN(32, counter)))]);
  const mac = createHmac('sha256', key).update(msg).digest();
  const temp = templates[mac[0]! % templates.length]!;
  let out = '';
  for (let i = 0; i < temp.length; i++) {
    const chars = TEMPLATE_CHARACTERS[temp[i]!]!;
    out += chars[mac[i + 1]! % chars.length];
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c.charCodeAt(0), i]));

/** encoding/base64 StdEncoding.DecodeString: strict padding, \r and \n skipped, Go's error text. */
export function goBase64Decode(s: GoString): Buffer {
  const out: number[] = [];
  const quad: number[] = [];
  let i = 0;
  const bad = (at: number) => new FuncError(`illegal base64 data at input byte ${at}`);
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) {
      i++;
      continue;
    }
    if (c === 0x3d) {
      // Padding: only in the last quantum, after 2 or 3 symbols, then nothing but newlines.
      const have = quad.length;
      if (have < 2) throw bad(i);
      let j = i + 1;
      const skipNl = () => {
        while (j < s.length && (s.charCodeAt(j) === 0x0a || s.charCodeAt(j) === 0x0d)) j++;
      };
      if (have === 2) {
        skipNl();
        if (j >= s.length) throw bad(s.length);
        if (s.charCodeAt(j) !== 0x3d) throw bad(j - 1 >= i ? i : j);
        j++;
      }
      skipNl();
      if (j < s.length) throw bad(j);
      const v = (quad[0]! << 18) | (quad[1]! << 12) | ((quad[2] ?? 0) << 6);
      out.push((v >> 16) & 0xff);
      if (have === 3) out.push((v >> 8) & 0xff);
      return Buffer.from(out);
    }
    const v = B64_INDEX.get(c);
    if (v === undefined) throw bad(i);
    quad.push(v);
    if (quad.length === 4) {
      const w = (quad[0]! << 18) | (quad[1]! << 12) | (quad[2]! << 6) | quad[3]!;
      out.push((w >> 16) & 0xff, (w >> 8) & 0xff, w & 0xff);
      quad.length = 0;
    }
    i++;
  }
  if (quad.length !== 0) throw bad(s.length);
  return Buffer.from(out);
}

function aesKey(password: GoString): Buffer {
  const key = Buffer.alloc(32);
  goBytes(password.slice(0, 32)).copy(key);
  return key;
}

/** encryptAES: AES-256-CBC, key = password zero-padded/truncated to 32 bytes, PKCS#7, IV first, base64. */
export function encryptAES(ctx: FuncContext, password: GoString, plaintext: GoString): GoString {
  if (plaintext === '') return '';
  ctx.budget.scan(plaintext.length);
  const padded = plaintext.length + 16 - (plaintext.length % 16);
  ctx.budget.produce(Math.ceil((16 + padded) / 3) * 4);
  const iv = ctx.randomBytes(16);
  const c = createCipheriv('aes-256-cbc', aesKey(password), iv);
  return Buffer.concat([iv, c.update(goBytes(plaintext)), c.final()]).toString('base64');
}

/** decryptAES, with the panics of Sprig's code (short or partial input) as Go reports them. */
export function decryptAES(ctx: FuncContext, password: GoString, crypt64: GoString): GoString {
  if (crypt64 === '') return '';
  ctx.budget.scan(crypt64.length);
  ctx.budget.reserve(crypt64.length);
  const crypt = goBase64Decode(crypt64);
  if (crypt.length < 16) throw new FuncError(`runtime error: slice bounds out of range [:16] with capacity ${crypt.length}`);
  const body = crypt.subarray(16);
  if (body.length % 16 !== 0) throw new FuncError('crypto/cipher: input not full blocks');
  if (body.length === 0) throw new FuncError('runtime error: index out of range [-1]');
  const d = createDecipheriv('aes-256-cbc', aesKey(password), crypt.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(body), d.final()]);
  const pad = plain[plain.length - 1]!;
  if (pad > plain.length) throw new FuncError(`runtime error: slice bounds out of range [:${plain.length - pad}]`);
  const out = fromBytes(plain.subarray(0, plain.length - pad));
  ctx.budget.produce(out.length);
  return out;
}
