import { describe, expect, it } from 'vitest';
import { argsFromEnv } from '../src/index.js';
import { CONTROLLER_FLAGS, buildControllerParser, configFromArgs, parseDuration } from './config.js';

async function config(argv: string[], env: Record<string, string> = {}) {
  const all = [...argsFromEnv(argv, env, CONTROLLER_FLAGS), ...argv];
  const args = await buildControllerParser(all).parseAsync(all);
  return configFromArgs(args as Record<string, unknown>, env, 2);
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

  it('parses Go durations', () => {
    expect(parseDuration('1h30m', 'x')).toBe(5_400_000);
    expect(parseDuration('0', 'x')).toBe(0);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(() => parseDuration('10 days', 'key-ttl')).toThrow('--key-ttl: invalid duration "10 days"');
  });
});
