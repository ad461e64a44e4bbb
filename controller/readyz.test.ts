/**
 * /readyz of the real controller process (dist/) whose key store fails: the answer says
 * what is missing in fixed words; the error's text, which can carry API paths, addresses
 * and whatever the server said, stays in the logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CONTROLLER = fileURLToPath(new URL('../dist/sealed-secrets-controller.cjs', import.meta.url));
const MARKER = 'internal-host-4f1c.example:6443';
let api: Server | undefined;
let proc: ChildProcess | undefined;

afterAll(() => {
  proc?.kill('SIGKILL');
  api?.close();
});

describe('/readyz of a controller whose key store fails', () => {
  it('says "key store unreachable (see logs)" and keeps the error text for the logs', async () => {
    // An API server that refuses everything with a message of its own.
    api = createServer((req, res) => {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: `secrets is forbidden behind ${MARKER}` }));
    });
    await new Promise<void>((r) => api!.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'readyz-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const server = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${server}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`);
    proc = spawn(process.execPath, [CONTROLLER, '--kubeconfig', kubeconfig, '--listen-addr', '127.0.0.1:0', '--listen-metrics-addr', '127.0.0.1:0', '--leader-elect=false', '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    proc.stdout!.on('data', (c: Buffer) => (logs += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (logs += c.toString()));
    const deadline = Date.now() + 30_000;
    let port: string | undefined;
    while (!(port = /HTTP server listening" address=127\.0\.0\.1:(\d+)/.exec(logs)?.[1]) || !logs.includes('key store failed')) {
      if (Date.now() > deadline) throw new Error(`the controller did not start or did not try its key store:\n${logs}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    const text = await r.text();
    expect(r.status).toBe(503);
    expect(text).toBe('not ready: no sealing key loaded yet (key store unreachable, see logs); caches not synced yet\n');
    expect(logs, logs).toContain(MARKER);
  });
});
