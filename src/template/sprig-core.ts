/**
 * Sprig 3.2.3's generic functions owned by SPRIG-CORE: strings, string lists,
 * defaults and flow, conversion, math, encoding, lists, dicts, reflection, JSON,
 * regex, paths, URLs and semver. Each follows Sprig's Go code (and the libraries it
 * calls: strings, strconv, spf13/cast, goutils, xstrings, mergo, shopspring/decimal,
 * encoding/json, regexp, path, net/url, Masterminds/semver) over the GoValues of
 * ./values.ts, and charges ctx.budget for what it reads and makes before it allocates.
 * Go's error results and recovered panics are FuncErrors (ERR_VALUE).
 */
import type { FuncSpec } from './values.js';
import { DATA_FUNCS } from './sprig-core/data.js';
import { JSON_FUNCS } from './sprig-core/json.js';
import { PATH_FUNCS } from './sprig-core/paths.js';
import { REGEX_FUNCS } from './sprig-core/regex.js';
import { SEMVER_FUNCS } from './sprig-core/semver.js';
import { STRING_FUNCS } from './sprig-core/strings.js';
import { URL_FUNCS } from './sprig-core/url.js';

export const SPRIG_CORE: Readonly<Record<string, FuncSpec>> = Object.freeze({
  ...STRING_FUNCS,
  ...DATA_FUNCS,
  ...JSON_FUNCS,
  ...REGEX_FUNCS,
  ...PATH_FUNCS,
  ...SEMVER_FUNCS,
  ...URL_FUNCS,
});
