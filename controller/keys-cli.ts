#!/usr/bin/env node
/**
 * sealed-secrets-keys: key custody for the security team.
 *   list       keys with fingerprint, size, created, state and how many SealedSecrets each opens
 *   rotate     add a new key now (it seals after --activation-delay, once every replica has it)
 *   backup     write every key as a List of upstream key Secrets (usable by kubeseal --recovery-unseal)
 *   restore    import keys from backups, upstream key Secrets or PEM files
 *   retire     stop loading a key, only when no SealedSecret needs it any more
 *   migrate    copy the keys of the Kubernetes store into Vault (no gap: keys exist in both)
 * It talks to the key store (Kubernetes Secrets or Vault, as the controller) and, for
 * usage counts, lists SealedSecrets in the cluster.
 */
import { readFileSync } from 'node:fs';
import { KubeConfig } from './kube/kubeconfig.js';
import yargs from 'yargs';
import { parseAllDocuments } from 'yaml';
import {
  SealedSecretsError,
  argsFromEnv,
  buildSelfSignedCertificate,
  describeForeignError,
  generateRsaKeyPair,
  isKeySize,
  isSealedSecretsError,
  keyToSecret,
  keysFromObjects,
  keysFromPem,
  writePrivateFile,
  type SealedSecret,
} from '../src/index.js';
import { checkVaultAddress, parseDuration, parseEnvBool } from './config.js';
import { KubeClient, paths } from './kube/client.js';
import { keyUsage } from './key-usage.js';
import { checkCertificateBelongs, sortKeys, type KeyStore, type NewKey } from './keystore/key-store.js';
import { KubernetesKeyStore } from './keystore/kubernetes-key-store.js';
import { VaultKeyStore } from './keystore/vault-key-store.js';

interface Args {
  'key-store': string;
  kubeconfig?: string;
  namespace: string;
  'key-prefix': string;
  'vault-kv-mount': string;
  'vault-path-prefix': string;
  'vault-auth-role'?: string;
  'vault-token-file'?: string;
  'vault-auth-mount': string;
  'vault-auth-jwt-file': string;
  _: (string | number)[];
  [k: string]: unknown;
}

const FLAGS = ['key-store', 'kubeconfig', 'namespace', 'key-prefix', 'vault-kv-mount', 'vault-path-prefix', 'vault-auth-role', 'vault-auth-mount', 'vault-auth-jwt-file', 'vault-token-file'].map((name) => ({ name }));

function kube(a: Args): KubeClient {
  const kc = new KubeConfig();
  if (a.kubeconfig) kc.loadFromFile(a.kubeconfig);
  else kc.loadFromDefault();
  return new KubeClient(kc, { qps: 20, burst: 40 });
}

function openStore(a: Args, kind = a['key-store']): KeyStore {
  if (kind === 'vault') {
    const env = process.env;
    if (!env['VAULT_ADDR']) throw new SealedSecretsError('ERR_USAGE', '--key-store vault needs VAULT_ADDR');
    let skipVerify: boolean;
    try {
      checkVaultAddress(env['VAULT_ADDR']);
      skipVerify = parseEnvBool(env, 'VAULT_SKIP_VERIFY');
    } catch (e) {
      throw new SealedSecretsError('ERR_USAGE', (e as Error).message);
    }
    const token = env['VAULT_TOKEN'] || (a['vault-token-file'] ? readFileSync(a['vault-token-file'], 'utf8').trim() : undefined);
    return new VaultKeyStore(
      {
        address: env['VAULT_ADDR'],
        skipVerify,
        token,
        namespace: env['VAULT_NAMESPACE'],
        caCert: env['VAULT_CACERT'] ? readFileSync(env['VAULT_CACERT'], 'utf8') : undefined,
        kubernetesRole: a['vault-auth-role'] || undefined,
        kubernetesMount: a['vault-auth-mount'],
        kubernetesJwt: () => readFileSync(a['vault-auth-jwt-file'], 'utf8'),
      },
      { mount: a['vault-kv-mount'], pathPrefix: a['vault-path-prefix'] },
    );
  }
  return new KubernetesKeyStore(kube(a), { namespace: a.namespace, keyPrefix: a['key-prefix'] });
}

async function sealedSecrets(a: Args): Promise<SealedSecret[] | undefined> {
  try {
    const list = await kube(a).request<{ items: SealedSecret[] }>({ method: 'GET', path: paths.sealedSecrets() });
    return list.items;
  } catch (e) {
    process.stderr.write(`warning: cannot list SealedSecrets in the cluster (${describeForeignError(e)}); usage is unknown\n`);
    return undefined;
  }
}

function close(store: KeyStore): void {
  if (store instanceof VaultKeyStore) store.close();
}

async function main(argv: string[]): Promise<number> {
  const all = [...argsFromEnv(argv, process.env, FLAGS), ...argv];
  const parser = yargs(all)
    .scriptName('sealed-secrets-keys')
    .parserConfiguration({ 'camel-case-expansion': false })
    .option('key-store', { type: 'string', choices: ['kubernetes', 'vault'], default: 'kubernetes' })
    .option('kubeconfig', { type: 'string', requiresArg: true })
    .option('namespace', { type: 'string', default: process.env['POD_NAMESPACE'] || 'kube-system', describe: 'the controller namespace (key Secrets)' })
    .option('key-prefix', { type: 'string', default: 'sealed-secrets-key' })
    .option('vault-kv-mount', { type: 'string', default: 'secret' })
    .option('vault-path-prefix', { type: 'string', default: 'sealed-secrets/keys/' })
    .option('vault-auth-role', { type: 'string' })
    .option('vault-auth-mount', { type: 'string', default: 'kubernetes' })
    .option('vault-auth-jwt-file', { type: 'string', default: '/var/run/secrets/kubernetes.io/serviceaccount/token' })
    .option('vault-token-file', { type: 'string' })
    .command('list', 'List keys and how many SealedSecrets each opens', (y) => y.option('json', { type: 'boolean', default: false }))
    .command('rotate', 'Add a new sealing key now', (y) =>
      y.option('key-size', { type: 'number', default: 4096 }).option('activation-delay', { type: 'string', default: '2m' }).option('my-cn', { type: 'string', default: '' }),
    )
    .command('backup', 'Write every key as a List of upstream key Secrets', (y) => y.option('output', { alias: 'o', type: 'string', demandOption: true, requiresArg: true }))
    .command('restore <files..>', 'Import keys from backups, upstream key Secrets or PEM private keys', (y) => y.positional('files', { type: 'string', array: true }))
    .command('retire <fingerprint>', 'Stop using a key, only if no SealedSecret needs it', (y) => y.positional('fingerprint', { type: 'string' }))
    .command('migrate', 'Copy every key from Kubernetes Secrets into Vault', (y) => y.option('to', { type: 'string', choices: ['vault'], default: 'vault' }))
    .demandCommand(1, 'name a command: list, rotate, backup, restore, retire or migrate')
    .strict()
    .help()
    .wrap(null)
    .exitProcess(false);
  let failure: string | undefined;
  let output = '';
  parser.fail((msg, err) => {
    failure = msg || err?.message;
  });
  const a = (await parser.parseAsync(all, {}, (_e: unknown, _a: unknown, o: string) => {
    output = o;
  })) as Args;
  if (failure) {
    process.stderr.write(`error: ${failure}\n`);
    return 2;
  }
  if (output) {
    process.stdout.write(output + '\n');
    return 0;
  }
  const cmd = String(a._[0]);
  let store: KeyStore;
  try {
    store = openStore(a);
  } catch (e) {
    process.stderr.write(`error: ${isSealedSecretsError(e) ? e.detail : 'internal error'}\n`);
    return isSealedSecretsError(e) && e.code === 'ERR_USAGE' ? 2 : 1;
  }
  try {
    if (cmd === 'list') {
      const keys = await store.load((id, reason) => process.stderr.write(`warning: skipping invalid key ${id}: ${reason}\n`));
      const ss = await sealedSecrets(a);
      const usage = ss ? keyUsage(keys, ss) : undefined;
      const rows = sortKeys(keys, 'CertNotBefore').map((k) => ({
        fingerprint: k.fingerprint,
        size: k.publicKey.asymmetricKeyDetails?.modulusLength ?? 0,
        created: new Date(k.createdAt).toISOString(),
        state: (k.activateAt ?? 0) > Date.now() ? 'pending' : 'active',
        sealedSecrets: usage ? usage.byKey.get(k.fingerprint)!.length : null,
        id: k.id,
      }));
      if (a['json']) process.stdout.write(JSON.stringify({ keys: rows, unopenable: usage?.unopenable ?? null }, null, 2) + '\n');
      else {
        process.stdout.write(['FINGERPRINT'.padEnd(52), 'SIZE', 'CREATED'.padEnd(24), 'STATE  ', 'SEALEDSECRETS'].join(' ') + '\n');
        for (const r of rows) process.stdout.write([r.fingerprint.padEnd(52), String(r.size).padEnd(4), r.created.padEnd(24), r.state.padEnd(7), r.sealedSecrets ?? '?'].join(' ') + '\n');
        if (usage?.unopenable.length) process.stdout.write(`\n${usage.unopenable.length} SealedSecret(s) no key here opens: ${usage.unopenable.slice(0, 10).join(', ')}\n`);
      }
      return 0;
    }
    if (cmd === 'rotate') {
      const bits = Number(a['key-size']);
      if (!isKeySize(bits)) throw new SealedSecretsError('ERR_USAGE', '--key-size must be 2048, 3072 or 4096');
      const keys = await store.load();
      const { privateKey, publicKey } = await generateRsaKeyPair(bits);
      const certificatePem = await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date(), ttlMs: 87600 * 3600 * 1000, commonName: String(a['my-cn'] ?? '') });
      const delay = parseDuration(String(a['activation-delay']), 'activation-delay');
      const stored = await store.createIfNoNewKey(keys.map((k) => k.fingerprint), { privateKey, publicKey, certificatePem, activateAt: delay ? Date.now() + delay : undefined });
      if (!stored) throw new SealedSecretsError('ERR_KEY_STORE', 'another rotation added a key at the same time; nothing was added', { hint: 'run list to see it' });
      process.stdout.write(`new key ${stored.fingerprint} (${stored.id}); it seals from ${new Date(stored.activateAt ?? Date.now()).toISOString()}\n`);
      return 0;
    }
    if (cmd === 'backup') {
      const keys = await store.load();
      const list = { apiVersion: 'v1', kind: 'List', items: keys.map((k) => keyToSecret(k.privateKey, k.certificatePem, { namespace: a.namespace, keyPrefix: a['key-prefix'] })) };
      // Private keys: a new 0600 file renamed into place; a symlinked path is refused.
      await writePrivateFile(String(a['output']), JSON.stringify(list, null, 2) + '\n', { what: 'private keys' });
      process.stdout.write(`${keys.length} keys written to ${String(a['output'])}\n`);
      return 0;
    }
    if (cmd === 'restore') {
      let added = 0;
      let present = 0;
      // Every key of every file is checked before the first is imported: a bad input restores nothing.
      const toImport: NewKey[] = [];
      for (const f of a['files'] as string[]) {
        const text = readFileSync(f, 'utf8');
        const keys = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? keysFromPem(text, f) : keysFromObjects(parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean), f);
        for (const k of keys) {
          if (!k.certificatePem) throw new SealedSecretsError('ERR_KEY_INVALID', `${k.source}: a key without its certificate cannot be restored into a key store`, { hint: 'restore from a backup or key Secret with tls.crt; kubeseal --recovery-unseal can still use the bare key' });
          checkCertificateBelongs(k.publicKey, k.certificatePem, k.source);
          toImport.push({ privateKey: k.privateKey, publicKey: k.publicKey, certificatePem: k.certificatePem });
        }
      }
      for (const k of toImport) {
        const r = await store.importKey(k);
        if (r === 'exists') present++;
        else added++;
      }
      process.stdout.write(`${added} keys restored, ${present} already present\n`);
      return 0;
    }
    if (cmd === 'retire') {
      const fp = String(a['fingerprint']);
      const keys = await store.load();
      if (!keys.some((k) => k.fingerprint === fp)) throw new SealedSecretsError('ERR_KEY_STORE', `no active key ${fp}`, { hint: 'run list to see the fingerprints' });
      if (keys.length === 1) throw new SealedSecretsError('ERR_KEY_STORE', `refusing to retire ${fp}: it is the only key`);
      const ss = await sealedSecrets(a);
      if (!ss) throw new SealedSecretsError('ERR_UNAVAILABLE', `refusing to retire ${fp}: cannot check which SealedSecrets need it`, { hint: 'give cluster access (--kubeconfig)' });
      const users = keyUsage(keys, ss).byKey.get(fp)!;
      if (users.length) {
        throw new SealedSecretsError('ERR_KEY_STORE', `refusing to retire ${fp}: ${users.length} SealedSecret(s) still need it: ${users.slice(0, 20).join(', ')}${users.length > 20 ? ', ...' : ''}`, {
          hint: 're-encrypt them to the newest key first (kubeseal --re-encrypt), then try again',
        });
      }
      await store.retire(fp);
      process.stdout.write(`key ${fp} retired; running controllers drop it at their next reload\n`);
      return 0;
    }
    if (cmd === 'migrate') {
      const from = openStore(a, 'kubernetes');
      const to = openStore(a, 'vault');
      let added = 0;
      for (const k of await from.load()) {
        if ((await to.importKey({ privateKey: k.privateKey, publicKey: k.publicKey, certificatePem: k.certificatePem })) !== 'exists') added++;
      }
      close(to);
      process.stdout.write(`${added} keys copied into Vault; the Kubernetes key Secrets are left in place. Switch the controller with --key-store vault.\n`);
      return 0;
    }
    return 2;
  } catch (e) {
    process.stderr.write(`error: ${isSealedSecretsError(e) ? e.detail : 'internal error'}\n`);
    return isSealedSecretsError(e) && e.code === 'ERR_USAGE' ? 2 : 1;
  } finally {
    close(store);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`fatal: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
