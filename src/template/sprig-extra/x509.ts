/**
 * Sprig's key and certificate functions: genPrivateKey, buildCustomCert, genCA(WithKey),
 * genSelfSignedCert(WithKey), genSignedCert(WithKey).
 *
 * Keys are made and used by node:crypto. Certificates are assembled here in DER exactly as
 * Go 1.19's x509.CreateCertificate writes Sprig's template (version 3, 128-bit random serial,
 * CN-only subject, KeyUsage, ExtKeyUsage serverAuth+clientAuth, BasicConstraints,
 * SubjectKeyId for CAs, AuthorityKeyId from the signer, SANs), with a small DER encoder of our
 * own: node-forge builds RSA certificates only, and Sprig's keys may be ECDSA or Ed25519.
 * PEM blocks are written as Go's encoding/pem writes them (64-column base64, no headers).
 */
import { type KeyObject, X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { type FuncContext, FuncError, type GoString, type GoValue, GoObject, GoSlice, fromBytes, goBytes, toUtf8 } from '../values.js';
import { HEAVY_MS, goBase64Decode, heavy } from './crypto.js';
import { type GoTime, NS } from './time.js';

// ---------------------------------------------------------------------------------------
// DER

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));

function derInt(v: bigint): Buffer {
  // Minimal two's complement.
  if (v === 0n) return tlv(0x02, Buffer.from([0]));
  let hex = (v < 0n ? (1n << BigInt((Math.ceil((v.toString(2).length) / 8) + 1) * 8)) + v : v).toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (v > 0n && b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  while (b.length > 1 && ((b[0] === 0 && !(b[1]! & 0x80)) || (b[0] === 0xff && b[1]! & 0x80))) b = b.subarray(1);
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const enc: number[] = [];
    let v = p;
    enc.unshift(v & 0x7f);
    while ((v = Math.floor(v / 128)) > 0) enc.unshift(0x80 | (v & 0x7f));
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}

const bitString = (b: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const octets = (b: Buffer) => tlv(0x04, b);
const NULL = Buffer.from([0x05, 0x00]);

interface Der {
  tag: number;
  /** The whole element (tag, length, body). */
  full: Buffer;
  body: Buffer;
}

/** Reads one DER element at `at`; throws FuncError on malformed input. */
function readDer(b: Buffer, at = 0): Der & { end: number } {
  if (at + 2 > b.length) throw new FuncError('asn1: syntax error: data truncated');
  const tag = b[at]!;
  let n = b[at + 1]!;
  let p = at + 2;
  if (n & 0x80) {
    const k = n & 0x7f;
    if (k === 0 || k > 4 || p + k > b.length) throw new FuncError('asn1: syntax error: data truncated');
    n = 0;
    for (let i = 0; i < k; i++) n = n * 256 + b[p + i]!;
    p += k;
  }
  if (p + n > b.length) throw new FuncError('asn1: syntax error: data truncated');
  return { tag, full: b.subarray(at, p + n), body: b.subarray(p, p + n), end: p + n };
}

function children(d: Der): Der[] {
  const out: Der[] = [];
  for (let at = 0; at < d.body.length; ) {
    const c = readDer(d.body, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

function derToBigint(d: Der): bigint {
  if (d.tag !== 0x02 || d.body.length === 0) throw new FuncError('asn1: structure error: tags don\'t match');
  const v = BigInt('0x' + d.body.toString('hex'));
  return d.body[0]! & 0x80 ? v - (1n << BigInt(d.body.length * 8)) : v;
}

// ---------------------------------------------------------------------------------------
// PEM

export function pemEncode(type: string, der: Buffer): GoString {
  const b64 = der.toString('base64');
  let out = `-----BEGIN ${type}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${type}-----\n`;
}

/** encoding/pem.Decode's first block (headers skipped), or undefined. */
export function pemDecode(s: GoString): { type: string; der: Buffer } | undefined {
  let rest = s;
  for (;;) {
    const at = rest.startsWith('-----BEGIN ') ? 0 : rest.indexOf('\n-----BEGIN ');
    if (at < 0) return undefined;
    rest = rest.slice(at === 0 ? 0 : at + 1);
    const lineEnd = rest.indexOf('\n');
    const line = (lineEnd < 0 ? rest : rest.slice(0, lineEnd)).replace(/[ \t\r]+$/, '');
    if (!line.endsWith('-----') || line.length < 16) {
      rest = rest.slice(11);
      continue;
    }
    const type = line.slice(11, -5);
    const endMarker = `\n-----END ${type}-----`;
    const bodyStart = lineEnd < 0 ? rest.length : lineEnd + 1;
    let endAt = rest.indexOf(endMarker, bodyStart - 1);
    if (endAt < 0) {
      rest = rest.slice(11);
      continue;
    }
    let body = rest.slice(bodyStart, endAt + 1);
    // Headers ("Key: value" lines up to a blank line).
    if (/^[^\n]*:/.test(body)) {
      const blank = body.indexOf('\n\n');
      body = blank < 0 ? '' : body.slice(blank + 2);
    }
    const clean = body.replace(/[ \t\r\n]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) {
      rest = rest.slice(endAt + 1);
      endAt = -1;
      continue;
    }
    return { type, der: Buffer.from(clean, 'base64') };
  }
}

// ---------------------------------------------------------------------------------------
// Keys

interface DsaKey {
  kind: 'dsa';
  p: bigint;
  q: bigint;
  g: bigint;
  y: bigint;
  x: bigint;
}

type PrivKey = { kind: 'node'; key: KeyObject } | DsaKey;

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** pemBlockForKey: RSA as PKCS#1, ECDSA as SEC 1, DSA as Sprig's DSAKeyFormat, others PKCS#8. */
function pemForKey(k: PrivKey): GoString {
  if (k.kind === 'dsa') return pemEncode('DSA PRIVATE KEY', seq(derInt(0n), derInt(k.p), derInt(k.q), derInt(k.g), derInt(k.y), derInt(k.x)));
  const t = k.key.asymmetricKeyType;
  if (t === 'rsa') return pemEncode('RSA PRIVATE KEY', k.key.export({ type: 'pkcs1', format: 'der' }));
  if (t === 'ec') return pemEncode('EC PRIVATE KEY', k.key.export({ type: 'sec1', format: 'der' }));
  return pemEncode('PRIVATE KEY', k.key.export({ type: 'pkcs8', format: 'der' }));
}

function generateDsa(): DsaKey {
  const { privateKey } = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
  // PKCS#8: SEQUENCE { version, AlgorithmIdentifier { oid, Dss-Parms { p, q, g } }, OCTET STRING { INTEGER x } }
  const top = children(readDer(privateKey.export({ type: 'pkcs8', format: 'der' })));
  const [p, q, g] = children(children(top[1]!)[1]!).map(derToBigint) as [bigint, bigint, bigint];
  const x = derToBigint(readDer(top[2]!.body));
  return { kind: 'dsa', p, q, g, x, y: modPow(g, x, p) };
}

/** genPrivateKey: "rsa" (and "") 4096-bit RSA, "dsa" L2048N256, "ecdsa" P-256, "ed25519". */
export function genPrivateKey(ctx: FuncContext, typ: GoString): GoString {
  ctx.budget.scan(typ.length);
  let key: PrivKey;
  switch (typ) {
    case '':
    case 'rsa':
      ctx.budget.produce(3300);
      heavy(ctx, HEAVY_MS.rsa4096, 'genPrivateKey "rsa" (4096-bit RSA key generation)');
      key = { kind: 'node', key: generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey };
      break;
    case 'dsa':
      ctx.budget.produce(1300);
      heavy(ctx, HEAVY_MS.rsa4096, 'genPrivateKey "dsa" (DSA L2048N256 parameter generation)');
      key = generateDsa();
      break;
    case 'ecdsa':
      ctx.budget.produce(300);
      heavy(ctx, HEAVY_MS.ecdsa, 'genPrivateKey "ecdsa"');
      key = { kind: 'node', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey };
      break;
    case 'ed25519':
      ctx.budget.produce(200);
      heavy(ctx, HEAVY_MS.ed25519, 'genPrivateKey "ed25519"');
      key = { kind: 'node', key: generateKeyPairSync('ed25519').privateKey };
      break;
    default:
      ctx.budget.produce(13 + typ.length);
      return 'Unknown type ' + typ;
  }
  return pemForKey(key);
}

function parseKeyDer(type: 'pkcs1' | 'pkcs8' | 'sec1', der: Buffer, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: 'der', type });
  } catch {
    throw new FuncError(`${what}: x509: failed to parse private key`);
  }
  if (key.asymmetricKeyType === 'rsa') return checkedRsa(key, what);
  if (key.asymmetricKeyType === 'ec' && !GO_CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? '')) throw new FuncError(`${what}: x509: unknown elliptic curve`);
  return key;
}

/** The curves Go's crypto/x509 parses (P-224, P-256, P-384, P-521). */
const GO_CURVES = new Set(['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1']);

/** Largest RSA modulus accepted from a template: signing cost grows with its cube (16384 bits: ~1.5 s). */
export const MAX_RSA_BITS = 8192;

const b64uInt = (s: string | undefined): bigint => (s ? BigInt('0x' + (Buffer.from(s, 'base64url').toString('hex') || '0')) : 0n);

/**
 * Go's ParsePKCS1PrivateKey checks the key (PrivateKey.Validate: the primes multiply to n, d
 * inverts e modulo each p-1) and recomputes the CRT values (Precompute), ignoring the file's.
 * Doing the same keeps a forged key from sending OpenSSL down its slow non-CRT path, and makes the
 * re-encoded key Go's. Moduli over MAX_RSA_BITS are refused (their signatures cost seconds).
 */
function checkedRsa(key: KeyObject, what: string): KeyObject {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits > MAX_RSA_BITS) throw new FuncError(`${what}: RSA keys over ${MAX_RSA_BITS} bits are not accepted in templates (signing with one takes seconds)`);
  const jwk = key.export({ format: 'jwk' });
  const [n, e, d, p, q] = [jwk.n, jwk.e, jwk.d, jwk.p, jwk.q].map(b64uInt) as [bigint, bigint, bigint, bigint, bigint];
  if (n <= 0n || d <= 0n || p <= 0n || q <= 0n) throw new FuncError(`${what}: x509: private key contains zero or negative value`);
  if (e < 2n) throw new FuncError(`${what}: crypto/rsa: public exponent too small`);
  if (e > 0x7fffffffn) throw new FuncError(`${what}: crypto/rsa: public exponent too large`);
  if (p <= 1n || q <= 1n) throw new FuncError(`${what}: crypto/rsa: invalid prime value`);
  if (p * q !== n) throw new FuncError(`${what}: crypto/rsa: invalid modulus`);
  for (const prime of [p, q]) if ((d * e) % (prime - 1n) !== 1n) throw new FuncError(`${what}: crypto/rsa: invalid exponents`);
  const dp = d % (p - 1n);
  const dq = d % (q - 1n);
  const qi = modInverse(q, p);
  if (b64uInt(jwk.dp) === dp && b64uInt(jwk.dq) === dq && b64uInt(jwk.qi) === qi) return key;
  const enc = (v: bigint) => {
    let h = v.toString(16);
    if (h.length % 2) h = '0' + h;
    return Buffer.from(h, 'hex').toString('base64url');
  };
  return createPrivateKey({ key: { ...jwk, dp: enc(dp), dq: enc(dq), qi: enc(qi) }, format: 'jwk' });
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [((a % m) + m) % m, m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}

/** What one signature with this key is declared to cost: ~10 ms at RSA-2048, growing with the modulus' cube. */
function signCostMs(key: KeyObject): number {
  if (key.asymmetricKeyType !== 'rsa') return HEAVY_MS.sign;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
  return Math.max(HEAVY_MS.sign, Math.ceil(HEAVY_MS.sign * (bits / 2048) ** 3));
}

/** Sprig's parsePrivateKeyPEM, with its error texts. */
function parsePrivateKeyPEM(pem: GoString): PrivKey {
  const block = pemDecode(pem);
  if (!block) throw new FuncError('no PEM data in input');
  if (block.type === 'PRIVATE KEY') {
    const key = parseKeyDer('pkcs8', block.der, 'decoding PEM as PKCS#8');
    if (!['rsa', 'ec', 'ed25519'].includes(key.asymmetricKeyType ?? '')) throw new FuncError('decoding PEM as PKCS#8: x509: unknown private key type');
    return { kind: 'node', key };
  }
  if (!block.type.endsWith(' PRIVATE KEY')) throw new FuncError(`no private key data in PEM block of type ${block.type}`);
  switch (block.type.slice(0, -12)) {
    case 'RSA':
      return { kind: 'node', key: parseKeyDer('pkcs1', block.der, 'parsing RSA private key from PEM') };
    case 'EC':
      return { kind: 'node', key: parseKeyDer('sec1', block.der, 'parsing EC private key from PEM') };
    case 'DSA': {
      try {
        const [, p, q, g, y, x] = children(readDer(block.der)).map(derToBigint) as bigint[];
        if (x === undefined) throw new FuncError('asn1: syntax error: sequence truncated');
        return { kind: 'dsa', p: p!, q: q!, g: g!, y: y!, x };
      } catch (e) {
        throw new FuncError(`parsing DSA private key from PEM: ${(e as Error).message}`);
      }
    }
    default:
      throw new FuncError(`invalid private key type ${block.type}`);
  }
}

// ---------------------------------------------------------------------------------------
// Certificates

/** Sprig's certificate struct: {Cert, Key string}. */
export class GoCertificate extends GoObject {
  readonly type = 'sprig.certificate';
  constructor(
    readonly cert: GoString,
    readonly key: GoString,
  ) {
    super();
  }
  field(name: string): GoValue | undefined {
    return name === 'Cert' ? this.cert : name === 'Key' ? this.key : undefined;
  }
  format(): GoString {
    return `{${this.cert} ${this.key}}`;
  }
}

const OID = {
  cn: '2.5.4.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  ecdsaSHA256: '1.2.840.10045.4.3.2',
  ecdsaSHA384: '1.2.840.10045.4.3.3',
  ecdsaSHA512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

function isPrintable(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || (c >= 0x27 && c <= 0x29) || (c >= 0x2b && c <= 0x2f) || c === 0x20 || c === 0x3a || c === 0x3d || c === 0x3f;
}

/** pkix.Name{CommonName: cn} as Go marshals it: PrintableString when it can, else UTF8String. */
function subjectDer(cn: GoString): Buffer {
  if (cn === '') return seq();
  let tag = 0x13;
  for (let i = 0; i < cn.length; i++) {
    if (!isPrintable(cn.charCodeAt(i))) {
      if (Buffer.from(toUtf8(cn), 'utf8').toString('latin1') !== cn) throw new FuncError('error creating certificate: asn1: string not valid UTF-8');
      tag = 0x0c;
      break;
    }
  }
  return seq(tlv(0x31, seq(oid(OID.cn), tlv(tag, goBytes(cn)))));
}

function asn1Time(sec: number): Buffer {
  const d = new Date(sec * 1000);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new FuncError('error creating certificate: asn1: structure error: cannot represent time as GeneralizedTime');
  const two = (n: number) => String(n).padStart(2, '0');
  const rest = two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes()) + two(d.getUTCSeconds()) + 'Z';
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(two(y % 100) + rest, 'latin1'));
  return tlv(0x18, Buffer.from(String(y).padStart(4, '0') + rest, 'latin1'));
}

/** net.ParseIP as 4 bytes (IPv4, and IPv4-mapped IPv6 as To4 gives) or 16. */
export function parseIP(s: string): Buffer | undefined {
  const v4 = (t: string): number[] | undefined => {
    const parts = t.split('.');
    if (parts.length !== 4) return undefined;
    const out: number[] = [];
    for (const p of parts) {
      if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
      const n = Number(p);
      if (n > 255) return undefined;
      out.push(n);
    }
    return out;
  };
  const four = v4(s);
  if (four) return Buffer.from(four);
  if (!s.includes(':') || s.length > 45) return undefined;
  let head = s;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const t = v4(s.slice(lastColon + 1));
    if (!t) return undefined;
    tail = [(t[0]! << 8) | t[1]!, (t[2]! << 8) | t[3]!];
    head = s.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const groups = (x: string): number[] | undefined => {
    if (x === '') return [];
    const out: number[] = [];
    for (const g of x.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let words: number[];
  const dbl = head.indexOf('::');
  if (dbl >= 0) {
    if (head.indexOf('::', dbl + 1) >= 0) return undefined;
    const a = groups(head.slice(0, dbl));
    const b = groups(head.slice(dbl + 2));
    if (!a || !b) return undefined;
    const fill = 8 - a.length - b.length - tail.length;
    if (fill < 1) return undefined;
    words = [...a, ...new Array<number>(fill).fill(0), ...b, ...tail];
  } else {
    const a = groups(head);
    if (!a) return undefined;
    words = [...a, ...tail];
  }
  if (words.length !== 8) return undefined;
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  // To4: an IPv4-mapped address is written in 4 bytes.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b.subarray(12);
  return b;
}

function goV(v: GoValue): string {
  return typeof v === 'string' ? v : v === null ? '<nil>' : v instanceof GoObject ? v.format() : String((v as { v?: unknown }).v ?? v.toString());
}

function netIPs(ips: GoValue): Buffer[] {
  if (!(ips instanceof GoSlice)) return [];
  return ips.items.map((ip) => {
    if (typeof ip !== 'string') throw new FuncError(`error parsing ip: ${goV(ip)} is not a string`);
    const b = parseIP(ip);
    if (!b) throw new FuncError(`error parsing ip: ${ip}`);
    return b;
  });
}

function dnsNames(dns: GoValue): GoString[] {
  if (!(dns instanceof GoSlice)) return [];
  return dns.items.map((d) => {
    if (typeof d !== 'string') throw new FuncError(`error processing alternate dns name: ${goV(d)} is not a string`);
    return d;
  });
}

interface Template {
  serial: bigint;
  cn: GoString;
  ips: Buffer[];
  dns: GoString[];
  notBefore: number;
  notAfter: number;
  isCA: boolean;
}

function baseTemplate(ctx: FuncContext, cn: GoString, ips: GoValue, dns: GoValue, daysValid: bigint, now: GoTime): Template {
  const ipList = netIPs(ips);
  const dnsList = dnsNames(dns);
  ctx.budget.scan(16);
  const serial = BigInt('0x' + ctx.randomBytes(16).toString('hex'));
  // time.Hour * 24 * time.Duration(daysValid) wraps around int64 as Go's does.
  const validity = BigInt.asIntN(64, NS.h * 24n * BigInt.asIntN(64, daysValid));
  const after = now.add(validity);
  return { serial, cn, ips: ipList, dns: dnsList, notBefore: now.sec, notAfter: after.sec, isCA: false };
}

interface Signer {
  key: PrivKey;
  /** The issuer's subject DER (the template's own for self-signed). */
  subject?: Buffer;
  subjectKeyId?: Buffer;
  publicKeyDer?: Buffer;
}

function nodeKey(k: PrivKey): KeyObject {
  if (k.kind === 'dsa') throw new FuncError('error creating certificate: x509: certificate private key does not implement crypto.Signer');
  return k.key;
}

function sigAlg(key: KeyObject): { alg: Buffer; hash: string | null } {
  const t = key.asymmetricKeyType;
  if (t === 'rsa') return { alg: seq(oid(OID.sha256WithRSA), NULL), hash: 'sha256' };
  if (t === 'ed25519') return { alg: seq(oid(OID.ed25519)), hash: null };
  if (t === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return { alg: seq(oid(OID.ecdsaSHA384)), hash: 'sha384' };
    if (curve === 'secp521r1') return { alg: seq(oid(OID.ecdsaSHA512)), hash: 'sha512' };
    return { alg: seq(oid(OID.ecdsaSHA256)), hash: 'sha256' };
  }
  throw new FuncError('error creating certificate: x509: only RSA, ECDSA and Ed25519 keys supported');
}

function ext(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), octets(value));
}

/** x509.CreateCertificate for Sprig's templates, then getCertAndKey's PEM pair. */
function certAndKey(ctx: FuncContext, t: Template, signee: PrivKey, signer: Signer): GoCertificate {
  const signingKey = nodeKey(signer.key);
  heavy(ctx, signCostMs(signingKey), 'signing a certificate');
  const { alg, hash } = sigAlg(signingKey);
  if (signee.kind === 'dsa') throw new FuncError('error creating certificate: x509: only RSA, ECDSA and Ed25519 keys supported');
  const spki = createPublicKey(signee.key).export({ type: 'spki', format: 'der' });
  // The BIT STRING's content (without the unused-bits byte) is what SubjectKeyId hashes.
  const pubBits = children(readDer(spki))[1]!.body.subarray(1);
  if (signer.publicKeyDer && !createPublicKey(signingKey).export({ type: 'spki', format: 'der' }).equals(signer.publicKeyDer)) {
    throw new FuncError("error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey");
  }
  const subject = subjectDer(t.cn);
  const issuer = signer.subject ?? subject;
  const authorityKeyId = !issuer.equals(subject) && signer.subjectKeyId ? signer.subjectKeyId : undefined;
  const subjectKeyId = t.isCA ? createHash('sha1').update(pubBits).digest() : undefined;
  const exts: Buffer[] = [];
  // KeyUsage: DigitalSignature|KeyEncipherment (|CertSign for a CA), bits reversed as Go writes them.
  exts.push(ext(OID.keyUsage, true, t.isCA ? Buffer.from([0x03, 0x02, 0x02, 0xa4]) : Buffer.from([0x03, 0x02, 0x05, 0xa0])));
  exts.push(ext(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))));
  exts.push(ext(OID.basicConstraints, true, t.isCA ? seq(Buffer.from([0x01, 0x01, 0xff])) : seq()));
  if (subjectKeyId) exts.push(ext(OID.subjectKeyId, false, octets(subjectKeyId)));
  if (authorityKeyId) exts.push(ext(OID.authorityKeyId, false, seq(tlv(0x80, authorityKeyId))));
  if (t.dns.length > 0 || t.ips.length > 0) {
    const names: Buffer[] = [];
    for (const d of t.dns) {
      for (let i = 0; i < d.length; i++) {
        if (d.charCodeAt(i) >= 0x80) throw new FuncError(`error creating certificate: x509: "${toUtf8(d)}" cannot be encoded as an IA5String`);
      }
      names.push(tlv(0x82, goBytes(d)));
    }
    for (const ip of t.ips) names.push(tlv(0x87, ip));
    exts.push(ext(OID.subjectAltName, subject.equals(seq()), seq(...names)));
  }
  const tbs = seq(
    tlv(0xa0, derInt(2n)),
    derInt(t.serial),
    alg,
    issuer,
    seq(asn1Time(t.notBefore), asn1Time(t.notAfter)),
    subject,
    spki,
    tlv(0xa3, seq(...exts)),
  );
  let signature: Buffer;
  try {
    signature = nodeSign(hash, tbs, signingKey);
  } catch {
    // A key too small for its digest (RSA under 62 bytes with SHA-256), as Go's SignPKCS1v15 refuses it.
    throw new FuncError('error creating certificate: crypto/rsa: message too long for RSA public key size');
  }
  const cert = seq(tbs, alg, bitString(signature));
  const out = new GoCertificate(pemEncode('CERTIFICATE', cert), pemForKey(signee));
  ctx.budget.produce(out.cert.length + out.key.length);
  return out;
}

function newRsa2048(ctx: FuncContext, what: string): PrivKey {
  ctx.budget.produce(1700);
  heavy(ctx, HEAVY_MS.rsa2048, `${what} (2048-bit RSA key generation)`);
  return { kind: 'node', key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
}

function keyFromPem(ctx: FuncContext, pem: GoString): PrivKey {
  ctx.budget.scan(pem.length);
  try {
    return parsePrivateKeyPEM(pem);
  } catch (e) {
    if (e instanceof FuncError) throw new FuncError(`parsing private key: ${e.message}`);
    throw e;
  }
}

export function genCA(ctx: FuncContext, cn: GoString, daysValid: bigint, now: GoTime, pem?: GoString): GoCertificate {
  const key = pem === undefined ? newRsa2048(ctx, 'genCA') : keyFromPem(ctx, pem);
  const t = baseTemplate(ctx, cn, null, null, daysValid, now);
  t.isCA = true;
  return certAndKey(ctx, t, key, { key });
}

export function genSelfSignedCert(ctx: FuncContext, cn: GoString, ips: GoValue, dns: GoValue, daysValid: bigint, now: GoTime, pem?: GoString): GoCertificate {
  const key = pem === undefined ? newRsa2048(ctx, 'genSelfSignedCert') : keyFromPem(ctx, pem);
  return certAndKey(ctx, baseTemplate(ctx, cn, ips, dns, daysValid, now), key, { key });
}

/** The signer's certificate: its subject, SubjectKeyId and public key, as Go's ParseCertificate gives them. */
function parseSignerCert(der: Buffer): { subject: Buffer; subjectKeyId?: Buffer; spki: Buffer } {
  try {
    new X509Certificate(der);
    const tbs = children(children(readDer(der))[0]!);
    let i = tbs[0]!.tag === 0xa0 ? 1 : 0;
    i += 2; // serial, signature
    const subject = tbs[i + 2]!.full;
    const spki = tbs[i + 3]!.full;
    let subjectKeyId: Buffer | undefined;
    const extsWrap = tbs.find((c) => c.tag === 0xa3);
    if (extsWrap) {
      for (const e of children(children(extsWrap)[0]!)) {
        const parts = children(e);
        if (parts[0]!.full.equals(oid(OID.subjectKeyId))) subjectKeyId = readDer(parts[parts.length - 1]!.body).body;
      }
    }
    return { subject, spki, ...(subjectKeyId ? { subjectKeyId } : {}) };
  } catch {
    throw new FuncError('error parsing certificate: decodedSignerCert.Bytes: x509: malformed certificate');
  }
}

export function genSignedCert(ctx: FuncContext, cn: GoString, ips: GoValue, dns: GoValue, daysValid: bigint, ca: GoValue, now: GoTime, pem?: GoString): GoCertificate {
  if (!(ca instanceof GoCertificate)) throw new FuncError('wrong type for value; expected sprig.certificate');
  const key = pem === undefined ? newRsa2048(ctx, 'genSignedCert') : keyFromPem(ctx, pem);
  ctx.budget.scan(ca.cert.length + ca.key.length);
  const block = pemDecode(ca.cert);
  if (!block) throw new FuncError('unable to decode certificate');
  const parent = parseSignerCert(block.der);
  let signerKey: PrivKey;
  try {
    signerKey = parsePrivateKeyPEM(ca.key);
  } catch (e) {
    if (e instanceof FuncError) throw new FuncError(`error parsing private key: ${e.message}`);
    throw e;
  }
  const t = baseTemplate(ctx, cn, ips, dns, daysValid, now);
  return certAndKey(ctx, t, key, { key: signerKey, subject: parent.subject, publicKeyDer: parent.spki, ...(parent.subjectKeyId ? { subjectKeyId: parent.subjectKeyId } : {}) });
}

export function buildCustomCert(ctx: FuncContext, b64cert: GoString, b64key: GoString): GoCertificate {
  ctx.budget.scan(b64cert.length + b64key.length);
  ctx.budget.reserve(b64cert.length + b64key.length);
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = goBase64Decode(b64cert);
  } catch {
    throw new FuncError('unable to decode base64 certificate');
  }
  try {
    key = goBase64Decode(b64key);
  } catch {
    throw new FuncError('unable to decode base64 private key');
  }
  const block = pemDecode(fromBytes(cert));
  if (!block) throw new FuncError('unable to decode certificate');
  try {
    new X509Certificate(block.der);
  } catch {
    throw new FuncError('error parsing certificate: decodedCert.Bytes: x509: malformed certificate');
  }
  try {
    parsePrivateKeyPEM(fromBytes(key));
  } catch (e) {
    if (e instanceof FuncError) throw new FuncError(`error parsing private key: ${e.message}`);
    throw e;
  }
  const out = new GoCertificate(fromBytes(cert), fromBytes(key));
  ctx.budget.produce(cert.length + key.length);
  return out;
}
