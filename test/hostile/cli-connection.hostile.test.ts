/**
 * Hostile and careless connection settings for kubeseal (the built binary): what reaches
 * stderr, at any -v level, never carries a token, a password, a client key, a proxy's
 * credentials or a kubeconfig's secret fields, and every failure is one clear line; an API
 * server (or anything at its address) cannot make kubeseal read without bound.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeseal, tempDir } from '../cli-helpers.js';

const SECRET = 'Zq8-SECRET-MARKER-41x';
let dir: string;

beforeAll(() => {
  dir = tempDir({ 'bad.pem': `-----BEGIN PRIVATE KEY-----\n${SECRET}\n-----END PRIVATE KEY-----\n` });
});

const run = (args: string[], env: Record<string, string> = {}) => kubeseal(['--fetch-cert', ...args], { cwd: dir, env: { HOME: dir, ...env } });

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').filter((l) => !/^I\d{4} /.test(l));
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

describe('kubeseal keeps connection secrets out of what it prints', () => {
  it.each([
    ['a token with a line break (header injection)', ['--server', 'https://127.0.0.1:9', '--token', `${SECRET}\r\nX-Evil: 1`], {}, /^error: the token \(or username\/password\) holds a character an HTTP header cannot carry/],
    ['an --as value with a line break', ['--server', 'https://127.0.0.1:9', '--as', `x\r\nAuthorization: Bearer ${SECRET}`], {}, /^error: the impersonate-user value holds a character/],
    ['a client key that is not PEM', ['--server', 'https://127.0.0.1:9', '--client-certificate', 'bad.pem', '--client-key', 'bad.pem'], {}, /^error: cannot reach the API server https:\/\/127\.0\.0\.1:9: ERR_OSSL_[A-Z0-9_]+; /],
    ['a server address that is not a URL', ['--server', `https://admin:${SECRET}@[bad`], {}, /^error: the API server address \(--server, or the kubeconfig cluster's server\) is not a URL; /],
    ['a proxy that refuses connections', ['--server', 'https://10.255.255.1:6443', '--token', SECRET], { HTTPS_PROXY: `http://user:${SECRET}@127.0.0.1:9` }, /^error: cannot reach the API server https:\/\/10\.255\.255\.1:6443: cannot reach the proxy http:\/\/127\.0\.0\.1:9: ECONNREFUSED; /],
    ['a socks proxy', ['--server', 'https://10.255.255.1:6443'], { HTTPS_PROXY: `socks5://user:${SECRET}@127.0.0.1:9` }, /^error: HTTPS_PROXY names a socks5 proxy, which kubeseal does not support; /],
    ['a --proxy-url that is not one', ['--server', 'https://10.255.255.1:6443', '--proxy-url', `::${SECRET}::`], {}, /^error: the proxy-url is not a valid proxy address; /],
  ])('%s', async (_what, args, env, message) => {
    for (const v of [[], ['-v', '10']]) {
      const r = await run([...args, ...v], env);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain(SECRET);
      expect(r.stderr).not.toContain(Buffer.from(`user:${SECRET}`).toString('base64'));
      expect(oneLine(r.stderr)).toMatch(message);
    }
  });

  it('a kubeconfig whose secret fields are malformed: nothing of them is quoted', async () => {
    const kc = join(dir, 'kc.yaml');
    writeFileSync(
      kc,
      `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster: {server: "https://127.0.0.1:9", certificate-authority-data: "${SECRET}!!"}\nusers:\n- name: u\n  user: {client-certificate-data: "${SECRET}", client-key-data: "%%${SECRET}%%"}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n`,
    );
    for (const v of [[], ['-v', '10']]) {
      const r = await run(['--kubeconfig', kc, ...v]);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain(SECRET);
      expect(oneLine(r.stderr)).toMatch(/^error: the kubeconfig's certificate-authority-data is not base64; /);
    }
  });
});

describe('kubeseal bounds what an API server can make it read', () => {
  let server: import('node:http').Server;
  let sent = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      // An endless answer to the Service lookup.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = (): void => {
        while (sent < 512 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('stops reading an answer past 16 MiB', async () => {
    const r = await run(['--server', `http://127.0.0.1:${(server.address() as AddressInfo).port}`]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^error: cannot reach the API server http:\/\/127\.0\.0\.1:\d+: the answer is over 16 MiB; /);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});
