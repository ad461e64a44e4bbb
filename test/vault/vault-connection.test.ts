/**
 * How the Vault key store connects: VAULT_SKIP_VERIFY read as Vault's own tools read it (and
 * never by node-vault), plain http refused except on loopback, and no secret material in
 * node-vault's debug output. In-process against the Vault test server over https, and through
 * the sealed-secrets-keys binary (dist/) as a child process.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkVaultAddress, configFromArgs, parseEnvBool } from '../../controller/config.js';
import { VaultKeyStore } from '../../controller/keystore/vault-key-store.js';
import { buildSelfSignedCertificate, generateRsaKeyPair, keyToSecret } from '../../src/index.js';
import { tempDir } from '../cli-helpers.js';
import { VaultTestServer } from './vault-test-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let tls: { key: string; cert: string; caFile: string };
const servers: VaultTestServer[] = [];
const stores: VaultKeyStore[] = [];

beforeAll(() => {
  dir = tempDir();
  // A server certificate for 127.0.0.1 that no default trust store knows.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=vault-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
  tls = { key: readFileSync(join(dir, 'tls.key'), 'utf8'), cert: readFileSync(join(dir, 'tls.crt'), 'utf8'), caFile: join(dir, 'tls.crt') };
});

afterEach(async () => {
  stores.splice(0).forEach((s) => s.close());
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function server(withTls: boolean): Promise<VaultTestServer> {
  const v = new VaultTestServer(withTls ? { tls } : {});
  v.addToken('root-token');
  await v.start();
  servers.push(v);
  return v;
}

function keysCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist/sealed-secrets-keys.cjs'), ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('VAULT_SKIP_VERIFY and VAULT_ADDR', () => {
  it('parses VAULT_SKIP_VERIFY as Go strconv.ParseBool and names the variable otherwise', () => {
    for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseEnvBool({ VAULT_SKIP_VERIFY: v }, 'VAULT_SKIP_VERIFY')).toBe(true);
    for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False', '']) expect(parseEnvBool({ VAULT_SKIP_VERIFY: v }, 'VAULT_SKIP_VERIFY')).toBe(false);
    expect(parseEnvBool({}, 'VAULT_SKIP_VERIFY')).toBe(false);
    for (const v of ['yes', 'no', 'on', 'tRUE', ' true']) expect(() => parseEnvBool({ VAULT_SKIP_VERIFY: v }, 'VAULT_SKIP_VERIFY')).toThrow(/^VAULT_SKIP_VERIFY: ".*" is not a boolean/);
    const args = { 'key-store': 'vault' };
    expect(configFromArgs(args, { VAULT_ADDR: 'https://vault.example:8200', VAULT_SKIP_VERIFY: 'false' }, 2).vault.skipVerify).toBe(false);
    expect(configFromArgs(args, { VAULT_ADDR: 'https://vault.example:8200', VAULT_SKIP_VERIFY: 'true' }, 2).vault.skipVerify).toBe(true);
    expect(() => configFromArgs(args, { VAULT_ADDR: 'https://vault.example:8200', VAULT_SKIP_VERIFY: 'yes' }, 2)).toThrow(/VAULT_SKIP_VERIFY/);
  });

  it('refuses plain http to Vault except on loopback', () => {
    for (const a of ['http://127.0.0.1:8200', 'http://127.3.4.5:8200', 'http://localhost:8200', 'http://[::1]:8200', 'https://vault.example:8200', 'https://10.0.0.1']) expect(checkVaultAddress(a)).toBe(a);
    for (const a of ['http://vault.example:8200', 'http://10.0.0.1:8200', 'http://128.0.0.1', 'http://localhost.example.com', 'http://[::2]:8200']) {
      expect(() => checkVaultAddress(a)).toThrow(/^VAULT_ADDR: plain http to .* use https:\/\//);
    }
    expect(() => checkVaultAddress('vault:8200')).toThrow(/^VAULT_ADDR/);
    expect(() => configFromArgs({ 'key-store': 'vault' }, { VAULT_ADDR: 'http://vault.example:8200' }, 2)).toThrow(/^VAULT_ADDR: plain http/);
    expect(() => new VaultKeyStore({ address: 'http://vault.example:8200', token: 't' }, { mount: 'secret', pathPrefix: 'k/' })).toThrow(/^VAULT_ADDR: plain http/);
  });

  it('verifies the Vault certificate when VAULT_SKIP_VERIFY=false is in the environment (node-vault would not)', async () => {
    const v = await server(true);
    const before = process.env['VAULT_SKIP_VERIFY'];
    process.env['VAULT_SKIP_VERIFY'] = 'false';
    try {
      const unverified = new VaultKeyStore({ address: v.address, token: 'root-token', timeoutMs: 2000 }, { mount: 'secret', pathPrefix: 'sealed-secrets/keys/' });
      stores.push(unverified);
      await expect(unverified.load()).rejects.toMatchObject({ code: 'ERR_KEY_STORE', message: expect.stringMatching(/^Vault token lookup failed: (SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/), hint: expect.stringContaining('VAULT_CACERT') });
      expect(v.requests).toEqual([]);
      // With its CA, the same server is accepted; skipping verification is an explicit choice.
      const withCa = new VaultKeyStore({ address: v.address, token: 'root-token', caCert: tls.cert, timeoutMs: 2000 }, { mount: 'secret', pathPrefix: 'sealed-secrets/keys/' });
      const skipping = new VaultKeyStore({ address: v.address, token: 'root-token', skipVerify: true, timeoutMs: 2000 }, { mount: 'secret', pathPrefix: 'sealed-secrets/keys/' });
      stores.push(withCa, skipping);
      expect(await withCa.load()).toEqual([]);
      expect(await skipping.load()).toEqual([]);
    } finally {
      if (before === undefined) delete process.env['VAULT_SKIP_VERIFY'];
      else process.env['VAULT_SKIP_VERIFY'] = before;
    }
  });

  it('sealed-secrets-keys: VAULT_SKIP_VERIFY=false verifies, a bad value and plain http to a remote Vault are usage errors', async () => {
    const v = await server(true);
    const base = { VAULT_ADDR: v.address, VAULT_TOKEN: 'root-token' };
    const backup = join(dir, 'backup.json');
    const verified = await keysCli(['--key-store', 'vault', 'backup', '-o', backup], { ...base, VAULT_SKIP_VERIFY: 'false' });
    expect(verified.code).toBe(1);
    expect(verified.stderr).toMatch(/^error: Vault token lookup failed: [A-Z_]+; Vault's TLS certificate was not accepted: set VAULT_CACERT/);
    expect(v.requests).toEqual([]);
    const withCa = await keysCli(['--key-store', 'vault', 'backup', '-o', backup], { ...base, VAULT_SKIP_VERIFY: 'false', VAULT_CACERT: tls.caFile });
    expect(withCa).toMatchObject({ code: 0, stderr: '', stdout: `0 keys written to ${backup}\n` });
    const bad = await keysCli(['--key-store', 'vault', 'backup', '-o', backup], { ...base, VAULT_SKIP_VERIFY: 'yes' });
    expect(bad).toMatchObject({ code: 2, stdout: '', stderr: 'error: VAULT_SKIP_VERIFY: "yes" is not a boolean (use true or false)\n' });
    const plain = await keysCli(['--key-store', 'vault', 'backup', '-o', backup], { VAULT_ADDR: 'http://vault.example:8200', VAULT_TOKEN: 'root-token' });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe('error: VAULT_ADDR: plain http to vault.example:8200 would send the Vault token and the private keys unencrypted; use https:// (plain http is accepted only on loopback)\n');
  });
});

describe("node-vault's debug output", () => {
  it('under DEBUG=node-vault, neither private keys nor the ServiceAccount JWT nor the token reach stdout or stderr', async () => {
    const v = await server(false);
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.service-account-jwt-marker.c2lnbmF0dXJl';
    v.addKubernetesRole('sealed-secrets', jwt, ['*']);
    writeFileSync(join(dir, 'jwt'), jwt);
    const { privateKey, publicKey } = await generateRsaKeyPair(2048);
    const cert = await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date(), ttlMs: 3600_000, commonName: '' });
    writeFileSync(join(dir, 'key.json'), JSON.stringify(keyToSecret(privateKey, cert, { namespace: 'kube-system' })));
    const env = { VAULT_ADDR: v.address, DEBUG: 'node-vault', DEBUG_COLORS: '0' };
    const k8sAuth = ['--key-store', 'vault', '--vault-auth-role', 'sealed-secrets', '--vault-auth-jwt-file', join(dir, 'jwt')];
    const runs = [
      await keysCli([...k8sAuth, 'restore', join(dir, 'key.json')], env),
      await keysCli([...k8sAuth, 'rotate', '--key-size', '2048', '--activation-delay', '0'], env),
      await keysCli(['--key-store', 'vault', 'backup', '-o', join(dir, 'b.json')], { ...env, VAULT_TOKEN: 'root-token' }),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(runs[0]!.stdout).toBe('1 keys restored, 0 already present\n');
    expect(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')).items).toHaveLength(2);
    // The login really happened with the JWT, and keys were written and read back.
    expect(v.requests.filter((r) => r === 'POST /v1/auth/kubernetes/login')).toHaveLength(2);
    const out = runs.map((r) => r.stdout + r.stderr).join('\n');
    expect(out).not.toMatch(/PRIVATE KEY|service-account-jwt-marker|root-token|hvs\.|tls\.key/);
    expect(out).not.toContain(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString().split('\n')[1]!);
    expect(out).not.toMatch(/node-vault/);
  });
});
