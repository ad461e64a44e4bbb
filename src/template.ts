/**
 * SealedSecret `spec.template.data`: Go's text/template with Sprig, rendered byte-exactly over
 * the decrypted values, as upstream does (pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go:
 * template.New(key).Funcs(sprig.GenericFuncMap() less env, expandenv, getHostByName).Parse(value),
 * then Execute over a map[string]string of the decrypted items).
 *
 * The language is Go 1.19's text/template (upstream's go.mod says go 1.19): text and actions,
 * trim markers, comments, pipelines, parenthesised pipelines, variables ($x :=, $x =, $,
 * range's $i, $e), field chains (.a.b, $x.a, (pipe).a), fields and methods of Go objects,
 * if / else if / else, with / else, range / else with break and continue, define / template /
 * block, nil, bool, string, raw string, char and number constants (hex, octal, binary, floats,
 * underscores; complex numbers are refused), and the builtins and or not len index print printf
 * println html js urlquery eq ne lt le gt ge call; Sprig's functions come from
 * src/template/sprig-core.ts and sprig-extra.ts (src/template/functions.ts looks them up before
 * the builtins, as Go does). Range over an integer and `else with` (Go 1.22/1.23) are not in
 * Go 1.19 and are refused as upstream refuses them.
 *
 * Layout: src/template/parse.ts (lexer, parser), exec.ts (evaluation, builtins, static checks),
 * fmt.ts (Go's fmt), values.ts (Go values), budget.ts (the budget), functions.ts (lookup).
 *
 * Two kinds of failure, because of the first rule (SECURITY.md: nothing that someone without
 * read access to the Secret can observe may depend on its values):
 * - ERR_TEMPLATE: found by reading the template alone: syntax, undefined functions, templates
 *   and variables, argument counts, literal argument types. Safe to report in status and Events.
 * - ERR_VALUE: anything that goes wrong while evaluating over the values (a function's error such
 *   as `fail` or a bad b64dec, a wrong-typed value, a spent budget, the recursion limit).
 *   Callers report it only where Secret readers look (the controller: an annotation on the
 *   Secret), never in status, Events, metrics, logs or HTTP answers.
 * One TemplateBudget bounds the work of all the templates of one SealedSecret (bytes produced,
 * bytes scanned, steps, wall clock), charged before each allocation. A value failure does not
 * stop evaluation: the failed command stands in as "" and the rest still runs (and is charged),
 * so the work done does not show where a value failed; with if/range the control flow may still
 * follow the stand-in (the residual timing channel is in SECURITY.md).
 */
import { randomBytes } from 'node:crypto';
import { SealedSecretsError } from './errors.js';
import { BudgetExceeded, EvalError, MAX_OUTPUT_BYTES, TEMPLATE_LIMITS, TemplateBudget, TemplateError } from './template/budget.js';
import { EngineError, ExecError, callSites, check, execute } from './template/exec.js';
import { FUNCS, heavySiteMs } from './template/functions.js';
import { parse, type Tree } from './template/parse.js';
import { GoMap, fromUtf8, toUtf8, type FuncContext, type GoValue } from './template/values.js';

export { MAX_OUTPUT_BYTES, TEMPLATE_LIMITS, TemplateBudget };

/** A template read and checked without its values; render it with renderParsed. */
export interface ParsedTemplate {
  readonly item: string;
  /** The template's UTF-8 bytes (positions in Go's messages are byte offsets into it). */
  readonly source: string;
  readonly trees: ReadonlyMap<string, Tree>;
  /** The declared worst-case cost (ms) of its expensive call sites (bcrypt, key generation, ...), each counted once. */
  readonly heavyMs: number;
}

/** Counts the actions of all the templates of one SealedSecret as they are parsed. */
export interface ParseCounter {
  actions: number;
  /** The static cost of the expensive call sites of the templates read so far (ms). */
  heavyMs?: number;
}

const HINT = 'the template language is Go text/template with Sprig, as upstream (see the README, spec.template.data)';

/** Reads and checks one template.data value (no values needed). Throws ERR_TEMPLATE. */
export function parseTemplate(item: string, source: string, counter: ParseCounter = { actions: 0 }): ParsedTemplate {
  try {
    const src = fromUtf8(source);
    // Go's messages are bytes (latin1 GoStrings): the template's name is too.
    const name = fromUtf8(item);
    const { trees } = parse(name, src, FUNCS, counter);
    check(name, src, trees);
    // Heavy call sites are counted from the text (each once, at its worst case), whatever branch
    // the values take; rendering may spend no more than that, and is padded to it (renderParsed).
    let heavyMs = 0;
    const heavy: string[] = [];
    for (const site of callSites(trees)) {
      const ms = heavySiteMs(site.name, site.literal);
      if (ms === 0) continue;
      heavyMs += ms;
      heavy.push(`${site.name} ${ms} ms`);
    }
    counter.heavyMs = (counter.heavyMs ?? 0) + heavyMs;
    if (counter.heavyMs > TEMPLATE_LIMITS.heavyMs) {
      throw new TemplateError(`template: ${name}: the templates call expensive functions worth more than ${TEMPLATE_LIMITS.heavyMs} ms in all (here: ${heavy.join(', ')})`);
    }
    return { item, source: src, trees, heavyMs };
  } catch (e) {
    if (e instanceof TemplateError) throw new SealedSecretsError('ERR_TEMPLATE', `template.data["${item}"]: ${toUtf8(e.message.length > MAX_MESSAGE ? e.message.slice(0, MAX_MESSAGE) + '...' : e.message)}`, { hint: HINT });
    if (e instanceof RangeError) throw new SealedSecretsError('ERR_TEMPLATE', `template.data["${item}"]: the template nests too deeply`, { hint: HINT });
    throw e;
  }
}

/** What functions may reach besides the budget: the clock and randomness (tests pin them). */
export type TemplateEnv = Partial<Omit<FuncContext, 'budget'>>;

/** Messages are cut to this many bytes. */
const MAX_MESSAGE = 2048;

/**
 * The ERR_VALUE text reaches the Secret's unseal-error annotation, which people who see only
 * metadata read too (SECURITY.md): it is built from fixed parts only. The engine's own messages
 * (ExecError: the item, Go's position and context from the template text, the function's name,
 * a fixed reason; the budget's limits) are kept; any other text (a function's own message) is
 * replaced by a fixed one, so nothing the values made can reach it.
 */
function valueError(item: string, e: Error): SealedSecretsError {
  let msg: string;
  if (e instanceof ExecError || e instanceof BudgetExceeded || e instanceof EngineError) msg = e.message.length > MAX_MESSAGE ? e.message.slice(0, MAX_MESSAGE) + '...' : e.message;
  else if (e instanceof RangeError) msg = 'the value is too large to render';
  else msg = 'a function failed on the values';
  return new SealedSecretsError('ERR_VALUE', `template.data["${item}"]: ${toUtf8(msg)}`, {
    hint: 'this depends on the values: fix the template or the sealed values',
  });
}

/**
 * Renders a parsed template over the values, within `budget` (shared by all the templates
 * of one SealedSecret). Throws ERR_VALUE, which must be reported only to readers
 * of the Secret (see the top of this file).
 */
export function renderParsed(t: ParsedTemplate, data: ReadonlyMap<string, Buffer>, budget: TemplateBudget, env: TemplateEnv = {}): Buffer {
  const start = performance.now();
  budget.allowHeavy(t.heavyMs);
  try {
    return render(t, data, budget, env);
  } finally {
    // Padded to the declared cost of its expensive call sites, so whether a value-dependent branch
    // ran one does not show in how long rendering takes (a sleep, not a spin).
    if (t.heavyMs > 0) sleepUntil(start + t.heavyMs);
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));
function sleepUntil(t: number): void {
  const ms = t - performance.now();
  if (ms > 0) Atomics.wait(SLEEPER, 0, 0, ms);
}

function render(t: ParsedTemplate, data: ReadonlyMap<string, Buffer>, budget: TemplateBudget, env: TemplateEnv): Buffer {
  const entries = new Map<string, GoValue>();
  for (const [k, v] of data) entries.set(fromUtf8(k), v.toString('latin1'));
  const root = new GoMap(entries, 'map[string]string', '');
  const fctx: FuncContext = { budget, now: env.now ?? (() => Date.now()), randomBytes: env.randomBytes ?? ((n) => randomBytes(n)) };
  try {
    const r = execute({ item: fromUtf8(t.item), source: t.source, trees: t.trees as Map<string, Tree>, budget, fctx }, root, MAX_OUTPUT_BYTES);
    if (r.failed) throw r.failed;
    if (r.over) throw new EngineError(`the rendered value is over ${MAX_OUTPUT_BYTES} bytes`);
    return Buffer.from(r.output, 'latin1');
  } catch (e) {
    if (e instanceof EvalError || e instanceof RangeError) throw valueError(t.item, e);
    if (e instanceof SealedSecretsError) throw e;
    // Anything else is a defect in a function; it happened over the values, so it is reported as
    // one of theirs (never with its own message, which could quote them).
    throw valueError(t.item, new EngineError('a function failed unexpectedly while rendering'));
  }
}

/** Parses and renders one template.data value with a budget of its own (tests, one-off use). */
export function renderTemplate(item: string, source: string, data: ReadonlyMap<string, Buffer>, budget = new TemplateBudget(), env: TemplateEnv = {}): Buffer {
  return renderParsed(parseTemplate(item, source), data, budget, env);
}

/**
 * Renders a few templates that go through the lexer, parser, checks, evaluator, builtins, fmt and
 * common Sprig functions, so that the first SealedSecret a worker thread renders does not pay the
 * engine's JIT warm-up (which would make the first unseal after a start slower than the next, for
 * any values). Called once when an unseal worker starts.
 */
export function warmTemplateEngine(): void {
  const data = new Map([['a', Buffer.from('warm-up')], ['b', Buffer.from('d2FybQ==')]]);
  const sources = [
    '{{ define "t" }}[{{ . }}]{{ end }}{{ range $k, $v := . }}{{ if eq $k "a" }}{{ template "t" $v }}{{ else if ne $k "c" }}{{ $v | b64dec | upper | quote }}{{ end }}{{ end }}',
    '{{ $x := printf "%s:%5d:%-4s:%x:%q:%v:%.2f" .a 42 "z" 255 .b (list 1 "x") 1.5 }}{{ $x | len }}{{ with .a }}{{ replace "w" "W" . | trim | indent 2 }}{{ end }}',
    '{{- /* c */ -}}{{ index . "a" }}{{ .missing }}{{ (dict "k" .a).k }}{{ toJson (list .a .b) }}{{ and .a (or .b "") }}{{ not .a }}{{ lt 1 2 }}{{ default "d" .missing }}',
    '{{ range $i, $e := until 3 }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ $e }}{{ end }}{{ fail "x" }}',
  ];
  for (let round = 0; round < 3; round++) {
    for (const src of sources) {
      try {
        renderTemplate('warm', src, data, new TemplateBudget(undefined, undefined, undefined, 10_000));
      } catch {
        // The last template fails on purpose (the error path is warmed too).
      }
    }
  }
}
