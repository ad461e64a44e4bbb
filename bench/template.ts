/**
 * The rendering budget's worst cases (tinybench): templates whose cost depends on the values,
 * each over the plaintext that makes it most expensive (A) and one that makes it cheap (B).
 * The difference is the timing channel the first rule leaves (SECURITY.md, "Timing"); it is
 * reported beside one RSA-4096 unseal of one value measured in the same run, the smallest
 * piece of work every reconcile of a SealedSecret does anyway.
 */
import { Bench } from 'tinybench';
import { TemplateBudget, encryptionLabel, generateRsaKeyPair, hybridEncrypt, modulusBytes, openWithKey, renderTemplate } from '../src/index.js';
import { TemplateBudget as SubsetBudget, renderTemplate as renderSubset } from './template-subset.js';

/** The whole language against the subset it replaced, on templates both render: mean time of new / old. */
export interface EngineRatio {
  name: string;
  newOverOld: number;
}

const COMMON: [string, string][] = [
  ['one field', 'user={{ .p }}'],
  ['printf of two values', '{{ printf "postgres://%s:%s@db" .p .p }}'],
  ['pipeline of Sprig functions', '{{ .p | upper | b64enc | quote }}'],
  ['100 actions', '{{ .p }},'.repeat(100)],
];

export async function engineBench(timeMs: number): Promise<EngineRatio[]> {
  const d = v('s3cr3t-value');
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 4) });
  for (const [name, src] of COMMON) {
    bench.add(`${name} new`, () => void renderTemplate('b', src, d, new TemplateBudget()));
    bench.add(`${name} old`, () => void renderSubset('b', src, d, new SubsetBudget()));
  }
  await bench.run();
  const mean = (n: string) => {
    const r = bench.tasks.find((t) => t.name === n)?.result;
    if (!r || !('latency' in r)) throw new Error(`benchmark ${n} did not run`);
    return r.latency.mean;
  };
  return COMMON.map(([name]) => ({ name, newOverOld: mean(`${name} new`) / mean(`${name} old`) }));
}

export interface TemplateCost {
  name: string;
  /** Mean time of the expensive and the cheap plaintext, and their difference over one RSA-4096 unseal. */
  aMs: number;
  bMs: number;
  differenceOverRsa4096: number;
}

const v = (s: string) => new Map([['p', Buffer.from(s)]]);
const CASES: [string, string, Map<string, Buffer>, Map<string, Buffer>][] = [
  ['nested replace bomb', '{{ len ' + '(replace "a" "aaaaaaaaaaaaaaaa" '.repeat(6) + '.p' + ')'.repeat(6) + ' }}', v('a'.repeat(16)), v('b'.repeat(16))],
  ['replace counting matches', `{{ replace "a" "" (replace "b" "${'a'.repeat(1000)}" .p) }}`, v('b'.repeat(1000)), v('c'.repeat(1000))],
  ['upper of a grown value', `{{ upper (replace "a" "${'é'.repeat(300)}" .p) }}`, v('a'.repeat(1000)), v('b'.repeat(1000))],
  ['quote of control bytes', `{{ quote (replace "a" "${'\\x01'.repeat(300)}" .p) }}`, v('a'.repeat(1000)), v('b'.repeat(1000))],
  ['b64enc of a grown value', `{{ b64enc (replace "a" "${'x'.repeat(1000)}" .p) }}`, v('a'.repeat(1000)), v('b'.repeat(1000))],
];

function render(src: string, d: Map<string, Buffer>): void {
  try {
    renderTemplate('bench', src, d, new TemplateBudget());
  } catch {
    // Over the budget: an ERR_VALUE, which is the expensive case.
  }
}

export async function templateBench(timeMs: number): Promise<TemplateCost[]> {
  const { privateKey, publicKey } = await generateRsaKeyPair(4096);
  const label = encryptionLabel('ns', 'n', 'strict');
  const blob = hybridEncrypt(publicKey, Buffer.from('x'), label);
  const k = modulusBytes(privateKey);
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 4) });
  bench.add('rsa4096', () => void openWithKey(privateKey, k, blob, label));
  for (const [name, src, a, b] of CASES) bench.add(`${name} A`, () => render(src, a)).add(`${name} B`, () => render(src, b));
  await bench.run();
  const mean = (n: string) => {
    const r = bench.tasks.find((t) => t.name === n)?.result;
    if (!r || !('latency' in r)) throw new Error(`benchmark ${n} did not run`);
    return r.latency.mean;
  };
  const rsa = mean('rsa4096');
  return CASES.map(([name]) => ({ name, aMs: mean(`${name} A`), bMs: mean(`${name} B`), differenceOverRsa4096: (mean(`${name} A`) - mean(`${name} B`)) / rsa }));
}
