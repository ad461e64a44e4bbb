/**
 * `npm run demo`: a walk-through of sealing and unsealing with a throw-away key,
 * through the real kubeseal binary. (The controller issue replaces it with a run
 * against a local cluster.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CERT_TTL_MS, buildSelfSignedCertificate, generateRsaKeyPair, keyToSecret } from '../src/index.js';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sealed-secrets-demo-'));
  const kubeseal = (args: string[], input?: string) =>
    execFileSync(process.execPath, [join(__dirname, 'kubeseal.cjs'), ...args], { cwd: dir, input, encoding: 'utf8' });
  try {
    const say = (s: string) => process.stdout.write(`\n\x1b[1m# ${s}\x1b[0m\n`);
    say('1. A throw-away RSA-4096 sealing key and its certificate, as the controller makes them');
    const { privateKey, publicKey } = await generateRsaKeyPair(4096);
    const cert = await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date(), ttlMs: DEFAULT_CERT_TTL_MS });
    writeFileSync(join(dir, 'cert.pem'), cert);
    writeFileSync(join(dir, 'key-backup.json'), JSON.stringify(keyToSecret(privateKey, cert, { namespace: 'kube-system' })));
    process.stdout.write(cert);

    say('2. A plain Secret, as a developer writes it (never committed)');
    const secret = `apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: prod
  labels:
    app: billing
type: Opaque
stringData:
  username: billing
  password: correct horse battery staple
`;
    process.stdout.write(secret);

    say('3. kubeseal --cert cert.pem < secret.yaml   (offline: only the public certificate)');
    const sealed = kubeseal(['--cert', 'cert.pem'], secret);
    process.stdout.write(sealed);
    writeFileSync(join(dir, 'sealed.yaml'), sealed);

    say('4. kubeseal --raw: one value, for --merge-into or a template');
    const raw = kubeseal(['--cert', 'cert.pem', '--raw', '--namespace', 'prod', '--name', 'db-credentials'], 'api-token-42');
    process.stdout.write(raw.slice(0, 60) + '...\n');

    say('5. kubeseal --recovery-unseal with the backed-up key: the Secret the controller would create');
    const unsealed = kubeseal(['--recovery-unseal', '--recovery-private-key', 'key-backup.json', '-f', 'sealed.yaml']);
    process.stdout.write(unsealed);
    const password = /password: (\S+)/.exec(unsealed)?.[1];
    const ok = password !== undefined && Buffer.from(password, 'base64').toString() === 'correct horse battery staple';
    say(ok ? 'Round trip OK: the unsealed password matches.' : 'Round trip FAILED');
    if (!ok) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
