import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { argsFromEnv } from '../src/index.js';
import { CONTROLLER_FLAGS, buildControllerParser, configFromArgs, defaultLeaseName, parseDuration, undescribedFlags } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'ss-config-'));
/** A ServiceAccount namespace file, as the kubelet mounts it. */
function namespaceFile(content: string | undefined): string {
  const f = join(dir, `ns-${Math.random().toString(36).slice(2)}`);
  if (content !== undefined) writeFileSync(f, content);
  return f;
}

async function config(argv: string[], env: Record<string, string> = { POD_NAMESPACE: 'kube-system' }, nsFile = namespaceFile(undefined)) {
  const all = [...argsFromEnv(argv, env, CONTROLLER_FLAGS), ...argv];
  const args = await buildControllerParser(all).parseAsync(all);
  return configFromArgs(args as Record<string, unknown>, env, 2, nsFile);
}

describe('controller configuration', () => {
  it('has upstream flag names and this project\'s defaults, frozen', async () => {
    const c = await config([]);
    expect(c.namespace).toBe('kube-system');
    expect(c.keyPrefix).toBe('sealed-secrets-key');
    expect(c.keySize).toBe(4096);
    expect(c.keyRenewPeriodMs).toBe(90 * 24 * 3600 * 1000);
    expect(c.namespaces).toBeUndefined();
    expect(c.workers).toBe(2);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads SEALED_SECRETS_<FLAG>, and a flag on the command line wins', async () => {
    const env = { SEALED_SECRETS_KEY_RENEW_PERIOD: '720h', SEALED_SECRETS_UPDATE_STATUS: 'false', SEALED_SECRETS_KUBECLIENT_QPS: '7', POD_NAMESPACE: 'sealed' };
    const c = await config(['--kubeclient-qps', '9'], env);
    expect(c.keyRenewPeriodMs).toBe(720 * 3600 * 1000);
    expect(c.updateStatus).toBe(false);
    expect(c.kubeclientQps).toBe(9);
    expect(c.namespace).toBe('sealed');
  });

  it('--kubeclient-qps 0 and --kubeclient-burst 0 mean client-go\'s defaults (5 and 10), as upstream', async () => {
    const c = await config(['--kubeclient-qps', '0', '--kubeclient-burst', '0'], {});
    expect(c.kubeclientQps).toBe(5);
    expect(c.kubeclientBurst).toBe(10);
  });

  it('--additional-namespaces narrows the watch to the controller namespace plus those listed, as upstream', async () => {
    expect((await config(['--additional-namespaces', 'a,b'])).namespaces).toEqual(['kube-system', 'a', 'b']);
    expect((await config(['--all-namespaces=false'])).namespaces).toEqual(['kube-system']);
  });

  it('--trusted-proxies (new, also SEALED_SECRETS_TRUSTED_PROXIES) takes addresses and CIDRs; by default no proxy is trusted', async () => {
    expect((await config([])).trustedProxies).toEqual([]);
    expect((await config(['--trusted-proxies', '10.0.0.0/8, 192.0.2.7'])).trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7']);
    expect((await config([], { SEALED_SECRETS_TRUSTED_PROXIES: 'fd00::/8' })).trustedProxies).toEqual(['fd00::/8']);
    await expect(config(['--trusted-proxies', 'apiserver.local'])).rejects.toThrow('--trusted-proxies: "apiserver.local" is not an IP address or CIDR');
  });

  it('refuses bad values with a message naming the flag', async () => {
    await expect(config(['--key-size', '1024'])).rejects.toThrow('--key-size: 1024 is not one of 2048, 3072, 4096');
    await expect(config(['--key-prefix', 'Bad_Prefix'])).rejects.toThrow('--key-prefix: "Bad_Prefix" must be 1 to 245 characters of a-z, 0-9 and -');
    await expect(config(['--key-cutoff-time', 'yesterday'])).rejects.toThrow('--key-cutoff-time: "yesterday" is not a date');
    await expect(config(['--privatekey-labels', 'novalue'])).rejects.toThrow('--privatekey-labels: "novalue" is not key=value');
  });

  it('the controller namespace is $POD_NAMESPACE, else the ServiceAccount namespace file (trimmed), else "default", as upstream\'s myNamespace', async () => {
    expect((await config([], { POD_NAMESPACE: 'from-env' }, namespaceFile('from-file\n'))).namespace).toBe('from-env');
    expect((await config([], {}, namespaceFile('  sealed-secrets\n'))).namespace).toBe('sealed-secrets');
    expect((await config([], {}, namespaceFile(' \n'))).namespace).toBe('default');
    expect((await config([], {}, namespaceFile(undefined))).namespace).toBe('default');
    // The keys and the narrowed watch follow it.
    expect((await config(['--all-namespaces=false'], {}, namespaceFile('team-x'))).namespaces).toEqual(['team-x']);
  });

  it('the default Lease name tells apart controllers with another key prefix or label selector; --leader-elect-id wins', async () => {
    expect((await config([])).leaseName).toBe('sealed-secrets-controller');
    const a = await config(['--key-prefix', 'shard-a']);
    const b = await config(['--key-prefix', 'shard-b']);
    expect(a.leaseName).toBe('sealed-secrets-controller-shard-a');
    expect(b.leaseName).toBe('sealed-secrets-controller-shard-b');
    const s1 = await config(['--label-selector', 'shard=1']);
    const s2 = await config(['--label-selector', 'shard=2']);
    expect(s1.leaseName).toMatch(/^sealed-secrets-controller-[0-9a-f]{10}$/);
    expect(s1.leaseName).not.toBe(s2.leaseName);
    expect(s1.leaseNameDerived).toBe(true);
    const fixed = await config(['--leader-elect-id', 'mine', '--key-prefix', 'shard-a']);
    expect([fixed.leaseName, fixed.leaseNameDerived]).toEqual(['mine', false]);
    // Always a valid object name, even for the longest prefix.
    expect(defaultLeaseName('x'.repeat(245), 'a=b')).toMatch(/^[a-z0-9-]{1,253}$/);
  });

  it('--log-info-stdout defaults to true; --watch-for-secrets and --skip-recreate are read', async () => {
    const c = await config([]);
    expect([c.logInfoStdout, c.watchForSecrets, c.skipRecreate]).toEqual([true, true, false]);
    const d = await config(['--log-info-stdout=false', '--watch-for-secrets=false', '--skip-recreate']);
    expect([d.logInfoStdout, d.watchForSecrets, d.skipRecreate]).toEqual([false, false, true]);
    expect((await config([], { SEALED_SECRETS_LOG_INFO_STDOUT: 'false', POD_NAMESPACE: 'x' })).logInfoStdout).toBe(false);
  });

  it('every flag has a --help description', () => {
    expect(undescribedFlags()).toEqual([]);
  });

  it('parses Go durations', () => {
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('0', 'x')).toBe(0);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(() => parseDuration('10 days', 'key-ttl')).toThrow('--key-ttl: invalid duration "10 days"');
  });
});
