import { describe, expect, it } from 'vitest';
import { SealedSecretsError } from './errors.js';
import { TEMPLATE_LIMITS, TemplateBudget, renderTemplate } from './template.js';

const data = new Map<string, Buffer>([
  ['username', Buffer.from('admin')],
  ['password', Buffer.from('s3cr3t')],
  ['api-key', Buffer.from('k-123')],
  ['bin', Buffer.from([0xff, 0x00, 0xfe])],
]);
const r = (src: string) => renderTemplate('item', src, data).toString('utf8');

describe('template.data rendering (Go text/template subset)', () => {
  it.each([
    ['user={{ .username }}', 'user=admin'],
    ['{{ index . "api-key" }}', 'k-123'],
    ['{{.missing}}|{{ index . "missing" }}', '<no value>|'],
    ['{{ printf "postgres://%s:%s@db" .username .password }}', 'postgres://admin:s3cr3t@db'],
    ['{{ printf "%q %d %%" .username 42 }}', '"admin" 42 %'],
    ['{{ .username | upper }}', 'ADMIN'],
    ['{{ .password | b64enc }}', 'czNjcjN0'],
    ['{{ "czNjcjN0" | b64dec }}', 's3cr3t'],
    ['{{ .missing | default "fallback" }}', 'fallback'],
    ['{{ len .password }}', '6'],
    ['a  {{- .username -}}  b', 'aadminb'],
    ['{{/* a comment */}}x{{- /* trimmed */ -}} y', 'xy'],
    ['{{ print .username "-" .password }}', 'admin-s3cr3t'],
    ['{{ .username | printf "%s!" }}', 'admin!'],
    ['{{ (index . "api-key") | quote }}', '"k-123"'],
    ['{{ `raw {{ }}` }}', 'raw {{ }}'],
    ['line1\n{{ .username | nindent 2 }}', 'line1\n\n  admin'],
    ['{{ replace "3" "e" .password }}', 'secret'],
  ])('%j renders %j', (src, want) => {
    expect(r(src)).toBe(want);
  });

  it('keeps non-UTF-8 values byte-exact', () => {
    expect(renderTemplate('k', '[{{ .bin }}]', data)).toEqual(Buffer.from([0x5b, 0xff, 0x00, 0xfe, 0x5d]));
  });

  it.each([
    ['{{ if .username }}{{ .username }}{{ else }}none{{ end }}', 'admin'],
    ['{{ range $k, $v := . }}{{ if eq $k "api-key" "username" }}{{ $k }}={{ $v }};{{ end }}{{ end }}', 'api-key=k-123;username=admin;'],
    ['{{ $x := .username }}{{ $x }}-{{ $.password }}', 'admin-s3cr3t'],
    ['{{ with .password }}[{{ . }}]{{ end }}', '[s3cr3t]'],
    ['{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" .username }}', '<admin>'],
    ['{{ printf "%08d|%-4s|%x" 42 "ab" 255 }}', '00000042|ab  |ff'],
  ])('%j renders %j (the whole language)', (src, want) => {
    expect(r(src)).toBe(want);
  });

  it.each([
    ['{{ if .username }}x', 'template: item:1: unexpected EOF'],
    ['{{ $x }}', 'template: item:1: undefined variable "$x"'],
    ['{{ env "HOME" }}', 'template: item:1: function "env" not defined'],
    ['{{ expandenv "$HOME" }}', 'template: item:1: function "expandenv" not defined'],
    ['{{ getHostByName "example.com" }}', 'template: item:1: function "getHostByName" not defined'],
    ['{{ .username ', 'template: item:1: unclosed action'],
    ['{{ template "nope" }}', 'template: item:1:12: executing "item" at <{{template "nope"}}>: template "nope" not defined'],
    ['{{ range . }}{{ else }}{{ break }}{{ end }}', 'template: item:1: {{break}} outside {{range}}'],
  ])('refuses %j with an error naming the item', (src, msg) => {
    try {
      r(src);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SealedSecretsError);
      expect((e as SealedSecretsError).code).toBe('ERR_TEMPLATE');
      expect((e as SealedSecretsError).message).toBe(`template.data["item"]: ${msg}`);
    }
  });
});

describe('template limits against hostile input', () => {
  it('trims a long run of spaces in linear time', () => {
    const src = ' '.repeat(200_000) + 'x{{- "y" }}';
    expect(renderTemplate('k', src, data).toString()).toBe(' '.repeat(200_000) + 'xy');
    expect(renderTemplate('k', 'a' + ' '.repeat(200_000) + '{{- "b" -}}' + ' '.repeat(200_000) + 'c', data).toString()).toBe('abc');
  });

  it.each([
    ['{{ indent 400000000 "a" }}', 'the templates would produce more than 2097152 bytes in all'],
    ['{{ printf "%9999999d" 1 }}', 'the templates would produce more than 2097152 bytes in all'],
    ['{{ ' + '('.repeat(200) + '"a"' + ')'.repeat(200) + ' }}', 'parentheses nested deeper than 50'],
    ['{{ .username }}'.repeat(1) + 'x'.repeat(1024 * 1024 + 1), 'the rendered value is over 1048576 bytes'],
  ])('refuses %#: %s', (src, msg) => {
    expect(() => renderTemplate('k', src, data)).toThrow(msg);
  });
});

describe('failures that need no values (ERR_TEMPLATE) and failures that may depend on them (ERR_VALUE)', () => {
  const code = (src: string, d: ReadonlyMap<string, Buffer> = data) => {
    try {
      renderTemplate('item', src, d);
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(SealedSecretsError);
      return (e as SealedSecretsError).code;
    }
  };

  it.each([
    ['{{ upper 5 }}', 'executing "item" at <5>: expected string; found 5'],
    ['{{ replace "a" }}', 'wrong number of args for replace: want 3 got 1'],
    ['{{ .username | replace "a" }}', 'wrong number of args for replace: want 3 got 2'],
    ['{{ printf "%s" upper }}', 'wrong number of args for upper: want 1 got 0'],
    ['{{ if .missing }}{{ indent "x" .username }}{{ end }}', 'expected integer; found "x"'],
    ['{{ .username "x" }}', 'username is not a method but has arguments'],
    ['{{ "x" | .username }}', 'username is not a method but has arguments'],
    ['{{ "x" 1 }}', 'can\'t give argument to non-function "x"'],
    ['{{ nil }}', 'nil is not a command'],
    ['{{ 99999999999999999999 }}', 'integer overflow: "99999999999999999999"'],
  ])('%j is found from the template alone', (src, msg) => {
    expect(code(src)).toBe('ERR_TEMPLATE');
    expect(() => renderTemplate('item', src, data)).toThrow(msg);
  });

  // toString is a Sprig function; the others are Object.prototype names only.
  it.each(['constructor', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'])('%s (an Object.prototype name) is not a function', (fn) => {
    expect(() => renderTemplate('item', `{{ ${fn} "a" }}`, data)).toThrow(`function "${fn}" not defined`);
    expect(code(`{{ ${fn} }}`)).toBe('ERR_TEMPLATE');
  });

  it.each([
    // Go's words, cut before what the values made (fail's text, the type, the value): see exec.ts.
    ['{{ .password | b64dec | upper | fail }}', 'executing "item" at <fail>: error calling fail'],
    ['{{ default 5 .empty | upper }}', 'executing "item" at <upper>: wrong type for value; expected string'],
    ['{{ .username.first }}', 'executing "item" at <.username.first>: can\'t evaluate field first'],
    // Go says "range can't iterate over admin": a value is named, never quoted, even on the Secret.
    ['{{ range .username }}{{ end }}', "range can't iterate over"],
    ['{{ index .username 10 }}x', 'error calling index'],
    ['{{ if eq .username "admin" }}{{ fail "x" }}{{ end }}', 'error calling fail'],
  ])('%j fails on the values: an ERR_VALUE', (src, msg) => {
    const d = new Map([...data, ['empty', Buffer.alloc(0)]]);
    expect(code(src, d)).toBe('ERR_VALUE');
    expect(() => renderTemplate('item', src, d)).toThrow(msg);
  });
});

describe('one rendering budget', () => {
  // The review's bomb: six nested replace inside len render 1 byte after building 268 MB.
  const bomb = '{{ len ' + '(replace "a" "aaaaaaaaaaaaaaaa" '.repeat(6) + '.seed' + ')'.repeat(6) + ' }}';
  const seed = new Map([['seed', Buffer.from('a'.repeat(16))]]);

  it('stops a template whose intermediate values grow past the budget, before allocating them', () => {
    const budget = new TemplateBudget();
    const before = process.memoryUsage().arrayBuffers;
    expect(() => renderTemplate('item', bomb, seed, budget)).toThrow(/more than 2097152 bytes in all/);
    expect(budget.bytes).toBeLessThanOrEqual(TEMPLATE_LIMITS.bytes);
    // 268 MB would have been built; the budget allows 2 MiB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('is shared by all the templates of one SealedSecret', () => {
    const budget = new TemplateBudget();
    const big = new Map([['v', Buffer.alloc(700 * 1024, 'x')]]);
    for (let i = 0; i < 2; i++) renderTemplate(`t${i}`, '{{ .v }}', big, budget);
    expect(() => renderTemplate('t5', '{{ .v }}', big, budget)).toThrow(/more than 2097152 bytes in all/);
  });

  it('bounds the steps of a long template', () => {
    expect(() => renderTemplate('item', '{{ print 1 2 3 4 5 6 7 8 9 }}'.repeat(2_100), data, new TemplateBudget(undefined, undefined, undefined, 60_000))).toThrow(/more than 20000 steps/);
  });

  it('bounds the actions the parser reads, before any value is used (a public error)', () => {
    expect(() => renderTemplate('item', '{{ .username }}'.repeat(10_001), data)).toThrow(/more than 10000 actions in all/);
    try {
      renderTemplate('item', '{{ .username }}'.repeat(10_001), data);
    } catch (e) {
      expect((e as SealedSecretsError).code).toBe('ERR_TEMPLATE');
    }
  });

  it('renders replace byte-exactly, like Go strings.Replace, on non-UTF-8 values', () => {
    expect(renderTemplate('k', '{{ replace "\\x00" "-" .bin }}', data)).toEqual(Buffer.from([0xff, 0x2d, 0xfe]));
    // strings.Replace with an empty old string inserts at every rune boundary, as Go does.
    expect(renderTemplate('k', '{{ replace "" "-" .username }}', data).toString()).toBe('-a-d-m-i-n-');
  });
});
