/**
 * Go values as the template engine sees them: the contract between the text/template
 * engine (lexer, parser, exec, builtins, fmt) and the Sprig function table.
 *
 * Upstream renders over a map[string]string of the decrypted items with Go's
 * text/template and Sprig (pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go).
 * Every value below models the Go value it names, so that printing, comparison,
 * truthiness and argument conversion follow Go's rules.
 *
 * Strings are Go strings: byte sequences. A GoString is a JS string whose every
 * code unit is 0..255 and stands for one byte ("binary"/latin1 string), so `len`
 * counts bytes and invalid UTF-8 survives unchanged. Convert at the edges with
 * fromUtf8/toUtf8 (for rune-wise functions such as upper, title, regex).
 *
 * Additive changes only: both halves of the engine are written against this file.
 */
import type { TemplateBudget } from '../template.js';

/** A Go string: one JS code unit (0..255) per byte. */
export type GoString = string;

export type IntType = 'int' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'uintptr';

/** A Go integer of a named type (untyped integer constants become `int`, as in text/template). */
export class GoInt {
  constructor(
    readonly v: bigint,
    readonly type: IntType = 'int',
  ) {}
}

/** A Go float64 (or float32). */
export class GoFloat {
  constructor(
    readonly v: number,
    readonly type: 'float64' | 'float32' = 'float64',
  ) {}
}

/** A Go slice or array. `type` is how %T prints it, e.g. "[]interface {}", "[]string". */
export class GoSlice {
  constructor(
    readonly items: GoValue[],
    readonly type: string = '[]interface {}',
  ) {}
}

/** A Go []byte (printed by %v as [104 105], by %s as text; toJson gives base64). */
export class GoBytes {
  constructor(readonly bytes: Buffer) {}
}

/**
 * A Go map with string keys. `type` is e.g. "map[string]interface {}" or
 * "map[string]string" (the root value `.`). Iteration and printing use sorted keys.
 * `elem` is the Go zero value returned for a missing key by `index` ("" for
 * map[string]string, nil for map[string]interface {}).
 */
export class GoMap {
  constructor(
    readonly entries: Map<GoString, GoValue>,
    readonly type: string = 'map[string]interface {}',
    readonly zero: GoValue = null,
  ) {}
}

/**
 * Any other Go value (time.Time, *semver.Version, *semver.Constraints, ...):
 * `type` as %T prints it; `field` resolves `.Name` (a field, or a method called
 * with `args`, as text/template does); `format` is how %v / print show it.
 */
export abstract class GoObject {
  abstract readonly type: string;
  /** A field's value or a method's result; undefined when the type has no such field or method. */
  abstract field(name: string, args: GoValue[], ctx: FuncContext): GoValue | undefined;
  /** fmt's %v (and %s where the type has a String method). */
  abstract format(): GoString;
  /** Truthiness (text/template's isTrue): structs are always true. */
  truth(): boolean {
    return true;
  }
}

/**
 * `null` is Go's nil (an untyped nil or nil interface); MISSING is text/template's
 * "invalid value" (a missing map key), which prints as "<no value>".
 */
export const MISSING: unique symbol = Symbol('<no value>');

export type GoValue = GoString | boolean | null | typeof MISSING | GoInt | GoFloat | GoSlice | GoBytes | GoMap | GoObject;

/** Go parameter types a function declares; the engine converts/checks arguments as reflect.Call would. */
export type GoParam =
  | 'string'
  | 'bool'
  | IntType
  | 'float64'
  | 'interface {}'
  | '[]interface {}'
  | '[]string'
  | 'map[string]interface {}'
  | 'time.Time'
  /** Any GoObject of this %T type (e.g. "*semver.Version"). */
  | `object:${string}`;

/** What a function can reach: the shared budget, and injectable time and randomness (tests pin them). */
export interface FuncContext {
  readonly budget: TemplateBudget;
  /** Milliseconds since the epoch (Date.now in production). */
  now(): number;
  /** `n` cryptographically random bytes (crypto.randomBytes in production). */
  randomBytes(n: number): Buffer;
}

/**
 * A function the template can call. The engine checks the argument count
 * (statically where it can: that is an ERR_TEMPLATE) and converts each argument to
 * its declared type as Go's reflect would, failing with Go's message
 * ("wrong type for value; expected string; got int") otherwise.
 * `fn` returns the result; throwing FuncError is Go's second (error) result:
 * the engine reports `error calling NAME: MESSAGE` and it is an ERR_VALUE.
 * Every function charges `ctx.budget` for what it reads (scan) and produces
 * (produce/reserve) BEFORE it allocates, and one step per loop iteration it runs.
 */
export interface FuncSpec {
  readonly params: readonly GoParam[];
  /** The type of a trailing ...variadic parameter, if any. */
  readonly variadic?: GoParam;
  readonly fn: (ctx: FuncContext, args: GoValue[]) => GoValue;
}

/** Go's error result of a function: becomes "error calling NAME: message" (an ERR_VALUE). */
export class FuncError extends Error {}

export function fromUtf8(s: string): GoString {
  return Buffer.from(s, 'utf8').toString('latin1');
}

export function toUtf8(s: GoString): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

export function goBytes(s: GoString): Buffer {
  return Buffer.from(s, 'latin1');
}

export function fromBytes(b: Buffer): GoString {
  return b.toString('latin1');
}
