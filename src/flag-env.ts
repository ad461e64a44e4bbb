/**
 * Flags from the environment, as upstream (pkg/flagenv, pkg/pflagenv): every flag
 * --some-flag may also be given as SEALED_SECRETS_SOME_FLAG. A variable counts only
 * when its flag is not on the command line; variables for unknown flags are ignored.
 * Returns the extra arguments to put before the command line.
 */
export interface FlagSpec {
  name: string;
  alias?: string;
  boolean?: boolean;
}

export function argsFromEnv(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, flags: readonly FlagSpec[], prefix = 'SEALED_SECRETS_'): string[] {
  const given = (f: FlagSpec) =>
    argv.some((a) => a === `--${f.name}` || a.startsWith(`--${f.name}=`) || a === `--no-${f.name}` || (f.alias !== undefined && (a === `-${f.alias}` || a.startsWith(`-${f.alias}=`))));
  const out: string[] = [];
  for (const f of flags) {
    const v = env[`${prefix}${f.name.toUpperCase().replace(/-/g, '_')}`];
    if (v === undefined || given(f)) continue;
    out.push(f.boolean ? `--${f.name}=${/^(1|t|true|yes)$/i.test(v.trim()) ? 'true' : 'false'}` : `--${f.name}=${v}`);
  }
  return out;
}
