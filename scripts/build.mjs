// Builds the binaries: type-checked sources bundled by esbuild into single files,
// so `kubeseal` starts without resolving hundreds of modules (see README, start-up).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // import.meta is read only when running from source (see scripts/local-cluster-harness.ts ROOT).
  logOverride: { 'empty-import-meta': 'silent' },
  // node-forge stays a runtime require, loaded only where a certificate is built (never by kubeseal).
  external: ['node-forge', '@kubernetes/client-node', 'piscina', 'prom-client', 'node-vault'],
  define: { __KUBESEAL_VERSION__: JSON.stringify(pkg.version) },
};

await build({ ...common, entryPoints: { kubeseal: 'cli/main.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
// Everything else bundles client-node's KubeConfig module tree-shaken (controller/kube/kubeconfig.ts):
// loading the package whole costs the controller about 60 MB of memory for generated API code it
// never runs. kubeseal keeps it a runtime import, loaded only by the modes that talk to a cluster.
common.external = common.external.filter((m) => m !== '@kubernetes/client-node');
await build({ ...common, entryPoints: { bench: 'bench/main.ts', 'cluster-sync': 'bench/cluster-sync.ts', 'api-costs': 'bench/api-costs.ts', 'forge-worker': 'bench/forge-worker.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
await build({ ...common, entryPoints: { demo: 'scripts/demo.ts', 'demo-offline': 'scripts/demo-offline.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
await build({ ...common, entryPoints: { 'sealed-secrets-controller': 'controller/main.ts', 'unseal-worker': 'controller/unseal-worker.ts', 'sealed-secrets-keys': 'controller/keys-cli.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
