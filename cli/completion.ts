/** `kubeseal completion bash|zsh|fish`: completion scripts for every flag, with values for the enumerated ones. */

interface Flag {
  long: string;
  short?: string;
  values?: string[];
  file?: boolean;
  help: string;
}

const FLAGS: Flag[] = [
  { long: 'cert', file: true, help: 'certificate file or URL' },
  { long: 'format', short: 'o', values: ['json', 'yaml'], help: 'output format' },
  { long: 'secret-file', short: 'f', file: true, help: 'Secret input file' },
  { long: 'sealed-secret-file', short: 'w', file: true, help: 'SealedSecret output file' },
  { long: 'scope', values: ['strict', 'namespace-wide', 'cluster-wide'], help: 'sealing scope' },
  { long: 'allow-empty-data', help: 'allow a Secret with no data' },
  { long: 'merge-into', file: true, help: 'merge into this SealedSecret file' },
  { long: 'raw', help: 'seal one value' },
  { long: 'from-file', file: true, help: 'value file for --raw' },
  { long: 'name', help: 'Secret name' },
  { long: 'namespace', short: 'n', help: 'Secret namespace' },
  { long: 'fetch-cert', help: 'print the certificate' },
  { long: 'recovery-unseal', help: 'unseal offline with private keys' },
  { long: 'recovery-private-key', file: true, help: 'private key or key backup file' },
  { long: 'kubeconfig', file: true, help: 'kubeconfig file' },
  { long: 'context', help: 'kubeconfig context' },
  { long: 'controller-name', help: 'controller Service name' },
  { long: 'controller-namespace', help: 'controller namespace' },
  { long: 'debug', help: 'print stack traces' },
  { long: 'server', short: 's', help: 'API server address' },
  { long: 'token', help: 'bearer token' },
  { long: 'as', help: 'user to impersonate' },
  { long: 'as-group', help: 'group to impersonate (repeatable)' },
  { long: 'as-uid', help: 'UID to impersonate' },
  { long: 'username', help: 'basic auth username' },
  { long: 'password', help: 'basic auth password' },
  { long: 'certificate-authority', file: true, help: 'CA certificate file' },
  { long: 'client-certificate', file: true, help: 'client certificate file' },
  { long: 'client-key', file: true, help: 'client key file' },
  { long: 'insecure-skip-tls-verify', help: 'do not check the server certificate' },
  { long: 'tls-server-name', help: 'name to check the server certificate against' },
  { long: 'proxy-url', help: 'proxy URL' },
  { long: 'disable-compression', help: 'no compressed answers' },
  { long: 'cluster', help: 'kubeconfig cluster' },
  { long: 'user', help: 'kubeconfig user' },
  { long: 'request-timeout', help: 'per-request timeout (0: none)' },
  { long: 'v', short: 'v', help: 'log level' },
  { long: 'help', short: 'h', help: 'show help' },
  { long: 'version', help: 'show the version' },
];

function bash(): string {
  const words = FLAGS.flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]).join(' ');
  const cases = FLAGS.filter((f) => f.values || f.file)
    .map((f) => {
      const pats = [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])].join('|');
      const action = f.values ? `COMPREPLY=( $(compgen -W "${f.values.join(' ')}" -- "$cur") )` : 'COMPREPLY=( $(compgen -f -- "$cur") )';
      return `    ${pats}) ${action}; return ;;`;
    })
    .join('\n');
  return `# bash completion for kubeseal; load with: source <(kubeseal completion bash)
_kubeseal() {
  local cur prev
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "${words}" -- "$cur") )
  elif [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "completion lint" -- "$cur") )
  elif [[ "\${COMP_WORDS[1]}" == lint ]]; then
    COMPREPLY=( $(compgen -W "--format --config --expiry-days" -- "$cur") )
  elif [[ "$prev" == completion ]]; then
    COMPREPLY=( $(compgen -W "bash zsh fish" -- "$cur") )
  fi
}
complete -o default -F _kubeseal kubeseal
`;
}

function zsh(): string {
  const specs = FLAGS.map((f) => {
    const desc = f.help.replace(/[[\]']/g, '');
    const arg = f.values ? `:${f.long}:(${f.values.join(' ')})` : f.file ? `:${f.long}:_files` : ['name', 'namespace', 'context', 'controller-name', 'controller-namespace'].includes(f.long) ? `:${f.long}:` : '';
    const names = f.short ? `{-${f.short},--${f.long}}` : `--${f.long}`;
    return `    ${f.short ? `'(-${f.short} --${f.long})'` : ''}${names}'[${desc}]${arg}'`;
  }).join(' \\\n');
  return `#compdef kubeseal
# zsh completion for kubeseal; load with: source <(kubeseal completion zsh)
_kubeseal() {
  _arguments -s \\
${specs} \\
    '1:command:(completion lint)' \\
    '2:shell:(bash zsh fish)'
}
compdef _kubeseal kubeseal
`;
}

function fish(): string {
  const lines = FLAGS.map((f) => {
    let line = `complete -c kubeseal -l ${f.long}`;
    if (f.short) line += ` -s ${f.short}`;
    if (f.values) line += ` -x -a '${f.values.join(' ')}'`;
    else if (f.file) line += ' -r -F';
    else if (['name', 'namespace', 'context', 'controller-name', 'controller-namespace'].includes(f.long)) line += ' -x';
    return `${line} -d '${f.help.replace(/'/g, "\\'")}'`;
  });
  return `# fish completion for kubeseal; load with: kubeseal completion fish | source
complete -c kubeseal -n '__fish_use_subcommand' -a completion -d 'print a shell completion script'
complete -c kubeseal -n '__fish_seen_subcommand_from completion' -x -a 'bash zsh fish'
complete -c kubeseal -n '__fish_use_subcommand' -a lint -d 'check a GitOps repository offline (kubeseal lint [PATH...])'
complete -c kubeseal -n '__fish_seen_subcommand_from lint' -l format -x -a 'text json sarif' -d 'output format'
${lines.join('\n')}
`;
}

export function completionScript(shell: 'bash' | 'zsh' | 'fish'): string {
  return shell === 'bash' ? bash() : shell === 'zsh' ? zsh() : fish();
}
