// `npm audit` for the runtime dependencies, failing on high or critical advisories.
// Where the registry's audit endpoint refuses (as this project's build machines' registry
// mirror does: 405 on the POST), it says so loudly and falls back to the deprecation
// notices of the locked runtime versions, failing on one deprecated for security reasons;
// where that cannot be had either, it says that nothing was audited. AUDIT_STRICT=1 makes
// "nothing (or not everything) could be checked" fail too. Decisions: scripts/audit-lib.mjs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { decide } from './audit-lib.mjs';

const npm = (args) => spawnSync('npm', args, { encoding: 'utf8' });

async function npmAudit() {
  const r = npm(['audit', '--omit=dev', '--audit-level=high', '--json']);
  let report;
  try {
    report = JSON.parse(r.stdout || '{}');
  } catch {
    report = {};
  }
  if (report.metadata?.vulnerabilities) return { vulnerabilities: report.metadata.vulnerabilities };
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

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'));
const result = await decide({ npmAudit, versionDoc, lock, strict: process.env.AUDIT_STRICT === '1' });
for (const l of result.lines) console.error(l);
process.exit(result.exitCode);
