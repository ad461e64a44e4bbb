/**
 * kubeseal: runs one invocation and returns its exit code.
 * Modes in upstream's order: --recovery-unseal, then the certificate modes
 * (--fetch-cert, --merge-into, --raw, plain sealing).
 */
import { SealedSecretsError, argsFromEnv, isSealedSecretsError } from '../src/index.js';
import type { CliIo } from './io.js';
import { namespaceFlag } from './kubeconfig.js';
import { FLAGS, buildParser, type KubesealArgs } from './parser.js';

export class UsageError extends SealedSecretsError {
  constructor(message: string, hint?: string) {
    super('ERR_USAGE', message, hint === undefined ? undefined : { hint });
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Go's strconv.ParseBool, which pflag applies to --flag=value of a boolean flag. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** --bool=value as pflag reads it: Go's spellings normalised, anything else a parse error (exit 2). */
function normaliseBooleans(cmdline: readonly string[]): string[] | string {
  const booleans = new Set(FLAGS.filter((f) => f.boolean).map((f) => f.name));
  const out: string[] = [];
  for (const a of cmdline) {
    if (a === '--') {
      out.push(...cmdline.slice(out.length));
      break;
    }
    const m = /^--([a-z-]+)=(.*)$/s.exec(a);
    if (m && booleans.has(m[1]!)) {
      if (GO_TRUE.has(m[2]!)) out.push(`--${m[1]}=true`);
      else if (GO_FALSE.has(m[2]!)) out.push(`--${m[1]}=false`);
      else return `invalid argument "${m[2]!.slice(0, 40)}" for "--${m[1]}" flag: it takes true or false`;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Parses argv; returns the arguments, or an exit code when help/version was printed or usage was wrong. */
async function parseArgs(rawCmdline: readonly string[], io: CliIo): Promise<KubesealArgs | number> {
  const cmdline = normaliseBooleans(rawCmdline);
  if (typeof cmdline === 'string') {
    io.writeStderr(`error: ${cmdline}\nRun 'kubeseal --help' for usage.\n`);
    return EXIT_USAGE;
  }
  const argv = [...argsFromEnv(cmdline, io.env, FLAGS), ...cmdline];
  const parser = buildParser(argv);
  let output = '';
  let failure: string | undefined;
  parser.fail((msg, err) => {
    failure = msg || err?.message || 'invalid arguments';
  });
  let args: KubesealArgs | undefined;
  try {
    args = (await parser.parseAsync(argv as string[], {}, (_err: unknown, _argv: unknown, out: string) => {
      output = out;
    })) as KubesealArgs;
  } catch (e) {
    failure ??= (e as Error).message;
  }
  if (failure !== undefined) {
    // yargs spreads some messages over several lines: one line, as every kubeseal error.
    const line = failure.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
    io.writeStderr(`error: ${line}\nRun 'kubeseal --help' for usage.\n`);
    return EXIT_USAGE;
  }
  if (output) {
    io.writeStdout(output.endsWith('\n') ? output : output + '\n');
    return EXIT_OK;
  }
  // klog's -v takes an integer; anything else is a flag value that does not parse (exit 2, as upstream).
  if (args!.v !== undefined && !Number.isInteger(args!.v)) {
    io.writeStderr(`error: invalid argument for "-v, --v" flag: a whole number is needed\nRun 'kubeseal --help' for usage.\n`);
    return EXIT_USAGE;
  }
  return args!;
}

function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);
}

function checkCombinations(a: KubesealArgs): void {
  if (a['from-file']?.length && !a.raw) throw new UsageError('--from-file requires --raw');
  if ((a['from-file']?.length ?? 0) > 1) throw new UsageError('--from-file may be given only once with --raw');
  if (a['recovery-unseal'] && !splitList(a['recovery-private-key']).length) {
    throw new UsageError('--recovery-unseal needs --recovery-private-key FILE', 'give the backed-up key files; fetching keys from a cluster is not supported');
  }
  if (a.format !== undefined && a.format !== 'json' && a.format !== 'yaml') throw new UsageError(`unsupported output format: ${a.format}`, 'use -o json or -o yaml');
  const modes = (['recovery-unseal', 'validate', 're-encrypt', 'merge-into', 'raw'] as const).filter((m) => a[m]);
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} cannot be used together`);
}

export async function runKubeseal(argv: readonly string[], io: CliIo): Promise<number> {
  // `kubeseal lint` has flags of its own (cli/lint/command.ts).
  if (argv[0] === 'lint') return (await import('./lint/command.js')).runLint(argv.slice(1), io);
  const parsed = await parseArgs(argv, io);
  if (typeof parsed === 'number') return parsed;
  const args = parsed;
  try {
    if (args._[0] === 'completion') {
      const { completionScript } = await import('./completion.js');
      io.writeStdout(completionScript((args as unknown as { shell: 'bash' | 'zsh' | 'fish' }).shell));
      return EXIT_OK;
    }
    checkCombinations(args);
    // client-go strips a kubectl-style prefix: -n ns/prod is -n prod.
    args.namespace = namespaceFlag(args.namespace);
    if (args['recovery-private-key']?.length && !args['recovery-unseal']) {
      io.writeStderr('warning: ignoring --recovery-private-key because unseal command not chosen with --recovery-unseal\n');
    }
    if (args['recovery-unseal']) {
      const { recoveryUnseal } = await import('./recovery.js');
      await recoveryUnseal(args, io, splitList(args['recovery-private-key']));
      return EXIT_OK;
    }
    if (args.validate) {
      const { validate } = await import('./cluster-modes.js');
      return await validate(args, io);
    }
    if (args['re-encrypt']) {
      const { reencrypt } = await import('./cluster-modes.js');
      return await reencrypt(args, io);
    }
    if (args['fetch-cert']) {
      const { printCertificate } = await import('./cluster-modes.js');
      await printCertificate(args, io);
      return EXIT_OK;
    }
    // Sealing by path (.sealed-secrets.yaml, no --cert): cli/routing.ts.
    const routing = await import('./routing.js');
    const configFile = routing.routingConfigFile(args, io);
    if (configFile) {
      await routing.sealRouted(args, io, configFile);
      return EXIT_OK;
    }
    if (routing.outputPaths(args).length > 1) {
      throw new UsageError('-w may be given several times only when sealing by path', 'put a .sealed-secrets.yaml in the repository and drop --cert (README, "Many clusters")');
    }
    const seal = await import('./seal.js');
    if (args['merge-into']) await seal.mergeInto(args, io);
    else if (args.raw) await seal.sealRaw(args, io);
    else await seal.sealStream(args, io);
    return EXIT_OK;
  } catch (e) {
    return reportError(e, io, args.debug);
  }
}

function reportError(e: unknown, io: CliIo, debug: boolean): number {
  if (isSealedSecretsError(e)) {
    io.writeStderr(`error: ${e.detail}\n`);
    if (debug && e.stack) io.writeStderr(e.stack + '\n');
    // Upstream reports every error found after parsing the command line with exit 1, wrong flag combinations included.
    return EXIT_FAILURE;
  }
  // Not ours: say so without echoing data the failure may have been handling.
  io.writeStderr(`error: internal error (${(e as Error)?.name ?? 'unknown'}); run again with --debug for details and report it\n`);
  if (debug) io.writeStderr(String((e as Error)?.stack ?? e) + '\n');
  return EXIT_FAILURE;
}
