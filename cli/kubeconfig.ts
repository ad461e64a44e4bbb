/**
 * The namespace of the current kubeconfig context, which upstream kubeseal uses
 * when the input Secret has none. Read from the file directly: offline sealing
 * never loads the Kubernetes client.
 */
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { CliIo } from './io.js';

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name?: string; context?: { namespace?: string } }[];
}

export async function kubeconfigNamespace(io: CliIo, kubeconfig: string | undefined, context: string | undefined): Promise<string | undefined> {
  const files = kubeconfig ? [kubeconfig] : (io.env['KUBECONFIG'] ?? join(io.env['HOME'] ?? homedir(), '.kube', 'config')).split(delimiter).filter(Boolean);
  const { parse } = await import('yaml');
  let current = context;
  for (const f of files) {
    let cfg: KubeconfigFile;
    try {
      cfg = (parse(await readFile(f, 'utf8')) ?? {}) as KubeconfigFile;
    } catch {
      continue;
    }
    current ??= cfg['current-context'];
    const ctx = cfg.contexts?.find((c) => c.name === current);
    if (ctx) return ctx.context?.namespace || undefined;
  }
  return undefined;
}
