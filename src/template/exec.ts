/**
 * Go's text/template execution (Go 1.19 exec.go, funcs.go) over GoValues, with Go's error
 * texts ("template: ITEM:LINE:COL: executing "NAME" at <NODE>: ..."), plus the static checks
 * that need no values (check()), which become ERR_TEMPLATE.
 *
 * Every node evaluated, function called, template invoked and range iteration charges a step;
 * every byte written or built is charged before it is allocated. A value failure (a function's
 * error, a wrong-typed value, a missing key where a string is needed) is recorded and replaced by
 * an empty string, and evaluation goes on, so the work done does not show where a value failed
 * (the output is discarded). Only a spent budget, or the template recursion limit, stops at once.
 */
import { BudgetExceeded, EvalError, TemplateError, type TemplateBudget } from './budget.js';
import { formatValue, goQuote, isPrint, decodeRune, isTrue, sprint, sprintf, sprintln, typeName, compareBytes } from './fmt.js';
import { lookupFunc, type Builtin, type Found } from './functions.js';
import { argString, cmdString, location, nodeString, pipeString, type Arg, type Cmd, type Node, type Pipe, type Tree } from './parse.js';
import { FuncError, GoBytes, GoFloat, GoInt, GoMap, GoObject, GoSlice, MISSING, type FuncContext, type GoParam, type GoValue } from './values.js';

/** `{{template}}` calls nest at most this deep (Go allows 100000; the JS stack does not). */
export const MAX_TEMPLATE_DEPTH = 50;

/**
 * A failure with Go's message; an ERR_VALUE unless raised by check(). An ERR_VALUE reaches the
 * Secret's unseal-error annotation, which people who see only metadata read too (SECURITY.md),
 * so its text is fixed per check: Go's message cut before any part made from the values (a
 * function's own error text, a value, its type), always a prefix of what Go prints.
 */
export class ExecError extends EvalError {}
/** The engine's own fixed-text value failures (nesting, output size). */
export class EngineError extends EvalError {}

class Break {}
class Continue {}

interface Variable {
  name: string;
  value: GoValue;
}

type AnyNode = Node | Arg | Cmd | Pipe;

function posOf(n: AnyNode): number {
  return (n as { pos: number }).pos;
}

function contextOf(n: AnyNode): string {
  if ('args' in n) return cmdString(n);
  if ((n as Node).t === 'action' || (n as Node).t === 'template' || (n as Node).t === 'if' || (n as Node).t === 'with' || (n as Node).t === 'range' || (n as Node).t === 'text' || (n as Node).t === 'break' || (n as Node).t === 'continue') return nodeString(n as Node);
  return argString(n as Arg);
}

export interface ExecEnv {
  item: string;
  source: string;
  trees: Map<string, Tree>;
  budget: TemplateBudget;
  fctx: FuncContext;
}

const CAN_BE_NIL = (p: string) => p === 'interface {}' || p.startsWith('[]') || p.startsWith('map[') || p.startsWith('object:*');

function zeroFor(p: GoParam): GoValue {
  if (p === '[]interface {}' || p === '[]string') return new GoSlice([], p);
  if (p === 'map[string]interface {}') return new GoMap(new Map(), p);
  return null;
}

function typeOfParam(p: string): string {
  return p.startsWith('object:') ? p.slice(7) : p;
}

/** validateType: a computed value against a declared parameter type. */
function assignable(v: GoValue, p: GoParam): boolean {
  if (p === 'interface {}') return true;
  if (typeof v === 'string') return p === 'string';
  if (typeof v === 'boolean') return p === 'bool';
  if (v instanceof GoInt) return v.type === p;
  if (v instanceof GoFloat) return v.type === p;
  if (v instanceof GoBytes) return false;
  if (v instanceof GoSlice || v instanceof GoMap) return v.type === p;
  if (v instanceof GoObject) return v.type === typeOfParam(p) || (p === 'time.Time' && v.type === 'time.Time');
  return false;
}

class State {
  node: AnyNode | null = null;
  vars: Variable[];
  failed: Error | undefined;
  tmpl: string;
  depth = 0;
  constructor(
    readonly env: ExecEnv,
    dot: GoValue,
  ) {
    this.vars = [{ name: '$', value: dot }];
    this.tmpl = env.item;
  }

  at(n: AnyNode): void {
    this.node = n;
  }

  errorf(msg: string): never {
    const n = this.node;
    if (!n) throw new ExecError(`template: ${this.env.item}: ${msg}`);
    throw new ExecError(`template: ${this.env.item}:${location(this.env.source, posOf(n))}: executing ${goQuote(this.tmpl)} at <${contextOf(n)}>: ${msg}`);
  }

  /** Records a value failure and stands in "" for what failed; a spent budget stops everything. */
  recover(e: unknown): GoValue {
    if (e instanceof BudgetExceeded) throw e;
    if (e instanceof RangeError) throw new EngineError('the value is too large to render');
    if (!(e instanceof EvalError)) throw e;
    this.failed ??= e;
    return '';
  }

  mark(): number {
    return this.vars.length;
  }

  pop(mark: number): void {
    this.vars.length = mark;
  }

  setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  // ---- walk ----

  walk(dot: GoValue, list: Node[], out: Out): void {
    for (const n of list) this.walkNode(dot, n, out);
  }

  walkNode(dot: GoValue, n: Node, out: Out): void {
    this.env.budget.step();
    this.at(n);
    switch (n.t) {
      case 'text':
        out.write(n.text, this.env.budget);
        return;
      case 'action': {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) out.write(formatValue(v === null ? MISSING : v, this.env.budget), null);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.mark();
        const v = this.evalPipeline(dot, n.pipe);
        if (isTrue(v)) this.walk(n.t === 'with' ? v : dot, n.list, out);
        else if (n.elseList) this.walk(dot, n.elseList, out);
        this.pop(mark);
        return;
      }
      case 'range':
        return this.walkRange(dot, n as Node & { t: 'range' }, out);
      case 'template':
        return this.walkTemplate(dot, n, out);
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
    }
  }

  walkRange(dot: GoValue, r: Node & { t: 'range' }, out: Out): void {
    const outer = this.mark();
    const val = this.evalPipeline(dot, r.pipe);
    const mark = this.mark();
    const decl = r.pipe.decl.length;
    const one = (index: GoValue, elem: GoValue): boolean => {
      this.env.budget.step();
      if (decl > 0) this.vars[this.vars.length - 1]!.value = elem;
      if (decl > 1) this.vars[this.vars.length - 2]!.value = index;
      try {
        this.walk(elem, r.list, out);
      } catch (e) {
        if (e instanceof Break) return false;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.pop(mark);
      }
      return true;
    };
    let ran = false;
    if (val instanceof GoSlice) {
      // Charged up front: a range does at least one step per element.
      for (let i = 0; i < val.items.length; i++) {
        ran = true;
        if (!one(new GoInt(BigInt(i)), val.items[i]!)) break;
      }
    } else if (val instanceof GoBytes) {
      for (let i = 0; i < val.bytes.length; i++) {
        ran = true;
        if (!one(new GoInt(BigInt(i)), new GoInt(BigInt(val.bytes[i]!), 'uint8'))) break;
      }
    } else if (val instanceof GoMap) {
      this.env.budget.step(Math.ceil(val.entries.size / 8));
      // A snapshot of the pairs, as Go's fmtsort.Sort takes: the body may change the map (unset).
      const pairs = [...val.entries].sort((x, y) => compareBytes(x[0], y[0]));
      for (const [k, v] of pairs) {
        ran = true;
        if (!one(k, v)) break;
      }
    } else if (val === MISSING || val === null) {
      // A nil map or slice: not an error.
    } else {
      // Go adds the value ("range can't iterate over %v"): withheld, it would quote the plaintext.
      this.errorf("range can't iterate over");
    }
    if (!ran && r.elseList) this.walk(dot, r.elseList, out);
    this.pop(outer);
  }

  walkTemplate(dot: GoValue, t: Node & { t: 'template' }, out: Out): void {
    this.at(t);
    const tree = this.env.trees.get(t.name);
    if (!tree) this.errorf(`template ${goQuote(t.name)} not defined`);
    if (this.depth >= MAX_TEMPLATE_DEPTH) {
      // Not recoverable: stopping here is what bounds the recursion.
      const e = new ExecError(`template: ${this.env.item}:${location(this.env.source, t.pos)}: executing ${goQuote(this.tmpl)} at <${nodeString(t)}>: exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
      throw new DepthExceeded(e.message);
    }
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : MISSING;
    const saved = { vars: this.vars, tmpl: this.tmpl };
    this.vars = [{ name: '$', value: newDot }];
    this.tmpl = tree.name;
    this.depth++;
    try {
      this.walk(newDot, tree.root, out);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.tmpl = saved.tmpl;
    }
  }

  // ---- pipelines ----

  evalPipeline(dot: GoValue, pipe: Pipe): GoValue {
    this.at(pipe);
    let value: GoValue | undefined;
    for (const cmd of pipe.cmds) {
      let v: GoValue;
      try {
        v = this.evalCommand(dot, cmd, value);
      } catch (e) {
        v = this.recover(e);
      }
      // A nil interface result is the invalid value (text/template's "lovely!").
      value = v === null ? MISSING : v;
    }
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.name, value!);
      else this.vars.push({ name: d.name, value: value! });
    }
    return value!;
  }

  notAFunction(args: Arg[], final: GoValue | undefined): void {
    if (args.length > 1 || final !== undefined) this.errorf(`can't give argument to non-function ${argString(args[0]!)}`);
  }

  evalCommand(dot: GoValue, cmd: Cmd, final: GoValue | undefined): GoValue {
    this.env.budget.step();
    const first = cmd.args[0]!;
    switch (first.t) {
      case 'field':
        this.at(first);
        return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case 'chain': {
        this.at(first);
        const recv = this.evalArgValue(dot, first.node);
        return this.evalFieldChain(dot, recv, first, first.fields, cmd.args, final);
      }
      case 'ident':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'var':
        return this.evalVariable(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.t) {
      case 'bool': return first.v;
      case 'dot': return dot;
      case 'nil': return this.errorf('nil is not a command');
      case 'number': return this.idealConstant(first);
      case 'string': return first.text;
    }
    return this.errorf(`can't evaluate command ${goQuote(argString(first))}`);
  }

  idealConstant(n: Arg & { t: 'number' }): GoValue {
    this.at(n);
    const t = n.n.text;
    const isHexInt = /^[+-]?0[xX]/.test(t) && !/[pP]/.test(t);
    const isRune = t.startsWith("'");
    if (n.n.isFloat && !isHexInt && !isRune && /[.eEpP]/.test(t)) return new GoFloat(n.n.float);
    if (n.n.isInt) return new GoInt(n.n.int);
    return this.errorf(`${t} overflows int`);
  }

  evalVariable(dot: GoValue, v: Arg & { t: 'var' }, args: Arg[] | null, final: GoValue | undefined): GoValue {
    this.at(v);
    const value = this.varValue(v.idents[0]!);
    if (v.idents.length === 1) {
      if (args) this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.idents.slice(1), args, final);
  }

  evalFieldChain(dot: GoValue, receiver: GoValue, node: Arg, idents: string[], args: Arg[] | null, final: GoValue | undefined): GoValue {
    const n = idents.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, idents[i]!, node, null, undefined, receiver);
    return this.evalField(dot, idents[n - 1]!, node, args, final, receiver);
  }

  evalField(dot: GoValue, name: string, node: Arg, args: Arg[] | null, final: GoValue | undefined, receiver: GoValue): GoValue {
    this.env.budget.step();
    if (receiver === MISSING) return MISSING;
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = (args !== null && args.length > 1) || final !== undefined;
    if (receiver instanceof GoObject) {
      const argv: GoValue[] = [];
      if (args) for (const a of args.slice(1)) argv.push(this.evalArgValue(dot, a));
      if (final !== undefined) argv.push(final);
      let r: GoValue | undefined;
      try {
        r = receiver.field(name, argv, this.env.fctx);
      } catch (e) {
        if (e instanceof FuncError) {
          this.at(node);
          this.errorf(`error calling ${name}`);
        }
        throw e;
      }
      if (r !== undefined) return r;
    }
    if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      const r = receiver.entries.get(name);
      return r === undefined ? MISSING : r;
    }
    // Go adds " in type T": the type can follow from the values (default), so it is withheld.
    return this.errorf(`can't evaluate field ${name}`);
  }

  /** The value of an argument node, untyped (as evalEmptyInterface / reflect.Value params get it). */
  evalArgValue(dot: GoValue, n: Arg): GoValue {
    this.env.budget.step();
    this.at(n);
    switch (n.t) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'field': return this.evalFieldChain(dot, dot, n, n.idents, null, undefined);
      case 'var': return this.evalVariable(dot, n, null, undefined);
      case 'pipe': return this.evalPipeline(dot, n);
      case 'ident': return this.evalFunction(dot, n, n, null, undefined);
      case 'chain': {
        const recv = this.evalArgValue(dot, n.node);
        return this.evalFieldChain(dot, recv, n, n.fields, null, undefined);
      }
      case 'bool': return n.v;
      case 'string': return n.text;
      case 'number': return this.idealConstant(n);
    }
  }

  /** evalArg: an argument converted to a declared parameter type. */
  evalArg(dot: GoValue, p: GoParam, n: Arg): GoValue {
    this.at(n);
    switch (n.t) {
      case 'nil':
      case 'bool':
      case 'string':
      case 'number':
        this.env.budget.step();
    }
    switch (n.t) {
      case 'nil':
        if (CAN_BE_NIL(p)) return zeroFor(p);
        return this.errorf(`cannot assign nil to ${typeOfParam(p)}`);
      case 'bool':
        if (p === 'bool' || p === 'interface {}') return n.v;
        return this.errorf(`expected ${p === 'string' ? 'string' : kindWord(p)}; found ${argString(n)}`);
      case 'string':
        if (p === 'string' || p === 'interface {}') return n.text;
        return this.errorf(`expected ${kindWord(p)}; found ${argString(n)}`);
      case 'number':
        if (p === 'interface {}') return this.idealConstant(n);
        if (p === 'float64') {
          if (n.n.isFloat) return new GoFloat(n.n.float);
          return this.errorf(`expected float; found ${argString(n)}`);
        }
        if (isIntParam(p)) {
          if (p.startsWith('u')) {
            if (n.n.isUint) return new GoInt(n.n.int, p as GoInt['type']);
            return this.errorf(`expected unsigned integer; found ${argString(n)}`);
          }
          if (n.n.isInt) return new GoInt(n.n.int, p as GoInt['type']);
          return this.errorf(`expected integer; found ${argString(n)}`);
        }
        return this.errorf(`expected ${kindWord(p)}; found ${argString(n)}`);
    }
    return this.validateType(this.evalArgValue(dot, n), p);
  }

  validateType(v: GoValue, p: GoParam): GoValue {
    if (v === MISSING || v === null) {
      if (CAN_BE_NIL(p)) return zeroFor(p);
      return this.errorf(`invalid value; expected ${typeOfParam(p)}`);
    }
    // Go adds "; got T": withheld (the type can follow from the values).
    if (!assignable(v, p)) this.errorf(`wrong type for value; expected ${typeOfParam(p)}`);
    return v;
  }

  evalFunction(dot: GoValue, node: Arg & { t: 'ident' }, cmd: Arg | Cmd, args: Arg[] | null, final: GoValue | undefined): GoValue {
    this.at(node);
    const f = lookupFunc(node.name);
    if (!f) return this.errorf(`${goQuote(node.name)} is not a defined function`);
    return this.evalCall(dot, f, cmd, node.name, args ? args.slice(1) : [], final);
  }

  evalCall(dot: GoValue, f: Found, cmd: Arg | Cmd, name: string, args: Arg[], final: GoValue | undefined): GoValue {
    this.env.budget.step();
    const numIn = args.length + (final !== undefined ? 1 : 0);
    const arity = arityOf(f);
    if (arity.variadic) {
      if (numIn < arity.fixed) this.errorf(`wrong number of args for ${name}: want at least ${arity.fixed} got ${args.length}`);
    } else if (numIn !== arity.fixed) this.errorf(`wrong number of args for ${name}: want ${arity.fixed} got ${numIn}`);

    if (f.kind === 'builtin' && (name === 'and' || name === 'or')) {
      let v: GoValue = MISSING;
      for (const a of args) {
        v = this.evalArgValue(dot, a);
        if (isTrue(v) === (name === 'or')) return v;
      }
      if (final !== undefined) v = final;
      return v;
    }
    const argv: GoValue[] = [];
    if (f.kind === 'builtin') {
      const b = f.builtin;
      args.forEach((a, i) => {
        const p = i < b.params.length ? b.params[i]! : b.variadic!;
        argv.push(p === 'reflect.Value' ? this.evalArgValue(dot, a) : this.evalArg(dot, p, a));
      });
      if (final !== undefined) {
        const i = argv.length;
        const p = i < b.params.length ? b.params[i]! : b.variadic!;
        argv.push(p === 'reflect.Value' ? final : this.validateType(final, p));
      }
      try {
        return b.fn(this, argv);
      } catch (e) {
        if (e instanceof FuncError) {
          this.at(cmd);
          this.errorf(`error calling ${name}`);
        }
        throw e;
      }
    }
    const spec = f.spec;
    args.forEach((a, i) => argv.push(this.evalArg(dot, i < spec.params.length ? spec.params[i]! : spec.variadic!, a)));
    if (final !== undefined) {
      const i = argv.length;
      argv.push(this.validateType(final, i < spec.params.length ? spec.params[i]! : spec.variadic!));
    }
    try {
      return spec.fn(this.env.fctx, argv);
    } catch (e) {
      if (e instanceof FuncError) {
        this.at(cmd);
        this.errorf(`error calling ${name}`);
      }
      throw e;
    }
  }
}

class DepthExceeded extends BudgetExceeded {}

function isIntParam(p: string): boolean {
  return /^u?int(8|16|32|64|ptr)?$/.test(p);
}

function kindWord(p: string): string {
  if (p === 'bool') return 'bool';
  if (p === 'string') return 'string';
  if (p === 'float64') return 'float';
  if (isIntParam(p)) return p.startsWith('u') ? 'unsigned integer' : 'integer';
  return typeOfParam(p);
}

export function arityOf(f: Found): { fixed: number; variadic: boolean } {
  const s = f.kind === 'builtin' ? f.builtin : f.spec;
  return { fixed: s.params.length, variadic: s.variadic !== undefined };
}

/** The rendered bytes, charged as written and capped per value. */
export class Out {
  parts: string[] = [];
  size = 0;
  over = false;
  constructor(readonly max: number) {}
  /** `budget` given: charge the bytes first (formatValue has already charged what it built). */
  write(s: string, budget: TemplateBudget | null): void {
    if (budget) budget.produce(s.length);
    this.size += s.length;
    if (this.size > this.max) this.over = true;
    else this.parts.push(s);
  }
}

export interface ExecResult {
  output: string;
  failed: Error | undefined;
  over: boolean;
}

/** Executes the item's template over the root value. Throws EvalError for a spent budget or the recursion limit. */
export function execute(env: ExecEnv, root: GoValue, maxOutput: number): ExecResult {
  const s = new State(env, root);
  const out = new Out(maxOutput);
  const tree = env.trees.get(env.item);
  try {
    if (tree) s.walk(root, tree.root, out);
  } catch (e) {
    // The first failure is the one Go would report (what came after it ran on a stand-in).
    if (e instanceof RangeError) throw s.failed ?? new EngineError('the templates nest too deeply to render');
    if (e instanceof EvalError) throw s.failed ?? e;
    throw e;
  }
  return { output: out.parts.join(''), failed: s.failed, over: out.over };
}

// ---- static checks (ERR_TEMPLATE): what the template text alone shows ----

/**
 * Go raises these while executing, but they follow from the template alone, so they are
 * reported whatever the values are (and before any value is used): wrong argument counts,
 * literal arguments of the wrong type, nil as a command, arguments to a literal, undefined
 * templates, assignment to an undeclared variable, arguments to a field of the root map.
 */
export function check(item: string, source: string, trees: Map<string, Tree>): void {
  for (const tree of trees.values()) {
    const fail = (n: AnyNode, msg: string): never => {
      throw new TemplateError(`template: ${item}:${location(source, posOf(n))}: executing ${goQuote(tree.name)} at <${contextOf(n)}>: ${msg}`);
    };
    const literalFits = (a: Arg, p0: GoParam | 'reflect.Value'): string | null => {
      const p = p0 as GoParam;
      return literalFits0(a, p);
    };
    const literalFits0 = (a: Arg, p: string): string | null => {
      switch (a.t) {
        case 'nil': return CAN_BE_NIL(p) || p === 'reflect.Value' ? null : `cannot assign nil to ${typeOfParam(p)}`;
        case 'bool': return p === 'bool' || p === 'interface {}' || p === 'reflect.Value' ? null : `expected ${kindWord(p)}; found ${argString(a)}`;
        case 'string': return p === 'string' || p === 'interface {}' || p === 'reflect.Value' ? null : `expected ${kindWord(p)}; found ${argString(a)}`;
        case 'number': {
          const t = a.n.text;
          if (p === 'interface {}' || p === 'reflect.Value') {
            const isHexInt = /^[+-]?0[xX]/.test(t) && !/[pP]/.test(t);
            if (a.n.isFloat && !isHexInt && !t.startsWith("'") && /[.eEpP]/.test(t)) return null;
            return a.n.isInt ? null : `${t} overflows int`;
          }
          if (p === 'float64') return a.n.isFloat ? null : `expected float; found ${t}`;
          if (isIntParam(p)) return (p.startsWith('u') ? a.n.isUint : a.n.isInt) ? null : `expected ${kindWord(p)}; found ${t}`;
          return `expected ${kindWord(p)}; found ${t}`;
        }
      }
      return null;
    };
    const checkCall = (ident: Arg & { t: 'ident' }, args: Arg[], hasFinal: boolean, cmd: Cmd | null) => {
      const f = lookupFunc(ident.name)!;
      const { fixed, variadic } = arityOf(f);
      const numIn = args.length + (hasFinal ? 1 : 0);
      if (variadic ? numIn < fixed : numIn !== fixed) {
        fail(ident, variadic ? `wrong number of args for ${ident.name}: want at least ${fixed} got ${args.length}` : `wrong number of args for ${ident.name}: want ${fixed} got ${numIn}`);
      }
      const s = f.kind === 'builtin' ? f.builtin : f.spec;
      args.forEach((a, i) => {
        const p = (i < s.params.length ? s.params[i] : s.variadic) as GoParam | 'reflect.Value';
        const why = literalFits(a, p);
        if (why) fail(a, why);
        checkArg(a);
      });
      void cmd;
    };
    const checkArg = (a: Arg) => {
      if (a.t === 'pipe') checkPipe(a, false);
      else if (a.t === 'ident') checkCall(a, [], false, null);
      else if (a.t === 'chain') checkArg(a.node);
      else if (a.t === 'number' && literalFits(a, 'interface {}')) fail(a, literalFits(a, 'interface {}')!);
    };
    const checkPipe = (p: Pipe, dotIsRoot: boolean) => {
      p.cmds.forEach((c, ci) => {
        const first = c.args[0]!;
        const hasFinal = ci > 0;
        if (first.t === 'ident') return checkCall(first, c.args.slice(1), hasFinal, c);
        if (first.t === 'nil') fail(first, 'nil is not a command');
        if ((first.t === 'bool' || first.t === 'string' || first.t === 'number' || first.t === 'dot') && (c.args.length > 1 || hasFinal)) fail(first, `can't give argument to non-function ${argString(first)}`);
        if (first.t === 'number') checkArg(first);
        if (first.t === 'field' && first.idents.length === 1 && dotIsRoot && (c.args.length > 1 || hasFinal)) fail(first, `${first.idents[0]} is not a method but has arguments`);
        if (first.t === 'var' && first.idents.length === 2 && first.idents[0] === '$' && tree.name === item && (c.args.length > 1 || hasFinal)) fail(first, `${first.idents[1]} is not a method but has arguments`);
        if (first.t === 'pipe' && (c.args.length > 1 || hasFinal)) fail(first, `can't give argument to non-function ${argString(first)}`);
        for (const a of c.args.slice(first.t === 'pipe' || first.t === 'chain' ? 0 : 1)) checkArg(a);
        if (first.t === 'chain') checkArg(first.node);
      });
    };
    const walk = (list: Node[], dotIsRoot: boolean) => {
      for (const n of list) {
        switch (n.t) {
          case 'action': checkPipe(n.pipe, dotIsRoot); break;
          case 'if':
          case 'with':
          case 'range':
            checkPipe(n.pipe, dotIsRoot);
            walk(n.list, n.t === 'if' && dotIsRoot);
            if (n.elseList) walk(n.elseList, dotIsRoot);
            break;
          case 'template':
            if (!trees.has(n.name)) fail(n, `template ${goQuote(n.name)} not defined`);
            if (n.pipe) checkPipe(n.pipe, dotIsRoot);
            break;
        }
      }
    };
    walk(tree.root, tree.name === item);
  }
}

// ---- builtins (text/template funcs.go) ----

type BuiltinParam = GoParam | 'reflect.Value';
export interface BuiltinSpec {
  params: readonly BuiltinParam[];
  variadic?: BuiltinParam | undefined;
  fn: (s: State, args: GoValue[]) => GoValue;
}

const ERR_BAD_TYPE = 'invalid type for comparison';
const ERR_BAD_CMP = 'incompatible types for comparison';
const ERR_NO_CMP = 'missing argument for comparison';

type Kind = 'bool' | 'int' | 'uint' | 'float' | 'string' | 'invalid' | 'other';
function basicKind(v: GoValue): Kind {
  if (v === null || v === MISSING) return 'invalid';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (v instanceof GoInt) return v.type.startsWith('u') ? 'uint' : 'int';
  if (v instanceof GoFloat) return 'float';
  return 'other';
}

function scalarEq(s: State, a: GoValue, b: GoValue, k: Kind): boolean {
  switch (k) {
    case 'bool': return a === b;
    case 'int':
    case 'uint': return (a as GoInt).v === (b as GoInt).v;
    case 'float': return (a as GoFloat).v === (b as GoFloat).v;
    case 'string':
      s.env.budget.scan(Math.min((a as string).length, (b as string).length));
      return a === b;
  }
  return false;
}

function eqOne(s: State, a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 !== k2) {
    if ((k1 === 'int' && k2 === 'uint') || (k1 === 'uint' && k2 === 'int')) return (a as GoInt).v === (b as GoInt).v;
    if (k1 !== 'invalid' && k2 !== 'invalid') throw new FuncError(ERR_BAD_CMP);
    return false;
  }
  if (k1 === 'invalid') return true;
  if (k1 === 'other') {
    if (a instanceof GoObject && b instanceof GoObject) return a.type === b.type && a.format() === b.format();
    throw new FuncError('non-comparable type');
  }
  return scalarEq(s, a, b, k1);
}

function ltOne(s: State, a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  if (k1 === 'invalid' || k1 === 'other') throw new FuncError(ERR_BAD_TYPE);
  const k2 = basicKind(b);
  if (k2 === 'invalid' || k2 === 'other') throw new FuncError(ERR_BAD_TYPE);
  if (k1 !== k2) {
    if ((k1 === 'int' && k2 === 'uint') || (k1 === 'uint' && k2 === 'int')) return (a as GoInt).v < (b as GoInt).v;
    throw new FuncError(ERR_BAD_CMP);
  }
  switch (k1) {
    case 'bool': throw new FuncError(ERR_BAD_TYPE);
    case 'float': return (a as GoFloat).v < (b as GoFloat).v;
    case 'int':
    case 'uint': return (a as GoInt).v < (b as GoInt).v;
    case 'string':
      s.env.budget.scan(Math.min((a as string).length, (b as string).length));
      return (a as string) < (b as string);
  }
  return false;
}

function evalArgsString(s: State, args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args, s.env.budget);
}

function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\xef\xbf\xbd' })[c]!);
}

function jsEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      const [r, size] = decodeRune(s, i);
      out += isPrint(r) && !(size === 1 && r === 0xfffd) ? s.slice(i, i + size) : '\\u' + r.toString(16).toUpperCase().padStart(4, '0');
      i += size - 1;
      continue;
    }
    switch (s[i]) {
      case '\\': out += '\\\\'; break;
      case "'": out += "\\'"; break;
      case '"': out += '\\"'; break;
      case '<': out += '\\u003C'; break;
      case '>': out += '\\u003E'; break;
      case '&': out += '\\u0026'; break;
      case '=': out += '\\u003D'; break;
      default: out += c < 0x20 ? '\\u00' + c.toString(16).toUpperCase().padStart(2, '0') : s[i];
    }
  }
  return out;
}

function queryEscape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + s.charCodeAt(i).toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function grown(s: State, input: string, factor: number, f: (x: string) => string): string {
  s.env.budget.scan(input.length);
  s.env.budget.reserve(input.length * factor);
  const r = f(input);
  s.env.budget.produce(r.length);
  return r;
}

function indexArg(v: GoValue, cap: number): number {
  if (v === null || v === MISSING) throw new FuncError('cannot index slice/array with nil');
  if (!(v instanceof GoInt)) throw new FuncError(`cannot index slice/array with type ${typeName(v)}`);
  const x = v.v;
  if (x < 0n || x >= BigInt(cap)) throw new FuncError(`index out of range: ${x}`);
  return Number(x);
}

export const BUILTINS: Readonly<Record<string, BuiltinSpec>> = {
  and: { params: ['reflect.Value'], variadic: 'reflect.Value', fn: () => MISSING },
  or: { params: ['reflect.Value'], variadic: 'reflect.Value', fn: () => MISSING },
  not: { params: ['reflect.Value'], fn: (_s, [a]) => !isTrue(a!) },
  call: {
    params: ['reflect.Value'],
    variadic: 'reflect.Value',
    fn: (_s, [f]) => {
      if (f === null || f === MISSING) throw new FuncError('call of nil');
      throw new FuncError(`non-function of type ${typeName(f!)}`);
    },
  },
  len: {
    params: ['reflect.Value'],
    fn: (_s, [a]) => {
      if (a === null || a === MISSING) throw new FuncError('reflect: call of reflect.Value.Type on zero Value');
      if (typeof a === 'string') return new GoInt(BigInt(a.length));
      if (a instanceof GoSlice) return new GoInt(BigInt(a.items.length));
      if (a instanceof GoMap) return new GoInt(BigInt(a.entries.size));
      if (a instanceof GoBytes) return new GoInt(BigInt(a.bytes.length));
      throw new FuncError(`len of type ${typeName(a!)}`);
    },
  },
  index: {
    params: ['reflect.Value'],
    variadic: 'reflect.Value',
    fn: (s, [item, ...indexes]) => {
      let v: GoValue = item!;
      if (v === null || v === MISSING) throw new FuncError('index of untyped nil');
      for (const ix of indexes) {
        s.env.budget.step();
        if (v === null || v === MISSING) throw new FuncError('index of nil pointer');
        if (typeof v === 'string') v = new GoInt(BigInt(v.charCodeAt(indexArg(ix, v.length))), 'uint8');
        else if (v instanceof GoBytes) v = new GoInt(BigInt(v.bytes[indexArg(ix, v.bytes.length)]!), 'uint8');
        else if (v instanceof GoSlice) v = v.items[indexArg(ix, v.items.length)]!;
        else if (v instanceof GoMap) {
          if (ix === null || ix === MISSING) throw new FuncError('value is nil; should be of type string');
          if (typeof ix !== 'string') throw new FuncError(`value has type ${typeName(ix)}; should be string`);
          s.env.budget.scan(ix.length);
          const r = v.entries.get(ix);
          v = r === undefined ? v.zero : r;
        } else throw new FuncError(`can't index item of type ${typeName(v)}`);
      }
      return v;
    },
  },
  print: { params: [], variadic: 'interface {}', fn: (s, a) => sprint(a, s.env.budget) },
  println: { params: [], variadic: 'interface {}', fn: (s, a) => sprintln(a, s.env.budget) },
  printf: { params: ['string'], variadic: 'interface {}', fn: (s, [f, ...a]) => sprintf(f as string, a, s.env.budget) },
  html: { params: [], variadic: 'interface {}', fn: (s, a) => grown(s, evalArgsString(s, a), 6, htmlEscape) },
  js: { params: [], variadic: 'interface {}', fn: (s, a) => grown(s, evalArgsString(s, a), 6, jsEscape) },
  urlquery: { params: [], variadic: 'interface {}', fn: (s, a) => grown(s, evalArgsString(s, a), 3, queryEscape) },
  eq: {
    params: ['reflect.Value'],
    variadic: 'reflect.Value',
    fn: (s, [a, ...rest]) => {
      if (rest.length === 0) throw new FuncError(ERR_NO_CMP);
      for (const b of rest) if (eqOne(s, a!, b)) return true;
      return false;
    },
  },
  ne: { params: ['reflect.Value', 'reflect.Value'], fn: (s, [a, b]) => !eqOne(s, a!, b!) },
  lt: { params: ['reflect.Value', 'reflect.Value'], fn: (s, [a, b]) => ltOne(s, a!, b!) },
  le: { params: ['reflect.Value', 'reflect.Value'], fn: (s, [a, b]) => ltOne(s, a!, b!) || eqOne(s, a!, b!) },
  gt: { params: ['reflect.Value', 'reflect.Value'], fn: (s, [a, b]) => !(ltOne(s, a!, b!) || eqOne(s, a!, b!)) },
  ge: { params: ['reflect.Value', 'reflect.Value'], fn: (s, [a, b]) => !ltOne(s, a!, b!) },
};

export type { Builtin };
void pipeString;

/** Every function name a template calls, once per call site (the static count of expensive sites uses it). */
export function callSites(trees: Map<string, Tree>): { name: string; literal?: string }[] {
  const names: { name: string; literal?: string }[] = [];
  const arg = (a: Arg): void => {
    if (a.t === 'ident') names.push({ name: a.name });
    else if (a.t === 'pipe') pipe(a);
    else if (a.t === 'chain') arg(a.node);
  };
  const pipe = (p: Pipe): void => {
    for (const c of p.cmds) {
      const [first, second] = c.args;
      // A call's first argument when it is a string literal (genPrivateKey "ecdsa").
      if (first?.t === 'ident') names.push(second?.t === 'string' ? { name: first.name, literal: second.text } : { name: first.name });
      for (const a of c.args.slice(first?.t === 'ident' ? 1 : 0)) arg(a);
    }
  };
  const list = (l: Node[]): void => {
    for (const n of l) {
      if (n.t === 'action') pipe(n.pipe);
      else if (n.t === 'if' || n.t === 'with' || n.t === 'range') {
        pipe(n.pipe);
        list(n.list);
        if (n.elseList) list(n.elseList);
      } else if (n.t === 'template' && n.pipe) pipe(n.pipe);
    }
  };
  for (const t of trees.values()) list(t.root);
  return names;
}
