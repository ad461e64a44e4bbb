/**
 * scripts/audit.mjs: where the registry refuses `npm audit`, the deprecation notices of the
 * locked runtime versions are checked instead, and only believed when the registry marks a
 * version that is deprecated upstream. Decisions with fakes (scripts/audit-lib.mjs), and the
 * script itself against a loopback registry that refuses the audit call.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CANARY, decide, runtimePackages } from '../scripts/audit-lib.mjs';

const lockFile = fileURLToPath(new URL('../package-lock.json', import.meta.url));
const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
const refused = async () => ({ why: 'npm warn audit 405 Method Not Allowed' });
const docs = (deprecated: Record<string, string>, fail: string[] = []) => async (name: string, version: string) => {
  if (fail.includes(name)) throw new Error('HTTP 500');
  const d = name === CANARY.name && version === CANARY.version ? 'request has been deprecated' : deprecated[`${name}@${version}`];
  return d === undefined ? { name, version } : { name, version, deprecated: d };
};
const bundled = (JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { bundledIntoDist: string[] }).bundledIntoDist;
const yaml = runtimePackages(lock, bundled).find((p) => p.name === 'yaml')!;

describe('the dependency audit', () => {
  it('reads what ships from the lockfile: runtime packages and the bundled dev dependencies with theirs, no build or test tools', () => {
    const names = runtimePackages(lock, bundled).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['yargs', 'yaml', 'piscina', '@kubernetes/client-node', 'punycode', 'node-fetch']));
    expect(names).not.toContain('vitest');
    expect(names).not.toContain('esbuild');
    expect(runtimePackages(lock).map((p) => p.name)).not.toContain('yargs');
    expect(names).not.toContain('vitest');
    expect(names).not.toContain('esbuild');
  });

  it('uses npm audit when it answers: high or critical fails', async () => {
    expect(await decide({ npmAudit: async () => ({ vulnerabilities: { high: 1 } }), versionDoc: docs({}), lock })).toMatchObject({ outcome: 'vulnerable', exitCode: 1 });
    expect(await decide({ npmAudit: async () => ({ vulnerabilities: { moderate: 2 } }), versionDoc: docs({}), lock })).toMatchObject({ outcome: 'clean', exitCode: 0 });
  });

  it('where npm audit is refused, fails on a locked runtime version deprecated for security reasons, naming it', async () => {
    const r = await decide({ npmAudit: refused, bundled, versionDoc: docs({ [`yaml@${yaml.version}`]: 'This version has a critical security vulnerability, upgrade to 2.9.9' }), lock });
    expect(r).toMatchObject({ outcome: 'deprecated-insecure', exitCode: 1 });
    expect(r.lines).toContain(`[audit] INSECURE: yaml@${yaml.version}: This version has a critical security vulnerability, upgrade to 2.9.9`);
    expect(r.lines[0]).toMatch(/NO advisory database answered/);
  });

  it('a deprecation that is not about security is reported and passes', async () => {
    const r = await decide({ npmAudit: refused, bundled, versionDoc: docs({ [`yaml@${yaml.version}`]: 'no longer maintained' }), lock });
    expect(r).toMatchObject({ outcome: 'deprecations-clean', exitCode: 0 });
    expect(r.lines).toContain(`[audit] deprecated: yaml@${yaml.version}: no longer maintained`);
  });

  it('a registry that strips deprecation notices (the canary is not deprecated) audits nothing and says so; AUDIT_STRICT fails', async () => {
    const stripped = async (name: string, version: string) => ({ name, version });
    let lookups = 0;
    const counting = async (n: string, v: string) => (lookups++, stripped(n, v));
    const r = await decide({ npmAudit: refused, versionDoc: counting, lock });
    expect(r).toMatchObject({ outcome: 'unaudited', exitCode: 0 });
    expect(r.lines.at(-1)).toMatch(/does not serve deprecation notices.*NOT audited/);
    expect(lookups).toBe(1);
    expect(await decide({ npmAudit: refused, versionDoc: stripped, lock, strict: true })).toMatchObject({ outcome: 'unaudited', exitCode: 1 });
  });

  it('lookups that fail make the check incomplete, said loudly', async () => {
    const r = await decide({ npmAudit: refused, versionDoc: docs({}, ['yargs']), lock, bundled });
    expect(r).toMatchObject({ outcome: 'partial', exitCode: 0 });
    expect(r.lines.at(-1)).toMatch(/1 package version\(s\) could not be looked up \(yargs@.*INCOMPLETE/);
  });

  it('scripts/audit.mjs against a registry that refuses the audit call fails on an insecure deprecated version', async () => {
    const seen: string[] = [];
    const registry = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET,HEAD' });
        return res.end();
      }
      const m = /^\/(.+)\/([^/]+)$/.exec(req.url ?? '');
      const name = decodeURIComponent(m?.[1] ?? '');
      const version = m?.[2] ?? '';
      const doc: Record<string, string> = { name, version };
      if (name === CANARY.name) doc['deprecated'] = 'request has been deprecated';
      if (name === 'yaml') doc['deprecated'] = 'critical security vulnerability (GHSA-xxxx), upgrade';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc));
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`;
    try {
      const script = fileURLToPath(new URL('../scripts/audit.mjs', import.meta.url));
      const child = spawn(process.execPath, [script], { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, npm_config_registry: url, npm_config_audit: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(err).toMatch(/npm audit could not run here/);
      expect(err).toMatch(new RegExp(`INSECURE: yaml@${yaml.version.replace(/\./g, '\\.')}: critical security vulnerability`));
      expect(code).toBe(1);
      expect(seen.some((s) => s.startsWith('POST /-/npm/v1/security/'))).toBe(true);
    } finally {
      registry.close();
    }
  }, 60_000);
});
