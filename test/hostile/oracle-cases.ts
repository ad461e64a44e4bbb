/**
 * Value-dependent SealedSecrets for the oracle tests (test/hostile/oracle.hostile.test.ts
 * in-process, test/e2e/oracle.test.ts on the real API server): each is sealed over two
 * plaintexts of the same lengths that a leaky controller would tell apart. In every case,
 * A is the plaintext the values cannot make a Secret from, and B the one they can.
 */
import type { KeyObject } from 'node:crypto';
import { sealSecret, type SealedSecret } from '../../src/index.js';

/** A value-dependent case: the same SealedSecret shape, sealed over plaintexts A and B. */
export interface OracleCase {
  name: string;
  /** Items to seal; `A` and `B` have the same lengths. */
  A: Record<string, string>;
  B: Record<string, string>;
  template?: { type?: string; data?: Record<string, string> };
}

const big = 300 * 1024;
export const ORACLE_CASES: OracleCase[] = [
  {
    // The review's attack: the output grows past the cap only when the guess is a prefix.
    name: 'prefix guess through replace and the output cap',
    A: { password: 'hunter2-xyz' },
    B: { password: 'qwerty9-xyz' },
    template: { data: { probe: `{{ replace "x" "${'x'.repeat(1000)}" (replace "§hunter2" "${'x'.repeat(1100)}" (print "§" .password)) }}` } },
  },
  {
    // Sprig's b64dec returns its error text rather than failing (as Go's does): the probe fails on it.
    name: 'b64dec of a value that is or is not base64',
    A: { password: 'YW!jZA==' },
    B: { password: 'YWJjZA==' },
    template: { data: { probe: '{{ $d := .password | b64dec }}{{ if hasPrefix "illegal base64" $d }}{{ fail "not base64" }}{{ end }}{{ $d }}' } },
  },
  {
    name: 'a type that depends on default over an emptied value',
    A: { password: 'a' },
    B: { password: 'b' },
    template: { data: { probe: '{{ default 5 (trimPrefix "a" .password) | upper }}' } },
  },
  {
    // printf %d of a string prints %!d(string=...) as Go does; an int parameter fails on it instead.
    name: 'an int parameter over a value-dependent operand',
    A: { password: 'b' },
    B: { password: 'a' },
    template: { data: { probe: '{{ repeat (default 1 (trimPrefix "a" .password)) "x" }}' } },
  },
  {
    name: 'the nested-replace memory bomb seeded by the value',
    A: { password: 'aaaaaaaaaaaaaaaa' },
    B: { password: 'bbbbbbbbbbbbbbbb' },
    template: { data: { probe: '{{ len ' + '(replace "a" "aaaaaaaaaaaaaaaa" '.repeat(6) + '.password' + ')'.repeat(6) + ' }}' } },
  },
  {
    name: "the Secret's total size past Kubernetes' limit through a template",
    A: { blob: 'a'.repeat(big), other: 'c'.repeat(big) },
    B: { blob: 'b'.repeat(big), other: 'c'.repeat(big) },
    template: { data: { grown: '{{ replace "a" "aa" .blob }}' } },
  },
  {
    name: 'a docker config that is or is not JSON',
    A: { '.dockerconfigjson': '{"auths":{}]' },
    B: { '.dockerconfigjson': '{"auths":{}}' },
    template: { type: 'kubernetes.io/dockerconfigjson' },
  },
];

export function sealCase(c: OracleCase, variant: 'A' | 'B', ns: string, name: string, publicKey: KeyObject): SealedSecret {
  const ss = sealSecret({ metadata: { name, namespace: ns }, type: c.template?.type, stringData: c[variant] }, { publicKey });
  if (c.template?.data) ss.spec.template = { ...ss.spec.template, data: c.template.data };
  return ss;
}

