/**
 * The controller's configuration: flags named as upstream's (cmd/controller/main.go),
 * each also settable as SEALED_SECRETS_<FLAG> (a flag on the command line wins),
 * then defaults from one constant. Built once in main.ts and frozen.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
  // Upstream's default is false (keys are read at start only); here true, so keys imported, restored
  // or rotated by another replica are used without a restart. false: as upstream.
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
  // Empty: derived from --key-prefix and --label-selector (defaultLeaseName).
  'leader-elect-id': '',
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
  /** --watch-for-secrets: watch the key Secrets (false: read them at start and after own rotations only). */
  watchForSecrets: boolean;
  /** --log-info-stdout: debug and info lines to stdout, warnings and errors to stderr; false: all to stderr. */
  logInfoStdout: boolean;
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
  /** Whether leaseName was derived (no --leader-elect-id): the Lease-forbidden warning names the flag then. */
  leaseNameDerived: boolean;
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

/**
 * What --help says of each flag, in its group. Upstream's own text (cmd/controller/main.go,
 * pkg/controller/server.go) where upstream has the flag; what follows " -- " is ours.
 */
const HELP: Record<string, readonly [group: string, text: string]> = {
  'key-prefix': ['Keys', 'Prefix used to name keys.'],
  'key-size': ['Keys', 'Size of encryption key. -- 2048, 3072 or 4096'],
  'key-ttl': ['Keys', 'Duration that certificate is valid for.'],
  'my-cn': ['Keys', 'Common name to be used as issuer/subject DN in generated certificate.'],
  'key-renew-period': ['Keys', 'New key generation period (automatic rotation deactivated if 0) -- 720h upstream'],
  'rotate-period': ['Keys', 'deprecated: please use key-renew-period instead'],
  'key-order-priority': ['Keys', 'Ordering of keys based on NotBefore certificate attribute or secret creation timestamp. -- CertNotBefore or SecretCreationTimestamp'],
  'key-cutoff-time': ['Keys', 'Create a new key if latest one is older than this cutoff time. RFC1123 format with numeric timezone expected.'],
  'privatekey-annotations': ['Keys', 'Comma-separated list of additional annotations to be put on renewed sealing keys.'],
  'privatekey-labels': ['Keys', 'Comma-separated list of additional labels to be put on renewed sealing keys.'],
  'watch-for-secrets': ['Keys', 'beta: If this is true, the controller will watch for key secrets. This is useful if you create the key secrets externally. -- true here, false upstream: replicas and key imports need it'],
  'key-activation-delay': ['Keys', 'New: how long a new key only decrypts before it becomes the sealing key, so every replica has loaded it'],
  'accept-deprecated-v1-data': ['Unsealing', 'Accept deprecated V1 data field.'],
  'all-namespaces': ['Unsealing', 'Scan all namespaces or only the current namespace (default=true).'],
  'additional-namespaces': ['Unsealing', 'Comma-separated list of additional namespaces to be scanned.'],
  'label-selector': ['Unsealing', 'Label selector which can be used to filter sealed secrets.'],
  'old-gc-behavior': ['Unsealing', 'Revert to old GC behavior where the controller deletes secrets instead of delegating that to k8s itself.'],
  'update-status': ['Unsealing', 'beta: if true, the controller will update the status sub-resource whenever it processes a sealed secret'],
  'skip-recreate': ['Unsealing', 'if true the controller will skip listening for managed secret changes to recreate them. This helps on limited permission environments. -- no Secret list/watch needed: each reconcile reads its Secret with get'],
  'max-unseal-retries': ['Unsealing', 'Max unseal retries.'],
  workers: ['Unsealing', 'New: unseal worker threads (0: one per core)'],
  concurrency: ['Unsealing', 'New: reconciles in flight (0: 16 per worker)'],
  'listen-addr': ['HTTP', 'HTTP serving address.'],
  'listen-metrics-addr': ['HTTP', 'HTTP metrics serving address.'],
  'read-timeout': ['HTTP', 'HTTP request timeout.'],
  'write-timeout': ['HTTP', 'HTTP response timeout.'],
  'rate-limit': ['HTTP', 'Number of allowed sustained request per second for verify endpoint'],
  'rate-limit-burst': ['HTTP', 'Number of requests allowed to exceed the rate limit per second for verify endpoint'],
  'trusted-proxies': ['HTTP', 'New: comma-separated addresses and CIDRs whose X-Forwarded-For the verify/rotate rate limit believes (default: none)'],
  'log-info-stdout': ['Logging', 'if true the controller will log info to stdout and error/warn to stderr.'],
  'log-level': ['Logging', 'Log level (INFO|ERROR). -- also DEBUG and WARN'],
  'log-format': ['Logging', 'Log format (text|json).'],
  kubeconfig: ['Kubernetes client', 'New: kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)'],
  'kubeclient-qps': ['Kubernetes client', 'Kubeclient QPS (negative value disables ratelimiting) -- 5 upstream; 0 means 5'],
  'kubeclient-burst': ['Kubernetes client', 'Kubeclient Burst -- 10 upstream; 0 means 10'],
  'leader-elect': ['Leader election', 'New: elect one leader among replicas on a coordination.k8s.io Lease; without Lease rights the controller runs unelected (warns; one replica only)'],
  'leader-elect-id': ['Leader election', 'New: the Lease name (default: sealed-secrets-controller, plus the key prefix when not the default and a hash of --label-selector when set)'],
  'leader-elect-lease-duration': ['Leader election', 'New: how long a Lease is held without renewal'],
  'leader-elect-renew-deadline': ['Leader election', 'New: how long the leader retries renewing before it stops leading'],
  'leader-elect-retry-period': ['Leader election', 'New: how often to try to acquire or renew the Lease'],
  'key-store': ['Key store', 'New: where the sealing keys live: kubernetes (Secrets in the controller namespace) or vault'],
  'key-store-poll-interval': ['Key store', 'New: how often a store without a watch (Vault) is read again'],
  'vault-kv-mount': ['Key store', 'New: the Vault KV v2 mount (VAULT_ADDR, VAULT_CACERT, VAULT_NAMESPACE, VAULT_SKIP_VERIFY as Vault\'s tools)'],
  'vault-path-prefix': ['Key store', 'New: the path under the mount that holds one entry per key'],
  'vault-auth-role': ['Key store', 'New: Vault Kubernetes auth role (else VAULT_TOKEN or --vault-token-file)'],
  'vault-auth-mount': ['Key store', 'New: Vault Kubernetes auth mount'],
  'vault-auth-jwt-file': ['Key store', 'New: the ServiceAccount token file for Vault Kubernetes auth'],
  'vault-token-file': ['Key store', 'New: a file holding the Vault token'],
};

/** The groups of --help, in order (as kubeseal's). */
export const HELP_GROUPS = ['Keys', 'Unsealing', 'HTTP', 'Logging', 'Kubernetes client', 'Leader election', 'Key store'] as const;

/** Every flag, for SEALED_SECRETS_<FLAG> (see argsFromEnv). */
export const CONTROLLER_FLAGS: readonly FlagSpec[] = [
  ...Object.entries(DEFAULTS).map(([name, v]) => ({ name, boolean: typeof v === 'boolean' })),
  { name: 'rotate-period' },
  { name: 'log-info-stdout', boolean: true },
];

/** The flag's --help text: upstream's, then ours in parentheses. */
function describeFlag(name: string): string {
  const [, text] = HELP[name] ?? ['', ''];
  const [theirs, ours] = text.split(' -- ');
  return ours ? `${theirs} (${ours})` : theirs!;
}

export function buildControllerParser(argv: readonly string[]) {
  let y = yargs([...argv])
    .scriptName('sealed-secrets-controller')
    .usage('Usage: sealed-secrets-controller [flags]\n\nUnseals SealedSecrets into Secrets. Every flag is also SEALED_SECRETS_<FLAG> (SEALED_SECRETS_KEY_PREFIX=...);\na flag on the command line wins. The controller namespace is $POD_NAMESPACE, else the ServiceAccount\'s, else "default".')
    // The last of repeated flags wins, as with upstream's pflag.
    .parserConfiguration({ 'camel-case-expansion': false, 'duplicate-arguments-array': false })
    .strict()
    .version('version', 'Print version information and exit', 'dev')
    .help('help', 'Show help')
    .alias('help', 'h')
    // No wrapping: descriptions and flag names stay whole (as kubeseal's help).
    .wrap(null)
    .exitProcess(false);
  const names = [...Object.keys(DEFAULTS), 'rotate-period', 'log-info-stdout'];
  for (const group of HELP_GROUPS) {
    const members = names.filter((n) => HELP[n]?.[0] === group);
    for (const k of members) {
      if (k === 'rotate-period') {
        y = y.option(k, { type: 'string', describe: describeFlag(k) });
        continue;
      }
      if (k === 'log-info-stdout') {
        y = y.option(k, { type: 'boolean', default: true, describe: describeFlag(k) });
        continue;
      }
      const v = DEFAULTS[k as keyof typeof DEFAULTS];
      y = y.option(k, { type: typeof v === 'boolean' ? 'boolean' : typeof v === 'number' ? 'number' : 'string', default: v, describe: describeFlag(k) });
    }
    y = y.group(members, `${group}:`);
  }
  return y;
}

/** Flags with no --help text (a test keeps this empty). */
export const undescribedFlags = (): string[] => [...Object.keys(DEFAULTS), 'rotate-period', 'log-info-stdout'].filter((n) => !HELP[n]);

/** Where a Pod finds its ServiceAccount's namespace (upstream's myNamespace reads it too). */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The controller namespace as upstream's myNamespace(): $POD_NAMESPACE, else the ServiceAccount's namespace file (trimmed), else "default". */
export function controllerNamespace(env: Readonly<Record<string, string | undefined>>, namespaceFile = SERVICE_ACCOUNT_NAMESPACE_FILE): string {
  if (env['POD_NAMESPACE']) return env['POD_NAMESPACE'];
  try {
    const ns = readFileSync(namespaceFile, 'utf8').trim();
    if (ns) return ns;
  } catch {
    // Not in a Pod (or no token mounted): upstream falls back to "default" too.
  }
  return 'default';
}

/**
 * The Lease name when --leader-elect-id is not given: distinct for controllers that do not
 * share their work, so each set of replicas elects its own leader in one namespace:
 * "sealed-secrets-controller" for the default key prefix (as before), plus "-<prefix>" for
 * another prefix, plus "-<hash>" of a --label-selector (a shard). Always a valid object name.
 */
export function defaultLeaseName(keyPrefix: string, labelSelector: string | undefined): string {
  let name = 'sealed-secrets-controller';
  if (keyPrefix !== DEFAULTS['key-prefix']) name += `-${keyPrefix}`;
  const sel = labelSelector?.trim();
  if (sel) name += `-${createHash('sha256').update(sel).digest('hex').slice(0, 10)}`;
  if (name.length > 253) name = `sealed-secrets-controller-${createHash('sha256').update(name).digest('hex').slice(0, 32)}`;
  return name;
}

/** Builds the frozen config from parsed flags and the environment the process runs in. */
export function configFromArgs(a: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>, cores: number, namespaceFile = SERVICE_ACCOUNT_NAMESPACE_FILE): ControllerConfig {
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
  const namespace = controllerNamespace(env, namespaceFile);
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
    watchForSecrets: bool('watch-for-secrets'),
    logInfoStdout: a['log-info-stdout'] === undefined ? true : Boolean(a['log-info-stdout']),
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
    leaseName: str('leader-elect-id') || defaultLeaseName(prefix, str('label-selector') || undefined),
    leaseNameDerived: !str('leader-elect-id'),
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
