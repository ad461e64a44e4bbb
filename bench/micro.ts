/**
 * Micro-benchmarks (tinybench): sealing and unsealing one value at 2048 and 4096
 * bits, node:crypto beside node-forge, and the start-up cost of a whole
 * `kubeseal --cert c.pem < secret.yaml` process against a bare `node -e 0`.
 * Everything is reported as ratios to a baseline measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import {
  buildSelfSignedCertificate,
  encryptionLabel,
  generateRsaKeyPair,
  hybridEncrypt,
  modulusBytes,
  openWithKey,
  privateKeyToPem,
  type KeySize,
} from '../src/index.js';
import { forgeDecrypt, forgeEncrypt, forgeKeys } from './forge-hybrid.js';

export interface MicroResult {
  name: string;
  keySize?: number;
  library?: 'node:crypto' | 'node-forge';
  meanMs: number;
  p99Ms: number;
  opsPerSecond: number;
  samples: number;
}

const label = encryptionLabel('prod', 'db-credentials', 'strict');
const value = Buffer.from('a-typical-32-byte-database-passw');

export async function cryptoBench(sizes: KeySize[], timeMs: number): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  for (const bits of sizes) {
    const { privateKey, publicKey } = await generateRsaKeyPair(bits);
    const k = modulusBytes(privateKey);
    const fk = forgeKeys(privateKeyToPem(privateKey));
    const blob = hybridEncrypt(publicKey, value, label);
    if (!forgeDecrypt(fk, blob, label).equals(value)) throw new Error('forge baseline cannot open a native blob');
    if (!openWithKey(privateKey, k, forgeEncrypt(fk, value, label), label)?.equals(value)) throw new Error('native cannot open a forge blob');
    const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 4) });
    bench
      .add(`seal ${bits} node:crypto`, () => void hybridEncrypt(publicKey, value, label))
      .add(`unseal ${bits} node:crypto`, () => void openWithKey(privateKey, k, blob, label))
      .add(`seal ${bits} node-forge`, () => void forgeEncrypt(fk, value, label))
      // forge's RSA-4096 private operation takes ~100+ ms: give it a few iterations at least.
      .add(`unseal ${bits} node-forge`, () => void forgeDecrypt(fk, blob, label), {});
    await bench.run();
    for (const t of bench.tasks) {
      const r = t.result;
      if (!r || !('latency' in r)) continue;
      results.push({
        name: t.name,
        keySize: bits,
        library: t.name.endsWith('forge') ? 'node-forge' : 'node:crypto',
        meanMs: r.latency.mean,
        p99Ms: r.latency.p99 ?? r.latency.max,
        opsPerSecond: r.throughput.mean,
        samples: r.latency.samplesCount ?? 0,
      });
    }
  }
  return results;
}

function timeRuns(cmd: string, args: string[], input: string | undefined, runs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface StartupResult {
  nodeBareMs: number;
  kubesealSealMs: number;
  ratio: number;
  runs: number;
}

/** Median wall time of `kubeseal --cert c.pem < secret.yaml` over `node -e 0`, interleaved to share the noise. */
export async function startupBench(kubesealPath: string, runs: number): Promise<StartupResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kubeseal-bench-'));
  const { privateKey, publicKey } = await generateRsaKeyPair(4096);
  writeFileSync(join(dir, 'c.pem'), await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date(), ttlMs: 3600_000 }));
  const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  username: admin\n  password: hunter2\n';
  const bare: number[] = [];
  const seal: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(...timeRuns(process.execPath, ['-e', '0'], undefined, 1));
    seal.push(...timeRuns(process.execPath, [kubesealPath, '--cert', join(dir, 'c.pem')], secret, 1));
  }
  const nodeBareMs = median(bare);
  const kubesealSealMs = median(seal);
  return { nodeBareMs, kubesealSealMs, ratio: kubesealSealMs / nodeBareMs, runs };
}
