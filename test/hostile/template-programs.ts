/**
 * Template programs in the whole language (Go text/template + Sprig): control flow (if / else if /
 * with / range / break / continue), variables, define / template / block, comparisons, printf
 * verbs and widths, lists and dicts, functions that fail on some values (fail, atoi, b64dec,
 * index out of range, wrong types), and names that must not resolve (env, expandenv,
 * getHostByName, Object.prototype members). Used by template.hostile.test.ts over twin values.
 */
import fc from 'fast-check';
import { MARKER } from './generators.js';

const FUNCS = [
  'print', 'printf', 'len', 'index', 'not', 'and', 'or', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'html', 'js', 'urlquery',
  'upper', 'lower', 'trim', 'quote', 'b64enc', 'b64dec', 'replace', 'default', 'indent', 'nindent', 'repeat', 'atoi', 'int',
  'list', 'dict', 'toJson', 'fromJson', 'first', 'splitList', 'join', 'fail', 'until', 'sha256sum', 'regexMatch', 'substr', 'trunc', 'cat',
];
const REFUSED = ['env', 'getHostByName', 'constructor'];

export const fullTemplateProgram: fc.Arbitrary<string> = (() => {
  const lit = fc.oneof(
    { arbitrary: fc.constantFrom('"a"', '"aaaaaaaaaaaaaaaa"', '"§"', '""', '"YWJj"', '"%s%d%q%x%v"', '"%08d"', '"%-9999s"', '"%.3f"', '`raw`', '"\\n"', '"a,b,c"', '"[1,2]"', `"${MARKER}"`), weight: 50 },
    { arbitrary: fc.constantFrom('0', '1', '5', '-1', '2000', '1024', '1.5', '0x10', "'a'", 'true', 'false', 'nil'), weight: 50 },
    { arbitrary: fc.constantFrom('99999999999999999999', '1i', '0x'), weight: 1 },
  );
  const leaf = fc.oneof(fc.constantFrom('.password', '.user', '.bin', '.missing', '.', '$', '$x', '$.user', '(index . "password")', '.user.x'), lit);
  const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...FUNCS), weight: 60 }, { arbitrary: fc.constantFrom(...REFUSED), weight: 1 }), fc.array(tie('e'), { maxLength: 3 })).map(([f, args]) => `(${[f, ...args].join(' ')})`),
      fc.tuple(tie('e'), fc.constantFrom(...FUNCS), fc.array(tie('e'), { maxLength: 2 })).map(([x, f, args]) => `(${x} | ${[f, ...args].join(' ')})`),
    ),
  })).e;
  const body: fc.Arbitrary<string> = fc.letrec((tie) => ({
    b: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('text ', '\n', '', '{{ . }}', '{{ $x }}', '{{ $.password }}', '{{/* c */}}'),
      expr.map((e) => `{{ ${e} }}`),
      expr.map((e) => `{{- ${e} -}}`),
      expr.map((e) => `{{ $x := ${e} }}`),
      expr.map((e) => `{{ $x = ${e} }}`),
      fc.tuple(expr, tie('b'), tie('b')).map(([c, a, b]) => `{{ if ${c} }}${a}{{ else }}${b}{{ end }}`),
      fc.tuple(expr, tie('b'), expr, tie('b')).map(([c, a, c2, b]) => `{{ if ${c} }}${a}{{ else if ${c2} }}${b}{{ end }}`),
      fc.tuple(expr, tie('b')).map(([c, a]) => `{{ with ${c} }}${a}{{ end }}`),
      fc.tuple(expr, tie('b'), tie('b'), expr).map(([c, a, b, c2]) => `{{ range $i, $e := ${c} }}${a}{{ if ${c2} }}{{ break }}{{ else }}{{ continue }}{{ end }}{{ else }}${b}{{ end }}`),
      fc.tuple(expr, tie('b')).map(([c, a]) => `{{ range ${c} }}${a}{{ end }}`),
      fc.tuple(fc.constantFrom('"d1"', '"d2"'), expr).map(([n, e]) => `{{ template ${n} ${e} }}`),
      fc.tuple(tie('b'), tie('b')).map(([a, b]) => `${a as string}${b as string}`),
    ),
  })).b;
  const defs = fc.array(body, { maxLength: 2 }).map((ds) => ds.map((b, i) => `{{ define "d${i + 1}" }}{{ $x := . }}${b}{{ end }}`).join(''));
  // $x is declared first, so that most programs get past the parser and run.
  return fc.tuple(defs, fc.array(body, { minLength: 1, maxLength: 4 })).map(([d, bs]) => d + '{{ $x := .user }}' + bs.join(''));
})();
