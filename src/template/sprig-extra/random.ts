/**
 * Sprig's random functions over ctx.randomBytes (crypto.randomBytes in production, pinned in
 * tests): goutils' CryptoRandom alphabets (randAlphaNum, randAlpha, randNumeric, randAscii),
 * randInt (math/rand's Intn), shuffle (xstrings.Shuffle: a Fisher-Yates over runes), uuidv4
 * (google/uuid's New), randBytes.
 *
 * Every count is charged to the budget before anything is allocated or drawn.
 */
import { type FuncContext, FuncError, type GoString, fromUtf8, toUtf8 } from '../values.js';

/** Random bytes drawn in batches, each batch charged as bytes read. */
class Draw {
  #buf: Buffer = Buffer.alloc(0);
  #at = 0;
  constructor(readonly ctx: FuncContext) {}
  byte(): number {
    if (this.#at >= this.#buf.length) {
      // A small first batch for the usual short strings; then 8 KiB ones, whose charge also
      // reads the budget's clock (scan checks it past 4 KiB), so a long draw stops on time.
      const n = this.#buf.length === 0 ? 256 : 8192;
      this.ctx.budget.scan(n);
      this.#buf = this.ctx.randomBytes(n);
      this.#at = 0;
    }
    return this.#buf[this.#at++]!;
  }
  /** below() for 2 <= n < 2^31 in plain numbers (randAlphaNum draws thousands). */
  belowSmall(n: number): number {
    const bits = 32 - Math.clz32(n - 1);
    const bytes = Math.ceil(bits / 8);
    const mask = bits === 31 ? 0x7fffffff : (1 << bits) - 1;
    for (;;) {
      let v = 0;
      for (let i = 0; i < bytes; i++) v = ((v << 8) | this.byte()) >>> 0;
      v &= mask;
      if (v < n) return v;
    }
  }

  /** A uniform integer in [0, n), n >= 1, by rejection (no modulo bias). */
  below(n: bigint): bigint {
    if (n <= 1n) return 0n;
    if (n <= 0x7fffffffn) return BigInt(this.belowSmall(Number(n)));
    const bits = n.toString(2).length;
    const bytes = Math.ceil(bits / 8);
    const mask = (1n << BigInt(bits)) - 1n;
    for (;;) {
      let v = 0n;
      for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(this.byte());
      v &= mask;
      if (v < n) return v;
    }
  }
}

const isAsciiLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAsciiDigit = (c: number) => c >= 48 && c <= 57;

/**
 * goutils.CryptoRandom(count, start, end, letters, numbers) for the ranges Sprig uses: all
 * ASCII, so no surrogate handling is reachable. Negative counts give "" (Sprig drops the error).
 */
export function cryptoRandom(ctx: FuncContext, count: bigint, letters: boolean, numbers: boolean): GoString {
  if (count <= 0n) return '';
  const n = Number(count > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : count);
  ctx.budget.produce(n);
  // randAscii is CryptoRandom(count, 32, 127, false, false); the others draw from ' '..'z'.
  const [start, gap] = !letters && !numbers ? [32, 95] : [32, 91];
  const draw = new Draw(ctx);
  const out: number[] = [];
  while (out.length < n) {
    const ch = start + draw.belowSmall(gap);
    if ((letters && isAsciiLetter(ch)) || (numbers && isAsciiDigit(ch)) || (!letters && !numbers)) out.push(ch);
  }
  return Buffer.from(out).toString('latin1');
}

/** randInt: math/rand's Intn(max-min)+min; Intn panics on n <= 0 (text/template reports it). */
export function randInt(ctx: FuncContext, min: bigint, max: bigint): bigint {
  const n = BigInt.asIntN(64, max - min);
  if (n <= 0n) throw new FuncError('invalid argument to Intn');
  return BigInt.asIntN(64, new Draw(ctx).below(n) + min);
}

/** xstrings.Shuffle: the runes of s (invalid UTF-8 becomes U+FFFD, as []rune does) in random order. */
export function shuffle(ctx: FuncContext, s: GoString): GoString {
  if (s === '') return s;
  ctx.budget.scan(s.length);
  // A step per 64 bytes: the rune array costs far more than the bytes (tens of bytes a rune).
  ctx.budget.step(Math.ceil(s.length / 64));
  // Each invalid byte can become the 3 bytes of U+FFFD.
  ctx.budget.reserve(s.length * 3);
  const runes = [...toUtf8(s)];
  const draw = new Draw(ctx);
  for (let i = runes.length - 1; i > 0; i--) {
    const j = draw.belowSmall(i + 1);
    if (i !== j) [runes[i], runes[j]] = [runes[j]!, runes[i]!];
  }
  const out = fromUtf8(runes.join(''));
  ctx.budget.produce(out.length);
  return out;
}

/** google/uuid's New(): a version 4, RFC 4122 variant UUID. */
export function uuidv4(ctx: FuncContext): GoString {
  ctx.budget.produce(36);
  ctx.budget.scan(16);
  const b = Buffer.from(ctx.randomBytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** randBytes: base64 of count random bytes; make([]byte, count) panics on a negative count. */
export function randBytes(ctx: FuncContext, count: bigint): GoString {
  if (count < 0n) throw new FuncError('runtime error: makeslice: len out of range');
  const n = Number(count > 1n << 40n ? 1n << 40n : count);
  ctx.budget.produce(Math.ceil(n / 3) * 4);
  ctx.budget.scan(n);
  return ctx.randomBytes(n).toString('base64');
}
