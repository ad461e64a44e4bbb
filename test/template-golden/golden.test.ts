/**
 * Golden outputs from real Go (text/template + Sprig 3.2.3, by gen.go): every case of every
 * cases/*.json renders byte-for-byte as Go rendered it, or fails where Go fails: parse errors and
 * errors the template alone shows as ERR_TEMPLATE, the rest as ERR_VALUE, with Go's message.
 *
 * ERR_VALUE messages are Go's cut before any value-made part (they reach the Secret's annotation,
 * which metadata readers see): ours must be a prefix of Go's.
 *
 * A case may say `"static": true` (Go fails while executing, but the template alone shows it:
 * ERR_TEMPLATE here), `"loose": true` (the message differs from Go's, e.g. our lower recursion
 * limit; the code is still checked), or `"skip": "why"`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SealedSecretsError } from '../../src/errors.js';
import { renderTemplate } from '../../src/template.js';

interface Case {
  name: string;
  template: string;
  data?: Record<string, string>;
  data_b64?: Record<string, string>;
  item?: string;
  static?: boolean;
  loose?: boolean;
  skip?: string;
  /** We refuse this on purpose (ERR_TEMPLATE) where Go renders it. */
  refused?: string;
}
interface Expected {
  name: string;
  output_b64: string;
  error?: string;
  phase?: 'parse' | 'exec';
}

const dir = new URL('.', import.meta.url).pathname;
const files = readdirSync(join(dir, 'cases')).filter((f) => f.endsWith('.json'));

/** 2020-01-02T03:04:05Z: a fixed clock for cases that print times. */
const NOW = Date.UTC(2020, 0, 2, 3, 4, 5);

for (const file of files) {
  const cases: Case[] = JSON.parse(readFileSync(join(dir, 'cases', file), 'utf8'));
  let expected: Expected[] = [];
  try {
    expected = JSON.parse(readFileSync(join(dir, 'expected', file), 'utf8'));
  } catch {
    // Not generated yet: the test below says so.
  }
  const byName = new Map(expected.map((e) => [e.name, e]));
  describe(`golden ${file}`, () => {
    it('has Go outputs for every case (run gen.go)', () => {
      expect(cases.filter((c) => !byName.has(c.name)).map((c) => c.name)).toEqual([]);
    });
    for (const c of cases) {
      const want = byName.get(c.name);
      if (!want) continue;
      it.skipIf(c.skip !== undefined)(c.name, () => {
        const data = new Map<string, Buffer>();
        for (const [k, v] of Object.entries(c.data ?? {})) data.set(k, Buffer.from(v, 'utf8'));
        for (const [k, v] of Object.entries(c.data_b64 ?? {})) data.set(k, Buffer.from(v, 'base64'));
        const item = c.item ?? 'item';
        let got: Buffer | undefined;
        let err: unknown;
        try {
          got = renderTemplate(item, c.template, data, undefined, { now: () => NOW });
        } catch (e) {
          err = e;
        }
        if (c.refused !== undefined) {
          expect((err as SealedSecretsError)?.code, c.refused).toBe('ERR_TEMPLATE');
          return;
        }
        if (want.error === undefined) {
          if (err) throw err;
          expect(got!.toString('latin1')).toBe(Buffer.from(want.output_b64, 'base64').toString('latin1'));
          return;
        }
        expect(err, `Go fails with: ${want.error}; we rendered ${JSON.stringify(got?.toString())}`).toBeInstanceOf(SealedSecretsError);
        const e = err as SealedSecretsError;
        expect(e.code).toBe(want.phase === 'parse' || c.static ? 'ERR_TEMPLATE' : 'ERR_VALUE');
        if (c.loose) return;
        const prefix = `template.data["${item}"]: `;
        expect(e.message.startsWith(prefix)).toBe(true);
        if (e.code === 'ERR_TEMPLATE') expect(e.message).toBe(prefix + want.error);
        // An ERR_VALUE says Go's words up to where Go would quote the values (or a function's own text).
        else expect(want.error.startsWith(e.message.slice(prefix.length)), `Go: ${want.error}\nours: ${e.message}`).toBe(true);
      });
    }
  });
}
