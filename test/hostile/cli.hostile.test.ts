/**
 * Hostile input for kubeseal, in-process through its injectable I/O: every case
 * ends in success or one clear error line, never a crash, a stack trace, output on
 * stdout after a failure, or an echo of the input's secret marker.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { runKubeseal } from '../../cli/app.js';
import type { CliIo } from '../../cli/io.js';
import { tempDir } from '../cli-helpers.js';
import { vectorKeys } from '../vectors.js';
import { MARKER, brokenDocument } from './generators.js';

let dir: string;
export const counted = { cli: 0 };

function io(stdin: string | Uint8Array): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    readStdin: async () => Buffer.from(stdin),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    writeStdout: (s) => void out.push(typeof s === 'string' ? s : s.toString('utf8')),
    writeStderr: (s) => void err.push(s),
    env: {},
    cwd: dir,
    now: () => new Date('2026-06-01T00:00:00Z'),
  };
}

async function check(args: string[], stdin: string | Uint8Array): Promise<void> {
  const x = io(stdin);
  const code = await runKubeseal(args, x);
  counted.cli++;
  const err = x.err.join('');
  expect([0, 1, 2]).toContain(code);
  expect(err.includes(MARKER), `stderr echoes the input: ${err}`).toBe(false);
  if (code !== 0) {
    expect(x.out.join('')).toBe('');
    expect(err).toMatch(/^error: [^\n]+\n(Run 'kubeseal --help' for usage\.\n)?$/);
  }
}

beforeAll(() => {
  const k = vectorKeys()[0]!;
  dir = tempDir({ 'cert.pem': k.certPem, 'key.pem': k.privateKeyPem });
  writeFileSync(join(dir, 'target.yaml'), 'apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: t, namespace: n}\nspec:\n  encryptedData: {}\n');
});

describe('kubeseal with hostile input', () => {
  it('seals or refuses 4000 broken documents cleanly', async () => {
    await fc.assert(fc.asyncProperty(brokenDocument, (doc) => check(['--cert', 'cert.pem'], doc)), { numRuns: 4000 });
  }, 300_000);

  it('recovery-unseal refuses 1500 broken SealedSecret streams cleanly', async () => {
    await fc.assert(fc.asyncProperty(brokenDocument, (doc) => check(['--recovery-unseal', '--recovery-private-key', 'key.pem'], doc)), { numRuns: 1500 });
  }, 300_000);

  it('raw mode and merge-into take 500 arbitrary inputs and flag values cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(brokenDocument, fc.string({ maxLength: 20 }), fc.constantFrom('strict', 'namespace-wide', 'cluster-wide', 'bogus'), async (doc, name, scope) => {
        await check(['--cert', 'cert.pem', '--raw', '--name', name || 'x', '-n', 'ns', '--scope', scope], doc);
        writeFileSync(join(dir, 'target.yaml'), 'apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: t, namespace: n}\nspec:\n  encryptedData: {}\n');
        await check(['--cert', 'cert.pem', '--merge-into', 'target.yaml'], doc);
      }),
      { numRuns: 250 },
    );
    console.log(`hostile CLI cases run: ${counted.cli}`);
    expect(counted.cli).toBeGreaterThanOrEqual(6000);
  }, 300_000);
});
