/**
 * The controller's configuration: flags named as upstream's (cmd/controller/main.go),
 * each also settable as SEALED_SECRETS_<FLAG> (a flag on the command line wins),
 * then defaults from one constant. Built once in main.ts and frozen.
 */
import yargs from 'yargs';
import { isKeySize, type FlagSpec, type KeySize } from '../src/index.js';
import { parseTrustedProxies } from './http.js';
import { parseLogLevel, type LogLevel } from './log.js';

/**
 * Reconciles in flight by default: 16 per pool worker, so that two batches of up to 8
 * SealedSecrets per worker are always queued while the main thread writes the results of
 * others (bench/: RSA-4096 cold sync 192 -> 282 unseals/s on 2 cores against 8 in flight).
 */
export const defaultConcurrency = (workers: number): number => Math.max(16, workers * 16);

export const DEFAULTS = {
  'key-prefix': 'sealed-secrets-key',
  'key-size': 4096,
  'key-ttl': '87600h',
  'my-cn': '',
  // Upstream renews every 720h (30 days); this project renews every 90 days.
  'key-renew-period': '2160h',
  'key-order-priority': 'CertNotBefore',
  'key-cutoff-time': '',
  'accept-deprecated-v1-data': true,
  'all-namespaces': true,
  'additional-namespaces': '',
  'label-selector': '',
  'rate-limit': 2,
  'rate-limit-burst': 2,
  // New (not upstream's): proxies whose X-Forwarded-For is believed for the rate limit.
  'trusted-proxies': '',
  'privatekey-annotations': '',
  'privatekey-labels': '',
  'old-gc-behavior': false,
  'update-status': true,
  'watch-for-secrets': true,
  'skip-recreate': false,
  'log-level': 'INFO',
  'log-format': 'text',
  'max-unseal-retries': 5,
  // Upstream's 5/10 is what made 4000-object syncs take 20-30 minutes (upstream #1833).
  'kubeclient-qps': 50,
  'kubeclient-burst': 100,
  'listen-addr': ':8080',
  'listen-metrics-addr': ':8081',
  'read-timeout': '2m',
  'write-timeout': '2m',
  workers: 0,
  concurrency: 0,
  'leader-elect': true,
  'leader-elect-lease-duration': '15s',
  'leader-elect-renew-deadline': '10s',
  'leader-elect-retry-period': '2s',
  'leader-elect-id': 'sealed-secrets-controller',
  kubeconfig: '',
  'key-store': 'kubernetes',
  'key-activation-delay': '2m',
  'key-store-poll-interval': '30s',
  'vault-kv-mount': 'secret',
  'vault-path-prefix': 'sealed-secrets/keys/',
  'vault-auth-role': '',
  'vault-auth-mount': 'kubernetes',
  'vault-auth-jwt-file': '/var/run/secrets/kubernetes.io/serviceaccount/token',
  'vault-token-file': '',
} as const;

export interface ControllerConfig {
  namespace: string;
  kubeconfig: string | undefined;
  keyPrefix: string;
  keySize: KeySize;
  keyTtlMs: number;
  myCn: string;
  keyRenewPeriodMs: number;
  keyOrderPriority: 'CertNotBefore' | 'SecretCreationTimestamp';
  keyCutoffTime: number | undefined;
  acceptDeprecatedV1Data: boolean;
  namespaces: string[] | undefined;
  labelSelector: string | undefined;
  rateLimit: number;
  rateLimitBurst: number;
  /** --trusted-proxies: addresses and CIDRs; empty: the rate limit keys on the socket's peer only. */
  trustedProxies: string[];
  privateKeyAnnotations: Record<string, string>;
  privateKeyLabels: Record<string, string>;
  oldGcBehavior: boolean;
  updateStatus: boolean;
  skipRecreate: boolean;
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  maxUnsealRetries: number;
  kubeclientQps: number;
  kubeclientBurst: number;
  listenAddr: string;
  listenMetricsAddr: string;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  workers: number;
  concurrency: number;
  leaderElect: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  leaseName: string;
  keyStore: 'kubernetes' | 'vault';
  keyActivationDelayMs: number;
  keyStorePollIntervalMs: number;
  vault: {
    address: string | undefined;
    /** VAULT_SKIP_VERIFY, parsed as Vault's own tools do (strconv.ParseBool); false unless set. */
    skipVerify: boolean;
    namespace: string | undefined;
    caCertFile: string | undefined;
    /** From VAULT_TOKEN or --vault-token-file, never a flag value. */
    tokenFromEnv: string | undefined;
    tokenFile: string | undefined;
    kvMount: string;
    pathPrefix: string;
    authRole: string | undefined;
    authMount: string;
    jwtFile: string;
  };
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration: "720h", "1h30m", "2m", "0". */
export function parseDuration(s: string, flag: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (!s || consumed !== s.length) throw new RangeError(`--${flag}: invalid duration "${s}" (use e.g. 720h, 2m, 30s)`);
  return total;
}

function parseKv(s: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new RangeError(`--${flag}: "${part}" is not key=value`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Go's strconv.ParseBool, as Vault's tools read VAULT_SKIP_VERIFY; an empty or unset variable is false. */
export function parseEnvBool(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const v = env[name];
  if (v === undefined || v === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new RangeError(`${name}: "${v}" is not a boolean (use true or false)`);
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * VAULT_ADDR: https, or plain http on loopback only (127.0.0.0/8, ::1, localhost): over plain
 * http the token, the ServiceAccount JWT and every private key would cross the network in clear.
 */
export function checkVaultAddress(addr: string): string {
  let u: URL;
  try {
    u = new URL(addr);
  } catch {
    throw new RangeError(`VAULT_ADDR: "${addr}" is not a URL (use e.g. https://vault.example:8200)`);
  }
  if (u.protocol === 'https:') return addr;
  if (u.protocol !== 'http:') throw new RangeError(`VAULT_ADDR: use https:// (not ${u.protocol})`);
  if (!LOOPBACK.test(u.hostname)) {
    throw new RangeError(`VAULT_ADDR: plain http to ${u.host} would send the Vault token and the private keys unencrypted; use https:// (plain http is accepted only on loopback)`);
  }
  return addr;
}

/** Every flag, for SEALED_SECRETS_<FLAG> (see argsFromEnv). */
export const CONTROLLER_FLAGS: readonly FlagSpec[] = [
  ...Object.entries(DEFAULTS).map(([name, v]) => ({ name, boolean: typeof v === 'boolean' })),
  { name: 'rotate-period' },
  { name: 'log-info-stdout', boolean: true },
];

export function buildControllerParser(argv: readonly string[]) {
  let y = yargs([...argv])
    .scriptName('sealed-secrets-controller')
    .usage('Usage: sealed-secrets-controller [flags]\n\nUnseals SealedSecrets into Secrets. Every flag is also SEALED_SECRETS_<FLAG>.')
    // The last of repeated flags wins, as with upstream's pflag.
    .parserConfiguration({ 'camel-case-expansion': false, 'duplicate-arguments-array': false })
    .strict()
    .version('version', 'Show the version', 'dev')
    .help()
    .exitProcess(false);
  for (const [k, v] of Object.entries(DEFAULTS)) {
    y = y.option(k, { type: typeof v === 'boolean' ? 'boolean' : typeof v === 'number' ? 'number' : 'string', default: v });
  }
  return y.option('rotate-period', { type: 'string', describe: 'deprecated alias of --key-renew-period' }).option('log-info-stdout', { type: 'boolean', default: true });
}

/** Builds the frozen config from parsed flags and the environment the process runs in. */
export function configFromArgs(a: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>, cores: number): ControllerConfig {
  const str = (k: keyof typeof DEFAULTS) => String(a[k] ?? DEFAULTS[k]);
  const num = (k: keyof typeof DEFAULTS) => {
    const n = Number(a[k] ?? DEFAULTS[k]);
    if (!Number.isFinite(n)) throw new RangeError(`--${k}: "${String(a[k])}" is not a number`);
    return n;
  };
  const bool = (k: keyof typeof DEFAULTS) => Boolean(a[k] ?? DEFAULTS[k]);
  const keySize = num('key-size');
  if (!isKeySize(keySize)) throw new RangeError(`--key-size: ${keySize} is not one of 2048, 3072, 4096`);
  const prefix = str('key-prefix');
  if (!/^[a-z0-9-]{1,245}$/.test(prefix)) throw new RangeError(`--key-prefix: "${prefix}" must be 1 to 245 characters of a-z, 0-9 and -`);
  const order = str('key-order-priority');
  if (order !== 'CertNotBefore' && order !== 'SecretCreationTimestamp') throw new RangeError(`--key-order-priority: use CertNotBefore or SecretCreationTimestamp`);
  const cutoff = str('key-cutoff-time');
  const cutoffMs = cutoff ? Date.parse(cutoff) : undefined;
  if (cutoff && !Number.isFinite(cutoffMs)) throw new RangeError(`--key-cutoff-time: "${cutoff}" is not a date (use RFC 1123Z, e.g. the output of date -R)`);
  const namespace = env['POD_NAMESPACE'] || 'kube-system';
  const additional = str('additional-namespaces').split(',').map((s) => s.trim()).filter(Boolean);
  // Upstream: --additional-namespaces narrows the watch to the controller namespace plus those listed.
  const namespaces = bool('all-namespaces') && additional.length === 0 ? undefined : [...new Set([namespace, ...additional])];
  const format = str('log-format').toLowerCase();
  if (format !== 'text' && format !== 'json') throw new RangeError('--log-format: use text or json');
  const workers = num('workers') > 0 ? num('workers') : cores;
  const keyStore = str('key-store');
  if (keyStore !== 'kubernetes' && keyStore !== 'vault') throw new RangeError('--key-store: use kubernetes or vault');
  if (keyStore === 'vault' && !env['VAULT_ADDR']) throw new RangeError('--key-store vault needs VAULT_ADDR (the Vault server URL)');
  const trustedProxies = str('trusted-proxies').split(',').map((s) => s.trim()).filter(Boolean);
  parseTrustedProxies(trustedProxies);
  if (keyStore === 'vault') checkVaultAddress(env['VAULT_ADDR']!);
  const skipVerify = keyStore === 'vault' ? parseEnvBool(env, 'VAULT_SKIP_VERIFY') : false;
  const renew = a['rotate-period'] !== undefined && a['key-renew-period'] === DEFAULTS['key-renew-period'] ? String(a['rotate-period']) : str('key-renew-period');
  return Object.freeze({
    namespace,
    kubeconfig: str('kubeconfig') || undefined,
    keyPrefix: prefix,
    keySize,
    keyTtlMs: parseDuration(str('key-ttl'), 'key-ttl'),
    myCn: str('my-cn'),
    keyRenewPeriodMs: parseDuration(renew, 'key-renew-period'),
    keyOrderPriority: order,
    keyCutoffTime: cutoffMs,
    acceptDeprecatedV1Data: bool('accept-deprecated-v1-data'),
    namespaces,
    labelSelector: str('label-selector') || undefined,
    rateLimit: num('rate-limit'),
    rateLimitBurst: num('rate-limit-burst'),
    trustedProxies,
    privateKeyAnnotations: parseKv(str('privatekey-annotations'), 'privatekey-annotations'),
    privateKeyLabels: parseKv(str('privatekey-labels'), 'privatekey-labels'),
    oldGcBehavior: bool('old-gc-behavior'),
    updateStatus: bool('update-status'),
    skipRecreate: bool('skip-recreate'),
    logLevel: parseLogLevel(str('log-level')),
    logFormat: format,
    maxUnsealRetries: num('max-unseal-retries'),
    // 0 means client-go's defaults (5 and 10), as upstream's flags do.
    kubeclientQps: num('kubeclient-qps') === 0 ? 5 : num('kubeclient-qps'),
    kubeclientBurst: num('kubeclient-burst') === 0 ? 10 : num('kubeclient-burst'),
    listenAddr: str('listen-addr'),
    listenMetricsAddr: str('listen-metrics-addr'),
    readTimeoutMs: parseDuration(str('read-timeout'), 'read-timeout'),
    writeTimeoutMs: parseDuration(str('write-timeout'), 'write-timeout'),
    workers,
    concurrency: num('concurrency') > 0 ? num('concurrency') : defaultConcurrency(workers),
    leaderElect: bool('leader-elect'),
    leaseDurationMs: parseDuration(str('leader-elect-lease-duration'), 'leader-elect-lease-duration'),
    renewDeadlineMs: parseDuration(str('leader-elect-renew-deadline'), 'leader-elect-renew-deadline'),
    retryPeriodMs: parseDuration(str('leader-elect-retry-period'), 'leader-elect-retry-period'),
    leaseName: str('leader-elect-id'),
    keyStore: keyStore as 'kubernetes' | 'vault',
    keyActivationDelayMs: parseDuration(str('key-activation-delay'), 'key-activation-delay'),
    keyStorePollIntervalMs: parseDuration(str('key-store-poll-interval'), 'key-store-poll-interval'),
    vault: {
      address: env['VAULT_ADDR'] || undefined,
      skipVerify,
      namespace: env['VAULT_NAMESPACE'] || undefined,
      caCertFile: env['VAULT_CACERT'] || undefined,
      tokenFromEnv: env['VAULT_TOKEN'] || undefined,
      tokenFile: str('vault-token-file') || undefined,
      kvMount: str('vault-kv-mount'),
      pathPrefix: str('vault-path-prefix'),
      authRole: str('vault-auth-role') || undefined,
      authMount: str('vault-auth-mount'),
      jwtFile: str('vault-auth-jwt-file'),
    },
  });
}
