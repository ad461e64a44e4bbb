/**
 * The kubeseal command line: flag names, aliases and defaults as upstream's
 * (cmd/kubeseal/main.go), each also settable as SEALED_SECRETS_<FLAG>.
 * The parser is a value that tests drive (pattern: googleapis/release-please).
 */
import yargs, { type Argv } from 'yargs';
import type { FlagSpec } from '../src/index.js';

declare const __KUBESEAL_VERSION__: string | undefined;
declare const __KUBESEAL_REVISION__: string | undefined;
export const VERSION = typeof __KUBESEAL_VERSION__ === 'string' ? __KUBESEAL_VERSION__ : '0.0.0-dev';
/** The git commit the binary was built from (scripts/build.mjs), `unknown` when built without one. */
export const REVISION = typeof __KUBESEAL_REVISION__ === 'string' ? __KUBESEAL_REVISION__ : 'unknown';

export const EXAMPLES: [string, string][] = [
  ['kubeseal --cert cert.pem < secret.yaml > sealed.yaml', 'Seal a Secret offline with the controller certificate'],
  ['kubeseal --cert https://certs.example.com/v1/cert.pem -f secret.json -w sealed.json', 'Seal from a file into a file, certificate over https'],
  ['kubeseal --cert cert.pem --scope cluster-wide -o yaml < secret.yaml', 'Seal a value that any namespace and name may use'],
  ['printf %s "$PASSWORD" | kubeseal --cert cert.pem --raw --namespace prod --name db', 'Seal one value, byte-exact, for a template or --merge-into'],
  ['kubeseal --cert cert.pem --merge-into sealed.yaml < new-items.yaml', 'Add or replace items in an existing SealedSecret file'],
  ['kubeseal --recovery-unseal --recovery-private-key backup.yaml < sealed.yaml', 'Disaster recovery: unseal offline with backed-up keys'],
  ['kubeseal --fetch-cert > cert.pem', 'Fetch the controller certificate through the API server (kubeconfig)'],
  ['kubeseal --fetch-cert --server https://api.example.com:6443 --token "$TOKEN" -w cert.pem', 'The same with kubectl\'s connection flags, no kubeconfig needed, into a file'],
  ['kubeseal --validate < sealed.yaml', 'Ask the controller whether every SealedSecret in the file can be unsealed'],
  ['kubeseal --re-encrypt -f sealed.yaml', 'Re-encrypt a SealedSecret file to the newest key, in place'],
  // Many clusters (cli/routing.ts, cli/lint/): README, "Many clusters".
  ['kubeseal -f secret.yaml -w overlays/prod/db.sealed.yaml', 'With .sealed-secrets.yaml: seal for the cluster and namespace that path deploys to (-w repeatable)'],
  ['kubeseal lint --format sarif > lint.sarif', 'Check the repository offline (kubeseal lint --help)'],
];

export interface KubesealArgs {
  cert?: string;
  format?: 'json' | 'yaml';
  'sealed-secret-file'?: string;
  'secret-file'?: string;
  'fetch-cert': boolean;
  'allow-empty-data': boolean;
  'merge-into'?: string;
  raw: boolean;
  name?: string;
  namespace?: string;
  'from-file'?: string[];
  scope?: string;
  'recovery-unseal': boolean;
  validate: boolean;
  're-encrypt': boolean;
  'recovery-private-key'?: string[];
  kubeconfig?: string;
  context?: string;
  'controller-name': string;
  'controller-namespace': string;
  debug: boolean;
  // client-go's kubectl connection flags (clientcmd.RecommendedConfigOverrideFlags) and klog's -v.
  server?: string;
  token?: string;
  as?: string;
  'as-uid'?: string;
  'as-group'?: string[];
  username?: string;
  password?: string;
  'certificate-authority'?: string;
  'client-certificate'?: string;
  'client-key'?: string;
  'insecure-skip-tls-verify': boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
  'disable-compression': boolean;
  cluster?: string;
  user?: string;
  'request-timeout'?: string;
  v?: number;
  _: (string | number)[];
}

export const FLAGS: readonly FlagSpec[] = [
  { name: 'cert' }, { name: 'format', alias: 'o' }, { name: 'secret-file', alias: 'f' }, { name: 'sealed-secret-file', alias: 'w' },
  { name: 'scope' }, { name: 'allow-empty-data', boolean: true }, { name: 'merge-into' }, { name: 'raw', boolean: true },
  { name: 'from-file' }, { name: 'name' }, { name: 'namespace', alias: 'n' }, { name: 'fetch-cert', boolean: true },
  { name: 'validate', boolean: true }, { name: 're-encrypt', boolean: true }, { name: 'recovery-unseal', boolean: true },
  { name: 'recovery-private-key' }, { name: 'kubeconfig' }, { name: 'context' }, { name: 'controller-name' },
  { name: 'controller-namespace' }, { name: 'debug', boolean: true },
  { name: 'server', alias: 's' }, { name: 'token' }, { name: 'as' }, { name: 'as-uid' }, { name: 'as-group' }, { name: 'username' }, { name: 'password' },
  { name: 'certificate-authority' }, { name: 'client-certificate' }, { name: 'client-key' }, { name: 'insecure-skip-tls-verify', boolean: true },
  { name: 'tls-server-name' }, { name: 'proxy-url' }, { name: 'disable-compression', boolean: true }, { name: 'cluster' }, { name: 'user' },
  { name: 'request-timeout' }, { name: 'v' },
];

const KUBE = 'Kubernetes connection (as kubectl):';

/**
 * klog's other flags, which upstream's kubeseal accepts (klog.InitFlags): accepted so that
 * scripts passing them still run, and hidden; they change nothing here (-v is the one that does).
 */
export const KLOG_FLAGS: Record<string, { type: 'boolean' | 'string'; hidden: true; requiresArg?: true }> = Object.fromEntries([
  ...['logtostderr', 'alsologtostderr', 'add_dir_header', 'skip_headers', 'skip_log_headers', 'one_output', 'legacy_stderr_threshold_behavior'].map((n) => [n, { type: 'boolean' as const, hidden: true as const }]),
  ...['log_dir', 'log_file', 'log_file_max_size', 'log_backtrace_at', 'stderrthreshold', 'vmodule'].map((n) => [n, { type: 'string' as const, hidden: true as const, requiresArg: true as const }]),
]);

export function buildParser(argv: readonly string[]): Argv<KubesealArgs> {
  return yargs([...argv])
    .scriptName('kubeseal')
    .usage('Usage: kubeseal [flags] < secret.yaml > sealedsecret.yaml\n\nSeal Kubernetes Secrets into SealedSecrets that only the controller can open.')
    .command('completion <shell>', 'Print a shell completion script (bash, zsh or fish)', (y) =>
      y.positional('shell', { choices: ['bash', 'zsh', 'fish'] as const, describe: 'the shell' }),
    )
    .parserConfiguration({ 'camel-case-expansion': false, 'strip-aliased': true, 'duplicate-arguments-array': true })
    .option('cert', { type: 'string', requiresArg: true, describe: 'Certificate file or URL (https, file://) to seal with; default: fetched from the controller', group: 'Sealing:' })
    .option('format', { alias: 'o', type: 'string', requiresArg: true, describe: 'Output format: json or yaml (default: the input\'s format)', group: 'Sealing:' })
    .option('secret-file', { alias: 'f', type: 'string', requiresArg: true, describe: 'Secret input file (default: stdin)', group: 'Sealing:' })
    .option('sealed-secret-file', { alias: 'w', type: 'string', requiresArg: true, describe: 'SealedSecret output file, written atomically on success (default: stdout)', group: 'Sealing:' })
    .option('scope', { type: 'string', requiresArg: true, choices: ['strict', 'namespace-wide', 'cluster-wide'], describe: 'Scope: strict binds namespace and name; namespace-wide the namespace; cluster-wide nothing (default: the Secret\'s scope annotations, else strict)', group: 'Sealing:' })
    .option('allow-empty-data', { type: 'boolean', default: false, describe: 'Allow a Secret with no data', group: 'Sealing:' })
    .option('merge-into', { type: 'string', requiresArg: true, describe: 'Merge the sealed items into this existing SealedSecret file, in place', group: 'Sealing:' })
    .option('raw', { type: 'boolean', default: false, describe: 'Seal one value (from stdin or --from-file) and print the bare sealed value', group: 'Sealing:' })
    .option('from-file', { type: 'string', requiresArg: true, array: true, describe: '[key=]path of the value for --raw', group: 'Sealing:' })
    .option('name', { type: 'string', requiresArg: true, describe: 'Name of the Secret (required with --raw in strict scope); overrides metadata.name', group: 'Sealing:' })
    .option('namespace', { alias: 'n', type: 'string', requiresArg: true, describe: 'Namespace of the Secret (default: the Secret\'s, else the kubeconfig context\'s, else in a Pod its ServiceAccount\'s, else "default")', group: 'Sealing:' })
    .option('fetch-cert', { type: 'boolean', default: false, describe: 'Print the certificate (from --cert, or fetched from the controller) and exit', group: 'Cluster:' })
    .option('validate', { type: 'boolean', default: false, describe: 'Ask the controller whether each input SealedSecret can be unsealed; exit 1 if any cannot', group: 'Cluster:' })
    .option('re-encrypt', { alias: 'rotate', type: 'boolean', default: false, describe: 'Re-encrypt each input SealedSecret to the controller\'s newest key (rewrites -f in place without -w)', group: 'Cluster:' })
    .option('recovery-unseal', { type: 'boolean', default: false, describe: 'Unseal offline with backed-up private keys (disaster recovery)', group: 'Recovery:' })
    .option('recovery-private-key', { type: 'string', requiresArg: true, array: true, describe: 'Private key file: PEM (PKCS#1 or PKCS#8) or a JSON/YAML backup of key Secrets; repeatable or comma-separated', group: 'Recovery:' })
    .option('kubeconfig', { type: 'string', requiresArg: true, describe: 'Path to the kubeconfig file (its context namespace is the default namespace)', group: 'Cluster:' })
    .option('context', { type: 'string', requiresArg: true, describe: 'The kubeconfig context to use', group: 'Cluster:' })
    .option('controller-name', { type: 'string', requiresArg: true, default: 'sealed-secrets-controller', describe: 'Name of the controller Service', group: 'Cluster:' })
    .option('controller-namespace', { type: 'string', requiresArg: true, default: 'kube-system', describe: 'Namespace of the controller', group: 'Cluster:' })
    .option('debug', { type: 'boolean', default: false, describe: 'Print stack traces on errors' })
    // Upstream's texts (client-go's clientcmd), so `kubeseal --help` reads as kubectl's flags do.
    .option('server', { alias: 's', type: 'string', requiresArg: true, describe: 'The address and port of the Kubernetes API server', group: KUBE })
    .option('token', { type: 'string', requiresArg: true, describe: 'Bearer token for authentication to the API server', group: KUBE })
    .option('as', { type: 'string', requiresArg: true, describe: 'Username to impersonate for the operation', group: KUBE })
    .option('as-group', { type: 'string', requiresArg: true, array: true, describe: 'Group to impersonate for the operation, this flag can be repeated to specify multiple groups.', group: KUBE })
    .option('as-uid', { type: 'string', requiresArg: true, describe: 'UID to impersonate for the operation', group: KUBE })
    .option('username', { type: 'string', requiresArg: true, describe: 'Username for basic authentication to the API server', group: KUBE })
    .option('password', { type: 'string', requiresArg: true, describe: 'Password for basic authentication to the API server', group: KUBE })
    .option('certificate-authority', { type: 'string', requiresArg: true, describe: 'Path to a cert file for the certificate authority', group: KUBE })
    .option('client-certificate', { type: 'string', requiresArg: true, describe: 'Path to a client certificate file for TLS', group: KUBE })
    .option('client-key', { type: 'string', requiresArg: true, describe: 'Path to a client key file for TLS', group: KUBE })
    .option('insecure-skip-tls-verify', { type: 'boolean', default: false, describe: "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure", group: KUBE })
    .option('tls-server-name', { type: 'string', requiresArg: true, describe: 'If provided, this name will be used to validate server certificate. If this is not provided, hostname used to contact the server is used.', group: KUBE })
    .option('proxy-url', { type: 'string', requiresArg: true, describe: 'If provided, this URL will be used to connect via proxy', group: KUBE })
    .option('disable-compression', { type: 'boolean', default: false, describe: 'If true, opt-out of response compression for all requests to the server (kubeseal never asks for compression)', group: KUBE })
    .option('cluster', { type: 'string', requiresArg: true, describe: 'The name of the kubeconfig cluster to use', group: KUBE })
    .option('user', { type: 'string', requiresArg: true, describe: 'The name of the kubeconfig user to use', group: KUBE })
    .option('request-timeout', { type: 'string', requiresArg: true, describe: "The length of time to wait before giving up on a single server request. Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't timeout requests. (default: 30s)", group: KUBE })
    .option('v', { type: 'number', requiresArg: true, describe: 'number for the log level verbosity (4: the configuration used, 6: requests, 7: request headers, credentials masked)', group: KUBE })
    .options(KLOG_FLAGS)
    .example(EXAMPLES)
    .epilogue('Every flag can also be set as an environment variable SEALED_SECRETS_<FLAG>, e.g. SEALED_SECRETS_CERT.\nExit codes, as upstream: 0 success, 2 a command line that cannot be parsed (unknown flag, bad flag value, missing flag value), 1 any other failure.')
    .strict()
    // Upstream's first words (`kubeseal version: X`, so `awk '{print $3}'` still works), then the commit.
    .version('version', 'Show the version', `kubeseal version: ${VERSION} (revision ${REVISION})`)
    .help()
    .alias('help', 'h')
    // No wrapping: examples and flag names stay whole, so they can be copied.
    .wrap(null)
    .exitProcess(false) as unknown as Argv<KubesealArgs>;
}
