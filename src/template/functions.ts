/**
 * Function lookup as upstream's template sees it: the func map (Sprig's GenericFuncMap less
 * env, expandenv and getHostByName) before text/template's builtins, as Go's findFunction does.
 */
import { BUILTINS, type BuiltinSpec } from './exec.js';
import { SPRIG_CORE } from './sprig-core.js';
import { SPRIG_EXTRA } from './sprig-extra.js';
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
