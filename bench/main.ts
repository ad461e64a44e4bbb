/**
 * `npm run bench` — the benchmarks SREs read to choose key size and pool size.
 * Everything in one run, so ratios compare like with like on a noisy machine:
 *  - references: OpenSSL's RSA private-operation rate on all cores
 *    (`openssl speed -multi <cores> rsa<bits>`), measured right before and after each run;
 *  - bulk sync in-process (the real controller on an in-memory API): key sizes,
 *    pool workers, retained keys, with and without key hints, and the same sync
 *    with node-forge doing the decryption (the slow baseline);
 *  - bulk sync against the real local API server (`--no-api-server` skips it);
 *  - tinybench micro-benchmarks and the kubeseal start-up ratio.
 *  - kubeseal lint on a 10,000-file repository against a plain walk-and-parse (bench/lint.ts).
 * Flags: --lint-only, --no-lint, --quick, --json FILE, --secrets N, --items N, --key-sizes 2048,4096,
 * --workers 1,2, --retained 1,12, --repeat N, --api-qps N, --no-api-server, --no-micro.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateRsaKeyPair, type KeySize } from '../src/index.js';
import { runInProcess, type BenchKey, type SyncResult } from './bulk-sync.js';
import { cryptoBench, poolBench, startupBench } from './micro.js';
import { engineBench, templateBench, type EngineRatio, type TemplateCost } from './template.js';
import { lintBench, type LintCost } from './lint.js';

const argv = process.argv.slice(2);
const has = (f: string) => argv.includes(f);
const flag = (f: string, d: string) => (argv.indexOf(f) >= 0 ? argv[argv.indexOf(f) + 1]! : d);
const nums = (f: string, d: string) => flag(f, d).split(',').map(Number);
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

/** OpenSSL's private-key (sign) operations per second on all cores. */
function opensslRate(bits: number, cores: number, seconds: number): number {
  const out = execFileSync('openssl', ['speed', '-multi', String(cores), '-seconds', String(seconds), `rsa${bits}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = out.split('\n').filter((l) => new RegExp(`^rsa\\s+${bits}\\s+bits`).test(l.trim()));
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`cannot read openssl speed output for rsa${bits}`);
  const cols = last.trim().split(/\s+/);
  return Number(cols[5]); // rsa <bits> bits <sign s> <verify s> <sign/s> <verify/s>
}

function printLint(l: LintCost): void {
  console.log(`lint: ${l.files} files, ${l.sealedSecrets} SealedSecrets in ${l.overlays} overlays: kubeseal lint ${l.lintSeconds.toFixed(2)} s, walk-and-parse ${l.walkAndParseSeconds.toFixed(2)} s: ratio ${l.ratio.toFixed(2)} (${l.findings} finding(s))`);
}

async function main(): Promise<void> {
  if (has('--lint-only')) {
    printLint(await lintBench(log));
    return;
  }
  const quick = has('--quick');
  const cores = availableParallelism();
  const secrets = Number(flag('--secrets', quick ? '500' : '3000'));
  const items = Number(flag('--items', '1'));
  const sizes = nums('--key-sizes', '2048,4096') as KeySize[];
  const workerCounts = nums('--workers', cores > 1 ? `1,${cores}` : '1');
  const retained = nums('--retained', '1,12');
  const dist = __dirname;

  // The machine is shared and its speed drifts by 10-20% within minutes: each in-process run is
  // compared with OpenSSL measured right before and right after it, and each scenario keeps its
  // best of --repeat runs by that ratio.
  const repeat = Number(flag('--repeat', quick ? '1' : '2'));
  const refSeconds = quick ? 1 : 2;
  log(`generating ${Math.max(...retained)} keys of each size`);
  const keys = new Map<number, BenchKey[]>();
  for (const b of sizes) keys.set(b, await Promise.all(Array.from({ length: Math.max(...retained) }, () => generateRsaKeyPair(b))));

  const results: (SyncResult & { opensslRsaOpsPerSecond: number; fractionOfOpenssl: number })[] = [];
  const run = async (s: Parameters<typeof runInProcess>[0]) => {
    log(`in-process: ${s.secrets} x ${s.itemsPerSecret} item(s), RSA-${s.keySize}, ${s.workers} worker(s), ${s.retainedKeys} key(s), hints ${s.hints ? 'on' : 'off'}, ${s.engine}`);
    let best: (typeof results)[number] | undefined;
    for (let i = 0; i < (s.engine === 'node-forge' ? 1 : repeat); i++) {
      const before = opensslRate(s.keySize, cores, refSeconds);
      const r = await runInProcess(s, keys.get(s.keySize)!, dist);
      const after = opensslRate(s.keySize, cores, refSeconds);
      const reference = (before + after) / 2;
      const scored = { ...r, opensslRsaOpsPerSecond: reference, fractionOfOpenssl: r.rsaOpsPerSecond / reference };
      if (!best || scored.fractionOfOpenssl > best.fractionOfOpenssl) best = scored;
    }
    results.push(best!);
  };
  for (const b of sizes) {
    for (const w of workerCounts) await run({ keySize: b, workers: w, retainedKeys: 1, secrets, itemsPerSecret: items, hints: true, engine: 'node:crypto' });
    for (const r of retained.filter((r) => r > 1)) {
      await run({ keySize: b, workers: cores, retainedKeys: r, secrets, itemsPerSecret: items, hints: true, engine: 'node:crypto' });
      // Upstream's situation: no hint in the SealedSecret, keys tried in turn (newest first here).
      await run({ keySize: b, workers: cores, retainedKeys: r, secrets: Math.ceil(secrets / 3), itemsPerSecret: items, hints: false, engine: 'node:crypto' });
    }
  }
  // The slow baseline: the same sync with node-forge decrypting (few objects: ~0.3 s per RSA-4096 operation).
  for (const b of sizes) await run({ keySize: b, workers: cores, retainedKeys: 1, secrets: b >= 4096 ? 40 : 200, itemsPerSecret: items, hints: true, engine: 'node-forge' });

  let apiServer: Record<string, unknown>[] = [];
  if (!has('--no-api-server')) {
    // Unthrottled by default: the target compares with the API server's own limit. `--api-qps 50`
    // runs at the controller's default --kubeclient-qps instead.
    const apiQps = flag('--api-qps', '-1');
    for (const b of quick ? [2048] : sizes) {
      log(`against the local API server: ${secrets} SealedSecrets, RSA-${b}, kubeclient QPS ${apiQps} (brings a cluster up)`);
      const file = join(dist, `.cluster-sync-${b}.json`);
      const r = spawnSync(process.execPath, [join(dist, 'cluster-sync.cjs'), '--secrets', String(secrets), '--key-size', String(b), '--qps', apiQps, '--json', file], { stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status === 0) apiServer.push(JSON.parse(readFileSync(file, 'utf8')));
      else log(`the API-server run failed (exit ${r.status}); see above`);
    }
  }

  let micro: unknown = undefined;
  let startup: Awaited<ReturnType<typeof startupBench>> | undefined;
  let templates: TemplateCost[] = [];
  let engine: EngineRatio[] = [];
  if (!has('--no-micro')) {
    log('micro-benchmarks (tinybench) and kubeseal start-up');
    micro = [...(await cryptoBench(sizes, quick ? 300 : 1000)), ...(await poolBench(dist, quick ? 300 : 1000))];
    startup = await startupBench(join(dist, 'kubeseal.cjs'), quick ? 5 : 15);
    log('template budget worst cases (tinybench)');
    templates = await templateBench(quick ? 300 : 1000);
    log('template engine against the subset it replaced (tinybench)');
    engine = await engineBench(quick ? 300 : 1000);
  }
  let lint: LintCost | undefined;
  if (!has('--no-lint')) lint = await lintBench(log, quick ? 1 : 3);

  // The table.
  const col = (s: unknown, w: number) => String(s).padStart(w);
  console.log(`\nOpenSSL: private operations/s on ${cores} cores, measured right before and after each run (openssl speed -multi ${cores})\n`);
  const widths = [5, 7, 5, 5, 12, 7, 7, 9, 8, 8, 9, 7, 8, 10, 10, 7, 9];
  console.log(['bits', 'workers', 'keys', 'hints', 'engine', 'secrets', 'cold s', 'unseals/s', 'rsa/item', 'openssl', '% openssl', 'warm s', 'warm rsa', 'new p50 ms', 'new p99 ms', 'rss MB', 'main ms'].map((h, i) => col(h, widths[i]!)).join(' '));
  for (const r of results) {
    console.log(
      [r.keySize, r.workers, r.retainedKeys, r.hints ? 'on' : 'off', r.engine, r.secrets, r.coldSeconds.toFixed(2), r.unsealsPerSecond.toFixed(0), r.rsaOpsPerItem.toFixed(2), r.opensslRsaOpsPerSecond.toFixed(0), `${(r.fractionOfOpenssl * 100).toFixed(0)}%`, r.warmSeconds.toFixed(2), r.warmRsaOps, r.newObjectP50Ms.toFixed(0), r.newObjectP99Ms.toFixed(0), r.rssMb.toFixed(0), r.mainThreadMsPerObject.toFixed(3)]
        .map((v, i) => col(v, widths[i]!))
        .join(' '),
    );
  }
  console.log('main ms: CPU time of the controller\'s main thread per SealedSecret during the cold sync (informers, queue, Secret and status writes, Events).');
  for (const b of sizes) {
    const one = results.find((r) => r.keySize === b && r.workers === 1 && r.engine === 'node:crypto' && r.retainedKeys === 1);
    const all = results.find((r) => r.keySize === b && r.workers === cores && r.engine === 'node:crypto' && r.retainedKeys === 1);
    const forge = results.find((r) => r.keySize === b && r.engine === 'node-forge');
    if (one && all && cores > 1) console.log(`RSA-${b}: ${cores} workers unseal ${(all.unsealsPerSecond / one.unsealsPerSecond).toFixed(2)}x as fast as 1 (target >= ${(0.9 * cores).toFixed(1)}x)`);
    if (all && forge) console.log(`RSA-${b}: node:crypto syncs ${(all.unsealsPerSecond / forge.unsealsPerSecond).toFixed(0)}x as fast as node-forge (${forge.unsealsPerSecond.toFixed(1)} unseals/s)`);
  }
  for (const a of apiServer) {
    const r = a as { keySize: number; kubeclientQps: number; baselineCreateSeconds: number; coldSeconds: number; coldOverBaseline: number; warmSeconds: number; warmRsaOps: number; newObjectP50Ms: number; newObjectMaxMs: number; rssMbIdle: number; rssMbAfterCold: number; rssMbAfterWarm: number; cpuSecondsCold: Record<string, number> };
    console.log(
      `API server, RSA-${r.keySize}, kubeclient QPS ${r.kubeclientQps}: plain creates ${r.baselineCreateSeconds.toFixed(1)} s, cold sync ${r.coldSeconds.toFixed(1)} s = ${r.coldOverBaseline.toFixed(1)}x (target <= 2x), ` +
        `warm ${r.warmSeconds.toFixed(1)} s with ${r.warmRsaOps} RSA, new object p50 ${r.newObjectP50Ms.toFixed(0)} / max ${r.newObjectMaxMs.toFixed(0)} ms, ` +
        `RSS idle ${r.rssMbIdle.toFixed(0)} / after cold ${r.rssMbAfterCold.toFixed(0)} / after warm ${r.rssMbAfterWarm.toFixed(0)} MB, CPU s during cold ${JSON.stringify(r.cpuSecondsCold)}`,
    );
  }
  for (const m of (micro as { name: string; meanMs: number; opsPerSecond: number }[] | undefined) ?? []) console.log(`micro: ${m.name.padEnd(52)} ${m.meanMs.toFixed(3).padStart(9)} ms  ${m.opsPerSecond.toFixed(0).padStart(7)}/s`);
  if (lint) printLint(lint);
  for (const e of engine) console.log(`template engine: ${e.name.padEnd(28)} ${e.newOverOld.toFixed(2)} x the time of the subset it replaced`);
  for (const t of templates) console.log(`template: ${t.name.padEnd(28)} expensive plaintext ${t.aMs.toFixed(3).padStart(7)} ms, cheap ${t.bMs.toFixed(3).padStart(7)} ms: difference ${t.differenceOverRsa4096.toFixed(2)} RSA-4096 unseals`);
  if (startup) console.log(`kubeseal start-up: ${startup.kubesealSealMs.toFixed(0)} ms vs node -e 0 ${startup.nodeBareMs.toFixed(0)} ms: ratio ${startup.ratio.toFixed(2)} (target <= 2)`);

  const json = flag('--json', '');
  if (json) {
    const scenarios = [...results, ...apiServer];
    writeFileSync(json, JSON.stringify({ machine: { cores, node: process.version }, scenarios, micro, startup, templates, engine, lint }, null, 2) + '\n');
    log(`wrote ${json}`);
  }
  apiServer = [];
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
