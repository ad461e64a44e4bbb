/** sealed-secrets-keys against a real API server (Kubernetes key store) and the Vault test server. */
import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { publicKeyFingerprint, sealSecret, type SealedSecret, type Secret } from '../../src/index.js';
import { kubeseal, tempDir } from '../cli-helpers.js';
import { VaultTestServer } from '../vault/vault-test-server.js';
import { ROOT, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';

let cluster: Cluster;
let ctrl: ControllerProcess;
let dir: string;

function keysCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'dist/sealed-secrets-keys.cjs'), '--kubeconfig', cluster.kubeconfig, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function list(): Promise<{ keys: { fingerprint: string; sealedSecrets: number; state: string }[]; unopenable: string[] }> {
  const r = await keysCli(['list', '--json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } } });
  ctrl = await startController(cluster.kubeconfig);
  await waitFor(async () => (await fetch(`${ctrl.url}/v1/cert.pem`)).ok, 30_000, 'the first key');
  dir = tempDir();
}, 20 * 60_000);

afterAll(async () => {
  await ctrl?.stop();
  cluster?.down();
});

describe('sealed-secrets-keys', () => {
  it('lists, rotates, refuses to retire a key in use, backs up, and retires once nothing needs the key', async () => {
    const cert1 = await (await fetch(`${ctrl.url}/v1/cert.pem`)).text();
    const fp1 = publicKeyFingerprint(createPublicKey(cert1));
    for (const name of ['alpha', 'beta']) {
      const ss = sealSecret({ metadata: { name, namespace: 'app' }, stringData: { v: `value-${name}` } }, { publicKey: createPublicKey(cert1) });
      await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('app'), body: ss });
    }
    const before = await list();
    expect(before.keys).toEqual([expect.objectContaining({ fingerprint: fp1, sealedSecrets: 2, state: 'active' })]);

    const rot = await keysCli(['rotate', '--key-size', '2048', '--activation-delay', '0']);
    expect(rot.stderr).toBe('');
    expect(rot.code).toBe(0);
    await waitFor(async () => (await (await fetch(`${ctrl.url}/v1/cert.pem`)).text()) !== cert1, 20_000, 'the controller to seal with the new key');
    const after = await list();
    expect(after.keys.map((k) => k.sealedSecrets)).toEqual([2, 0]);
    const fp2 = after.keys[1]!.fingerprint;

    const refused = await keysCli(['retire', fp1]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(`error: refusing to retire ${fp1}: 2 SealedSecret(s) still need it: app/alpha, app/beta; re-encrypt them to the newest key first (kubeseal --re-encrypt), then try again`);

    const backup = join(dir, 'keys-backup.json');
    expect((await keysCli(['backup', '-o', backup])).stdout).toBe(`2 keys written to ${backup}\n`);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    const alpha = await cluster.admin.request<SealedSecret>({ method: 'GET', path: paths.sealedSecret('app', 'alpha') });
    const rec = await kubeseal(['--recovery-unseal', '--recovery-private-key', backup, '-o', 'json'], { input: JSON.stringify(alpha), cwd: dir });
    expect(Buffer.from(JSON.parse(rec.stdout).data.v, 'base64').toString()).toBe('value-alpha');

    // Re-encrypt both to the new key through the controller, then the old key may go.
    for (const name of ['alpha', 'beta']) {
      const cur = await cluster.admin.request<SealedSecret>({ method: 'GET', path: paths.sealedSecret('app', name) });
      const r = await fetch(`${ctrl.url}/v1/rotate`, { method: 'POST', body: JSON.stringify(cur), headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(200);
      const next = (await r.json()) as SealedSecret;
      await cluster.admin.request({ method: 'PUT', path: paths.sealedSecret('app', name), body: { ...cur, spec: next.spec, metadata: { ...cur.metadata, annotations: next.metadata.annotations } } });
    }
    expect((await list()).keys.map((k) => [k.fingerprint, k.sealedSecrets])).toEqual([[fp1, 0], [fp2, 2]]);
    const retired = await keysCli(['retire', fp1]);
    expect(retired.stderr).toBe('');
    expect(retired.code).toBe(0);
    const keySecrets = await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets('kube-system'), query: { labelSelector: 'sealedsecrets.bitnami.com/sealed-secrets-key' } });
    expect(keySecrets.items.map((s) => s.metadata.labels!['sealedsecrets.bitnami.com/sealed-secrets-key']).sort()).toEqual(['active', 'retired']);
    expect((await list()).keys.map((k) => k.fingerprint)).toEqual([fp2]);
    // The running controller drops the retired key (it used to hold it until a restart).
    await waitFor(async () => (await ctrl.metric('sealed_secrets_controller_keys')) === 1, 20_000, 'the controller to drop the retired key');
    expect(publicKeyFingerprint(createPublicKey(await (await fetch(`${ctrl.url}/v1/cert.pem`)).text()))).toBe(fp2);

    // A key Secret whose tls.crt is another key's is refused, and nothing of the file is restored.
    const items = (JSON.parse(readFileSync(backup, 'utf8')) as { items: Secret[] }).items;
    const swapped = { ...items[0]!, metadata: { ...items[0]!.metadata, name: 'swapped-key' }, data: { ...items[0]!.data, 'tls.crt': items[1]!.data!['tls.crt']! } };
    const bad = join(dir, 'bad-backup.json');
    writeFileSync(bad, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [items[1], swapped] }));
    const refusedRestore = await keysCli(['restore', bad]);
    expect(refusedRestore.code).toBe(1);
    expect(refusedRestore.stderr).toBe(`error: ${bad}: Secret kube-system/swapped-key: tls.crt does not belong to tls.key; the certificate must be the one made for this private key\n`);
    const afterRefusal = await cluster.admin.request<{ items: Secret[] }>({ method: 'GET', path: paths.secrets('kube-system'), query: { labelSelector: 'sealedsecrets.bitnami.com/sealed-secrets-key' } });
    expect(afterRefusal.items).toHaveLength(2);
    // Everything still unseals.
    await waitFor(async () => {
      const s = await cluster.admin.request<Secret>({ method: 'GET', path: paths.secret('app', 'beta') }).catch(() => undefined);
      return s && Buffer.from(s.data!['v']!, 'base64').toString() === 'value-beta';
    }, 20_000, 'app/beta');
  }, 120_000);

  it('migrates the keys into Vault and restores a backup there', async () => {
    const vault = new VaultTestServer();
    vault.addToken('migrate-token');
    await vault.start();
    try {
      const env = { VAULT_ADDR: vault.address, VAULT_TOKEN: 'migrate-token' };
      const m = await keysCli(['migrate'], env);
      expect(m.stderr).toBe('');
      expect(m.stdout).toBe('1 keys copied into Vault; the Kubernetes key Secrets are left in place. Switch the controller with --key-store vault.\n');
      const inVault = await keysCli(['--key-store', 'vault', 'list', '--json'], env);
      const active = (await list()).keys.map((k) => k.fingerprint);
      expect((JSON.parse(inVault.stdout) as { keys: { fingerprint: string }[] }).keys.map((k) => k.fingerprint)).toEqual(active);
      const restored = await keysCli(['--key-store', 'vault', 'restore', join(dir, 'keys-backup.json')], env);
      expect(restored.stdout).toBe('1 keys restored, 1 already present\n');
      // A controller switched to Vault serves the same sealing key and unseals everything.
      await ctrl.stop();
      ctrl = await startController(cluster.kubeconfig, ['--key-store', 'vault', '--key-store-poll-interval', '1s'], env);
      await waitFor(async () => (await fetch(`${ctrl.url}/readyz`)).ok, 30_000, 'the Vault-backed controller');
      expect(await ctrl.metric('sealed_secrets_controller_keys')).toBe(2);
      expect(ctrl.logs.some((l) => l.includes('msg="key store: Vault"'))).toBe(true);
      await cluster.admin.request({ method: 'DELETE', path: paths.secret('app', 'alpha') });
      await waitFor(() => cluster.admin.request({ method: 'GET', path: paths.secret('app', 'alpha') }).catch(() => undefined), 20_000, 'app/alpha restored by the Vault-backed controller');
      // Vault goes away: the controller keeps serving from the keys it holds and says so.
      await vault.down();
      await waitFor(async () => /key store unreachable/.test(await (await fetch(`${ctrl.url}/readyz`)).text()), 60_000, 'readiness to report the outage');
      expect((await fetch(`${ctrl.url}/readyz`)).status).toBe(200);
      await cluster.admin.request({ method: 'DELETE', path: paths.secret('app', 'beta') });
      await waitFor(() => cluster.admin.request({ method: 'GET', path: paths.secret('app', 'beta') }).catch(() => undefined), 20_000, 'app/beta restored during the outage');
      await vault.up();
    } finally {
      await vault.stop();
    }
  });
});
