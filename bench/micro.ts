/**
 * Micro-benchmarks (tinybench): sealing and unsealing one value at 2048 and 4096
 * bits, node:crypto beside node-forge; the unseal pool's round trip (one
 * SealedSecret unsealed in the calling thread, through the pool alone, and 8 at a
 * time through the pool, which batches them); and the start-up cost of a whole
 * `kubeseal --cert c.pem < secret.yaml` process against a bare `node -e 0`.
 * Everything is reported as ratios to a baseline measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { UnsealPool } from '../controller/unseal-pool.js';
import {
  KeyRing,
  sealSecret,
  unsealSealedSecret,
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

/** The pool's cost over unsealing in the calling thread: messaging, scheduling, copying. */
export async function poolBench(distDir: string, timeMs: number): Promise<MicroResult[]> {
  const { privateKey, publicKey } = await generateRsaKeyPair(2048);
  const ring = new KeyRing();
  ring.add(privateKey, publicKey, { orderingTime: 0 });
  const ss = sealSecret({ metadata: { name: 'db', namespace: 'prod' }, stringData: { password: 'hunter2' } }, { publicKey });
  const pool = new UnsealPool({ filename: join(distDir, 'unseal-worker.cjs'), workers: 1 });
  await pool.setKeys([{ privateKey, publicKey, orderingTime: 0 }]);
  try {
    const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 4) });
    bench
      .add('unseal 1 SealedSecret (RSA-2048), calling thread', () => void unsealSealedSecret(ss, ring))
      .add('unseal 1 SealedSecret (RSA-2048), pool round trip', async () => void (await pool.unseal(ss)))
      .add('unseal 8 SealedSecrets (RSA-2048), pool, batched', async () => void (await Promise.all(Array.from({ length: 8 }, () => pool.unseal(ss)))));
    await bench.run();
    return bench.tasks.flatMap((t) => {
      const r = t.result;
      if (!r || !('latency' in r)) return [];
      return [{ name: t.name, keySize: 2048, library: 'node:crypto' as const, meanMs: r.latency.mean, p99Ms: r.latency.p99 ?? r.latency.max, opsPerSecond: r.throughput.mean, samples: r.latency.samplesCount ?? 0 }];
    });
  } finally {
    await pool.close();
  }
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
