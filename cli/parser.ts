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
  _: (string | number)[];
}

export const FLAGS: readonly FlagSpec[] = [
  { name: 'cert' }, { name: 'format', alias: 'o' }, { name: 'secret-file', alias: 'f' }, { name: 'sealed-secret-file', alias: 'w' },
  { name: 'scope' }, { name: 'allow-empty-data', boolean: true }, { name: 'merge-into' }, { name: 'raw', boolean: true },
  { name: 'from-file' }, { name: 'name' }, { name: 'namespace', alias: 'n' }, { name: 'fetch-cert', boolean: true },
  { name: 'validate', boolean: true }, { name: 're-encrypt', boolean: true }, { name: 'recovery-unseal', boolean: true },
  { name: 'recovery-private-key' }, { name: 'kubeconfig' }, { name: 'context' }, { name: 'controller-name' },
  { name: 'controller-namespace' }, { name: 'debug', boolean: true },
];

export function buildParser(argv: readonly string[]): Argv<KubesealArgs> {
  return yargs([...argv])
    .scriptName('kubeseal')
    .usage('Usage: kubeseal [flags] < secret.yaml > sealedsecret.yaml\n\nSeal Kubernetes Secrets into SealedSecrets that only the controller can open.')
    .command('completion <shell>', 'Print a shell completion script (bash, zsh or fish)', (y) =>
      y.positional('shell', { choices: ['bash', 'zsh', 'fish'] as const, describe: 'the shell' }),
    )
    .parserConfiguration({ 'camel-case-expansion': false, 'strip-aliased': true, 'duplicate-arguments-array': true })
    .option('cert', { type: 'string', requiresArg: true, describe: 'Certificate file or URL (https, file://) to seal with; default: fetched from the controller', group: 'Sealing:' })
    .option('format', { alias: 'o', type: 'string', requiresArg: true, choices: ['json', 'yaml'], describe: 'Output format (default: the input\'s format)', group: 'Sealing:' })
    .option('secret-file', { alias: 'f', type: 'string', requiresArg: true, describe: 'Secret input file (default: stdin)', group: 'Sealing:' })
    .option('sealed-secret-file', { alias: 'w', type: 'string', requiresArg: true, describe: 'SealedSecret output file, written atomically on success (default: stdout)', group: 'Sealing:' })
    .option('scope', { type: 'string', requiresArg: true, choices: ['strict', 'namespace-wide', 'cluster-wide'], describe: 'Scope: strict binds namespace and name; namespace-wide the namespace; cluster-wide nothing (default: the Secret\'s scope annotations, else strict)', group: 'Sealing:' })
    .option('allow-empty-data', { type: 'boolean', default: false, describe: 'Allow a Secret with no data', group: 'Sealing:' })
    .option('merge-into', { type: 'string', requiresArg: true, describe: 'Merge the sealed items into this existing SealedSecret file, in place', group: 'Sealing:' })
    .option('raw', { type: 'boolean', default: false, describe: 'Seal one value (from stdin or --from-file) and print the bare sealed value', group: 'Sealing:' })
    .option('from-file', { type: 'string', requiresArg: true, array: true, describe: '[key=]path of the value for --raw', group: 'Sealing:' })
    .option('name', { type: 'string', requiresArg: true, describe: 'Name of the Secret (required with --raw in strict scope); overrides metadata.name', group: 'Sealing:' })
    .option('namespace', { alias: 'n', type: 'string', requiresArg: true, describe: 'Namespace of the Secret (default: the Secret\'s, else the kubeconfig context\'s, else "default")', group: 'Sealing:' })
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
    .example(EXAMPLES)
    .epilogue('Every flag can also be set as an environment variable SEALED_SECRETS_<FLAG>, e.g. SEALED_SECRETS_CERT.\nExit codes: 0 success, 1 failure, 2 usage error.')
    .strict()
    // Upstream's first words (`kubeseal version: X`, so `awk '{print $3}'` still works), then the commit.
    .version('version', 'Show the version', `kubeseal version: ${VERSION} (revision ${REVISION})`)
    .help()
    .alias('help', 'h')
    // No wrapping: examples and flag names stay whole, so they can be copied.
    .wrap(null)
    .exitProcess(false) as unknown as Argv<KubesealArgs>;
}
