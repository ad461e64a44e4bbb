import { describe, expect, it } from 'vitest';
import { SealedSecretsError } from './errors.js';
import { renderTemplate } from './template.js';

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
    ['{{ if .username }}x{{ end }}', '"if" is not supported'],
    ['{{ range . }}{{ end }}', '"range" is not supported'],
    ['{{ $x := .username }}', 'variables ($x) are not supported'],
    ['{{ env "HOME" }}', 'function "env" is not supported'],
    ['{{ .username ', 'unclosed action'],
    ['{{ .username.first }}', "can't evaluate field first in type string"],
    ['{{ printf "%08d" 1 }}', 'printf: verb %0 is not supported'],
  ])('refuses %j with an error naming the item', (src, msg) => {
    try {
      r(src);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SealedSecretsError);
      expect((e as SealedSecretsError).code).toBe('ERR_TEMPLATE');
      expect((e as SealedSecretsError).message).toContain(`template.data["item"]: ${msg}`);
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
    ['{{ indent 400000000 "a" }}', 'indent: width must be between 0 and 1024'],
    ['{{ ' + '('.repeat(200) + '"a"' + ')'.repeat(200) + ' }}', 'parentheses nested deeper than 50'],
    ['{{ .username }}'.repeat(1) + 'x'.repeat(1024 * 1024 + 1), 'the rendered value is over 1048576 bytes'],
  ])('refuses %#: %s', (src, msg) => {
    expect(() => renderTemplate('k', src, data)).toThrow(msg);
  });
});
