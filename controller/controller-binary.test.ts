/**
 * The built controller binary (dist/sealed-secrets-controller.cjs): --help describes every flag
 * in groups with upstream's words, and --log-info-stdout splits the streams as upstream's
 * (pkg/log MultiStreamHandler: debug and info to stdout, warnings and errors to stderr; false:
 * all to stderr).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROLLER_FLAGS } from './config.js';

const CONTROLLER = fileURLToPath(new URL('../dist/sealed-secrets-controller.cjs', import.meta.url));

describe('sealed-secrets-controller --help', () => {
  const help = execFileSync(process.execPath, [CONTROLLER, '--help'], { encoding: 'utf8' });
  const lines = help.split('\n');

  it('describes every flag, in groups as kubeseal --help, each on one line that is not broken inside a word', () => {
    for (const g of ['Keys:', 'Unsealing:', 'HTTP:', 'Logging:', 'Kubernetes client:', 'Leader election:', 'Key store:', 'Options:']) expect(lines, g).toContain(g);
    for (const f of CONTROLLER_FLAGS) {
      const line = lines.find((l) => new RegExp(`^\\s+--${f.name}\\s`).test(l));
      expect(line, `--${f.name} is listed`).toBeDefined();
      // Name, then a description of at least a few words, then the type.
      expect(line, `--${f.name} is described`).toMatch(new RegExp(`^\\s+--${f.name}\\s+\\S+(\\s\\S+){2,}.*\\s\\s\\[(string|number|boolean)\\]`));
    }
    // Nothing wrapped: every flag line carries its type; the prose keeps its words whole.
    for (const l of lines.filter((x) => /^\s+(-\w, )?--/.test(x))) expect(l, l).toMatch(/\[(string|number|boolean)\]/);
    expect(help).toContain('Every flag is also SEALED_SECRETS_<FLAG>');
  });

  it("uses upstream's descriptions where upstream has the flag", () => {
    const upstream: Record<string, string> = {
      'key-prefix': 'Prefix used to name keys.',
      'key-renew-period': 'New key generation period (automatic rotation deactivated if 0)',
      'all-namespaces': 'Scan all namespaces or only the current namespace (default=true).',
      'update-status': 'beta: if true, the controller will update the status sub-resource whenever it processes a sealed secret',
      'watch-for-secrets': 'beta: If this is true, the controller will watch for key secrets. This is useful if you create the key secrets externally.',
      'skip-recreate': 'if true the controller will skip listening for managed secret changes to recreate them. This helps on limited permission environments.',
      'log-info-stdout': 'if true the controller will log info to stdout and error/warn to stderr.',
      'kubeclient-qps': 'Kubeclient QPS (negative value disables ratelimiting)',
      'listen-addr': 'HTTP serving address.',
      'rotate-period': 'deprecated: please use key-renew-period instead',
      version: 'Print version information and exit',
    };
    for (const [flag, text] of Object.entries(upstream)) {
      const line = lines.find((l) => new RegExp(`^\\s+--${flag}\\s`).test(l))!;
      expect(line.replace(new RegExp(`^\\s+--${flag}\\s+`), ''), flag).toMatch(new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
  });
});

describe('--log-info-stdout', () => {
  let api: Server;
  let kubeconfig: string;
  beforeAll(async () => {
    // An API server that refuses everything: the controller logs info (listening) and warnings (retries).
    api = createServer((req, res) => {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'forbidden' }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'log-streams-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${(api.address() as AddressInfo).port}"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`);
  });
  afterAll(() => api.close());

  async function streams(extra: string[]): Promise<{ stdout: string[]; stderr: string[] }> {
    const proc = spawn(process.execPath, [CONTROLLER, '--kubeconfig', kubeconfig, '--listen-addr', '127.0.0.1:0', '--listen-metrics-addr', '127.0.0.1:0', '--leader-elect=false', '--workers', '1', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '', POD_NAMESPACE: 'x' } });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const deadline = Date.now() + 30_000;
    while (!(out + err).includes('metrics server listening') || !(out + err).includes('level=WARN')) {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`no info and warning lines:\n${out}${err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
    const split = (s: string) => s.split('\n').filter(Boolean);
    return { stdout: split(out), stderr: split(err) };
  }

  it('by default (true, as upstream): info lines on stdout, warnings and errors on stderr', async () => {
    const { stdout, stderr } = await streams([]);
    expect(stdout.some((l) => l.includes('msg="HTTP server listening"'))).toBe(true);
    expect(stdout.filter((l) => !/level=(DEBUG|INFO) /.test(l))).toEqual([]);
    expect(stderr.some((l) => l.includes('level=WARN'))).toBe(true);
    expect(stderr.filter((l) => !/level=(WARN|ERROR) /.test(l))).toEqual([]);
  });

  it('false: everything on stderr', async () => {
    const { stdout, stderr } = await streams(['--log-info-stdout=false']);
    expect(stdout).toEqual([]);
    expect(stderr.some((l) => l.includes('msg="HTTP server listening"'))).toBe(true);
    expect(stderr.some((l) => l.includes('level=WARN'))).toBe(true);
  });
});
