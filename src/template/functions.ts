/**
 * Function lookup as upstream's template sees it: the func map (Sprig's GenericFuncMap less
 * env, expandenv and getHostByName) before text/template's builtins, as Go's findFunction does.
 */
import { BUILTINS, type BuiltinSpec } from './exec.js';
import { SPRIG_CORE } from './sprig-core.js';
import { HEAVY_FUNCTIONS, SPRIG_EXTRA } from './sprig-extra.js';
import { HEAVY_MS } from './sprig-extra/crypto.js';
import type { FuncSpec } from './values.js';

/** Upstream deletes these from the func map: no access to the controller's environment or network. */
export const REMOVED = new Set(['env', 'expandenv', 'getHostByName']);

export type Builtin = BuiltinSpec;
export type Found = { kind: 'sprig'; spec: FuncSpec } | { kind: 'builtin'; builtin: BuiltinSpec };

const cache = new Map<string, Found | undefined>();

export function lookupFunc(name: string): Found | undefined {
  if (cache.has(name)) return cache.get(name);
  const f = find(name);
  if (cache.size < 1000) cache.set(name, f);
  return f;
}

function find(name: string): Found | undefined {
  if (REMOVED.has(name)) return undefined;
  if (Object.hasOwn(SPRIG_CORE, name)) return { kind: 'sprig', spec: SPRIG_CORE[name]! };
  if (Object.hasOwn(SPRIG_EXTRA, name)) return { kind: 'sprig', spec: SPRIG_EXTRA[name]! };
  if (Object.hasOwn(BUILTINS, name)) return { kind: 'builtin', builtin: BUILTINS[name]! };
  return undefined;
}

export const FUNCS = { has: (name: string) => lookupFunc(name) !== undefined };

/** Every name a template can call. */
export function functionNames(): string[] {
  return [...new Set([...Object.keys(SPRIG_CORE), ...Object.keys(SPRIG_EXTRA), ...Object.keys(BUILTINS)])].filter((n) => !REMOVED.has(n)).sort();
}

/** The most a signature costs (signCostMs: RSA keys up to 8192 bits, cost growing as the cube of the size). */
const MAX_SIGN_MS = HEAVY_MS.sign * 64;

/**
 * The worst-case declared cost (ms) of one call of each expensive function, whatever its
 * arguments: what a call site costs in the static count (see template.ts, "heavy call sites").
 */
export const HEAVY_SITE_MS: Readonly<Record<string, number>> = {
  bcrypt: HEAVY_MS.bcrypt,
  htpasswd: HEAVY_MS.bcrypt,
  derivePassword: HEAVY_MS.scrypt,
  genPrivateKey: HEAVY_MS.rsa4096,
  genCA: HEAVY_MS.rsa2048 + HEAVY_MS.sign,
  genSelfSignedCert: HEAVY_MS.rsa2048 + HEAVY_MS.sign,
  genSignedCert: HEAVY_MS.rsa2048 + MAX_SIGN_MS,
  genCAWithKey: MAX_SIGN_MS,
  genSelfSignedCertWithKey: MAX_SIGN_MS,
  genSignedCertWithKey: MAX_SIGN_MS,
};
/** The cost of one call site: genPrivateKey's depends on its literal key type, when it has one. */
export function heavySiteMs(name: string, literal?: string): number {
  if (!Object.hasOwn(HEAVY_SITE_MS, name)) return 0;
  if (name === 'genPrivateKey' && (literal === 'ecdsa' || literal === 'ed25519')) return HEAVY_MS.ecdsa;
  return HEAVY_SITE_MS[name]!;
}

for (const name of HEAVY_FUNCTIONS) if (!Object.hasOwn(HEAVY_SITE_MS, name)) throw new Error(`HEAVY_SITE_MS has no cost for ${name}`);
