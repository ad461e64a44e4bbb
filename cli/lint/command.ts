/**
 * `kubeseal lint [PATH...]`: checks a repository of SealedSecrets offline, for CI and
 * pre-commit. Exit 0 when clean, 1 when there are findings, 2 on usage errors (unknown
 * flags, missing paths, a malformed .sealed-secrets.yaml).
 */
import { stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { SealedSecretsError, isSealedSecretsError } from '../../src/index.js';
import { findConfigFile, loadFleetConfig, type FleetConfig } from '../fleet-config.js';
import type { CliIo } from '../io.js';
import { VERSION } from '../parser.js';
import { walkManifests } from '../tree.js';
import { lintRepository } from './analyze.js';
import { formatJson, formatSarif, formatText } from './report.js';

const USAGE = `Usage: kubeseal lint [PATH...] [flags]

Check SealedSecrets, Secrets and kustomizations under each PATH (default: .) offline:
plaintext Secrets, scopes that overlays break, values the cluster's key cannot have sealed,
stale keys, expiring certificates, template errors and duplicates. Clusters and paths come
from .sealed-secrets.yaml (found in the working directory or above it).

Flags:
  --format text|json|sarif   Output format (default text); sarif is SARIF 2.1.0 for code scanning
  --config FILE              The .sealed-secrets.yaml to use (default: found by walking up)
  --expiry-days N            Warn about certificates that expire within N days (default 30)
  -h, --help                 Show this help

Exit codes: 0 no findings, 1 findings, 2 usage error.
`;

interface LintArgs {
  paths: string[];
  format: 'text' | 'json' | 'sarif';
  config?: string;
  expiryDays: number;
  help: boolean;
}

class LintUsage extends SealedSecretsError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

function parseLintArgs(argv: readonly string[]): LintArgs {
  const a: LintArgs = { paths: [], format: 'text', expiryDays: 30, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new LintUsage(`${flag} needs a value`);
      return v;
    };
    if (flag === '-h' || flag === '--help') a.help = true;
    else if (flag === '--format' || flag === '-o') {
      const v = value();
      if (v !== 'text' && v !== 'json' && v !== 'sarif') throw new LintUsage(`--format ${JSON.stringify(v)}: must be one of text, json, sarif`);
      a.format = v;
    } else if (flag === '--config') a.config = value();
    else if (flag === '--expiry-days') {
      const v = value();
      if (!/^\d+$/.test(v)) throw new LintUsage(`--expiry-days ${JSON.stringify(v)}: must be a whole number of days`);
      a.expiryDays = Number(v);
    } else if (flag === '--') a.paths.push(...argv.slice(i + 1)), (i = argv.length);
    else if (flag.startsWith('-') && flag !== '-') throw new LintUsage(`unknown flag: ${flag}`);
    else a.paths.push(arg);
  }
  return a;
}

export async function runLint(argv: readonly string[], io: CliIo): Promise<number> {
  let args: LintArgs;
  try {
    args = parseLintArgs(argv);
  } catch (e) {
    io.writeStderr(`error: ${(e as Error).message}\nRun 'kubeseal lint --help' for usage.\n`);
    return 2;
  }
  if (args.help) {
    io.writeStdout(USAGE);
    return 0;
  }
  try {
    const paths = (args.paths.length ? args.paths : ['.']).map((p) => ({ shown: p, abs: resolve(io.cwd, p) }));
    const kinds = await Promise.all(
      paths.map(async (p) => {
        try {
          return (await stat(p.abs)).isDirectory() ? 'dir' : 'file';
        } catch {
          throw new LintUsage(`${p.shown}: no such file or directory`);
        }
      }),
    );
    const configFile = args.config ? resolve(io.cwd, args.config) : (findConfigFile(io.cwd) ?? findConfigFile(kinds[0] === 'dir' ? paths[0]!.abs : dirname(paths[0]!.abs)));
    let config: FleetConfig | undefined;
    if (configFile) config = await loadFleetConfig(configFile, args.config ?? (relative(io.cwd, configFile) || configFile));
    if (config) {
      for (const c of config.clusters.values()) {
        if (/^https:\/\//i.test(c.certSource)) io.writeStderr(`note: cluster ${c.name}: the certificate is a URL; lint is offline, so the key checks for ${c.name} are skipped (commit the certificate as a file to have them)\n`);
      }
    }
    // Kustomizations are read from the whole repository (the config's folder, else the working directory).
    const repoRoot = config?.root ?? io.cwd;
    const repositoryFiles = await walkManifests(repoRoot);
    const files = new Set<string>();
    for (const [n, p] of paths.entries()) {
      if (kinds[n] === 'file') files.add(p.abs);
      else if (p.abs === repoRoot) for (const f of repositoryFiles) files.add(f);
      else for (const f of await walkManifests(p.abs)) files.add(f);
    }
    const extra = [...files].filter((f) => !f.startsWith(repoRoot + '/'));
    const findings = await lintRepository({ cwd: io.cwd, config, repositoryFiles: [...repositoryFiles, ...extra], files: [...files], now: io.now(), expiryDays: args.expiryDays });
    findings.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : (x.line ?? 0) - (y.line ?? 0)));
    if (args.format === 'json') io.writeStdout(formatJson(findings, files.size));
    else if (args.format === 'sarif') io.writeStdout(formatSarif(findings, VERSION));
    else io.writeStdout(formatText(findings, files.size));
    return findings.length ? 1 : 0;
  } catch (e) {
    if (isSealedSecretsError(e)) {
      io.writeStderr(`error: ${e.detail}\n`);
      return e.code === 'ERR_USAGE' ? 2 : 1;
    }
    io.writeStderr(`error: internal error (${(e as Error)?.name ?? 'unknown'}); report it\n`);
    return 1;
  }
}
