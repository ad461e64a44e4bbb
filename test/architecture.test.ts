/**
 * The dependency direction of DESIGN.md: cli -> src <- controller. cli and
 * controller never import each other, code outside src/ reaches src/ only
 * through src/index.ts, and src/ imports no client library (Kubernetes, Vault,
 * HTTP frameworks, threads) and node-forge only in the certificate builder; the
 * template engine's Sprig functions may use two pure-JS libraries that beat
 * hand-written code: re2js (Go's RE2 regexp, linear time) and bcryptjs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  const abs = join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(abs, e);
    if (statSync(p).isDirectory()) return sources(join(dir, e));
    return /\.ts$/.test(e) && !/\.test\.ts$/.test(e) ? [join(dir, e)] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

function resolved(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts');
}

describe('dependency direction', () => {
  it('cli and controller reach src only through src/index.ts and never import each other', () => {
    const violations: string[] = [];
    for (const [mod, forbidden] of [['cli', 'controller'], ['controller', 'cli']] as const) {
      for (const f of sources(mod)) {
        for (const spec of imports(f)) {
          const target = resolved(f, spec);
          if (!target) continue;
          if (target.startsWith('src/') && target !== 'src/index.ts') violations.push(`${f} imports ${target}`);
          if (target.startsWith(`${forbidden}/`)) violations.push(`${f} imports ${target}`);
        }
      }
    }
    expect(violations).toEqual([]);
    expect(sources('cli').length).toBeGreaterThan(3);
  });

  it('src imports only node built-ins, itself, node-forge in the certificate builder, and re2js/bcryptjs in Sprig', () => {
    const violations: string[] = [];
    const allowed = (spec: string, f: string) =>
      (spec === 'node-forge' && f === 'src/crypto/certificate.ts') ||
      (spec === 're2js' && (f === 'src/template/sprig-core/regex.ts' || f === 'src/template/sprig-core/semver.ts')) ||
      (spec === 'bcryptjs' && f === 'src/template/sprig-extra/crypto.ts');
    for (const f of sources('src')) {
      for (const spec of imports(f)) {
        const target = resolved(f, spec);
        if (target && !target.startsWith('src/')) violations.push(`${f} imports ${target}`);
        if (!target && !spec.startsWith('node:') && !allowed(spec, f)) {
          violations.push(`${f} imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('offline sealing never loads the Kubernetes client or node-forge', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-'));
    const cert = JSON.parse(readFileSync(join(root, 'test/vectors/bitnami/keys.json'), 'utf8')).cases[0].certPem;
    writeFileSync(join(dir, 'cert.pem'), cert);
    const trace = join(dir, 'trace.txt');
    const out = execFileSync(process.execPath, ['-r', join(root, 'test/fixtures/trace-require.cjs'), join(root, 'dist/kubeseal.cjs'), '--cert', join(dir, 'cert.pem')], {
      input: 'kind: Secret\nmetadata: {name: a, namespace: b}\nstringData: {k: v}\n',
      env: { ...process.env, TRACE_REQUIRE_FILE: trace },
    }).toString();
    expect(out).toContain('kind: SealedSecret');
    const loaded = readFileSync(trace, 'utf8').split('\n');
    expect(loaded).toContain('file:kubeseal.cjs');
    expect(loaded.filter((m) => /forge|kubernetes|vault|piscina/.test(m))).toEqual([]);
  });

  it('a cluster mode loads the Kubernetes client only for exec plugins and auth providers, from the bundle beside kubeseal (the trace above sees it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trace-'));
    const kubeconfig = (user: string) => `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: ${user}}]\ncurrent-context: c\n`;
    const run = (user: string) => {
      writeFileSync(join(dir, 'kubeconfig'), kubeconfig(user));
      const trace = join(dir, 'trace.txt');
      const r = spawnSync(process.execPath, ['-r', join(root, 'test/fixtures/trace-require.cjs'), join(root, 'dist/kubeseal.cjs'), '--fetch-cert', '--kubeconfig', join(dir, 'kubeconfig')], {
        env: { ...process.env, TRACE_REQUIRE_FILE: trace },
        encoding: 'utf8',
      });
      return { stderr: r.stderr, loaded: readFileSync(trace, 'utf8').split('\n') };
    };
    // A token (or a certificate): kubeseal's own HTTPS client, no Kubernetes client.
    const token = run('{token: t}');
    expect(token.stderr).toContain('cannot reach the API server');
    expect(token.loaded.filter((m) => /kubernetes/.test(m))).toEqual([]);
    // An exec credential plugin: the client's ExecAuth runs it.
    const exec = run('{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /nonexistent/credential-plugin}}');
    expect(exec.stderr).toMatch(/exec credential plugin failed|cannot reach the API server/);
    expect(exec.loaded).toContain('file:kubeseal-kubernetes-client.cjs');
    expect(exec.loaded.filter((m) => m.startsWith('@kubernetes/'))).toEqual([]);
  });
});
