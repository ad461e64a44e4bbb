// `npm audit` for what ships (runtime dependencies and the dev dependencies bundled into dist/),
// failing on high or critical advisories.
// Where the registry's audit endpoint refuses (as this project's build machines' registry
// mirror does: 405 on the POST), it says so loudly and falls back to the deprecation
// notices of the locked runtime versions, failing on one deprecated for security reasons;
// where that cannot be had either, it says that nothing was audited. AUDIT_STRICT=1 makes
// "nothing (or not everything) could be checked" fail too. Decisions: scripts/audit-lib.mjs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { decide, runtimePackages } from './audit-lib.mjs';

const npm = (args) => spawnSync('npm', args, { encoding: 'utf8' });

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
const bundled = pkg.bundledIntoDist ?? [];
// What ships: the runtime dependencies and what esbuild bundles into dist/ from the dev ones.
const shipped = new Set(runtimePackages(lock, bundled).map((p) => p.name));

async function npmAudit() {
  // Every dependency is audited, and only advisories for what ships count (bundled dev
  // dependencies are runtime code; the test and build tools are not).
  const r = npm(['audit', '--json']);
  let report;
  try {
    report = JSON.parse(r.stdout || '{}');
  } catch {
    report = {};
  }
  if (report.vulnerabilities && report.metadata?.vulnerabilities) {
    const counts = { critical: 0, high: 0, moderate: 0, low: 0 };
    for (const [name, v] of Object.entries(report.vulnerabilities)) if (shipped.has(name) && v.severity in counts) counts[v.severity]++;
    return { vulnerabilities: counts };
  }
  const why = (r.stderr || '').split('\n').find((l) => /error|warn/.test(l)) ?? 'no answer';
  return { why: why.trim() };
}

const registry = (npm(['config', 'get', 'registry']).stdout || 'https://registry.npmjs.org/').trim().replace(/\/?$/, '/');

async function versionDoc(name, version) {
  const url = `${registry}${name.replace('/', '%2f')}/${encodeURIComponent(version)}`;
  const r = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(20_000) });
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return r.json();
}

const result = await decide({ npmAudit, versionDoc, lock, bundled, strict: process.env.AUDIT_STRICT === '1' });
for (const l of result.lines) console.error(l);
process.exit(result.exitCode);
