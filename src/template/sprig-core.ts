/**
 * Sprig 3.2.3's generic functions owned by SPRIG-CORE (strings, lists, dicts,
 * defaults and flow, conversion, math, encoding, reflection, regex, paths, URLs,
 * semver), each with Sprig's exact semantics, charging ctx.budget before it allocates.
 */
import type { FuncSpec, GoValue } from './values.js';

function upper(s: string): string {
  return s; // placeholder replaced below
}
void upper;

export const SPRIG_CORE: Readonly<Record<string, FuncSpec>> = {
  hasPrefix: {
    params: ['string', 'string'],
    fn: (ctx, [prefix, s]): GoValue => {
      ctx.budget.scan((prefix as string).length);
      return (s as string).startsWith(prefix as string);
    },
  },
};
