/**
 * `npm run bench [-- --quick] [-- --json FILE]`: the benchmarks, printed as a
 * table, optionally written as JSON for machines.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeySize } from '../src/index.js';
import { cryptoBench, startupBench } from './micro.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes: KeySize[] = [2048, 4096];
  const timeMs = quick ? 300 : 2000;
  process.stderr.write(`crypto micro-benchmarks (${timeMs} ms per task)...\n`);
  const micro = await cryptoBench(sizes, timeMs);
  const kubeseal = join(__dirname, 'kubeseal.cjs');
  process.stderr.write('start-up: kubeseal --cert c.pem < secret.yaml against node -e 0...\n');
  const startup = await startupBench(kubeseal, quick ? 5 : 21);

  const rows = micro.map((r) => [r.name, r.meanMs.toFixed(3), r.p99Ms.toFixed(3), r.opsPerSecond.toFixed(0), String(r.samples)]);
  const speedups = sizes.map((bits) => {
    const native = micro.find((r) => r.name === `unseal ${bits} node:crypto`)!;
    const forge = micro.find((r) => r.name === `unseal ${bits} node-forge`)!;
    return `unseal RSA-${bits}: node:crypto is ${(forge.meanMs / native.meanMs).toFixed(1)}x faster than node-forge`;
  });
  const widths = [24, 10, 10, 10, 8];
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
  console.log(line(['task', 'mean ms', 'p99 ms', 'ops/s', 'samples']));
  for (const r of rows) console.log(line(r));
  for (const s of speedups) console.log(s);
  console.log(
    `start-up: kubeseal seal ${startup.kubesealSealMs.toFixed(1)} ms vs node -e 0 ${startup.nodeBareMs.toFixed(1)} ms (median of ${startup.runs}): ratio ${startup.ratio.toFixed(2)} (target <= 2)`,
  );
  const json = flag('--json');
  if (json) writeFileSync(json, JSON.stringify({ micro, startup, node: process.version, measuredAt: new Date().toISOString() }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
