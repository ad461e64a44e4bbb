// Builds the binaries: type-checked sources bundled by esbuild into single files,
// so `kubeseal` starts without resolving hundreds of modules (see README, start-up).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

// The commit `kubeseal --version` names: SOURCE_REVISION (the image build passes it, its
// context has no .git), else git's HEAD (with -dirty for uncommitted changes to tracked files),
// else `unknown`: a tarball or a copy without .git still builds.
function revision() {
  if (process.env.SOURCE_REVISION) return process.env.SOURCE_REVISION;
  const git = (...args) => execFileSync('git', args, { cwd: new URL('..', import.meta.url), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git('rev-parse', 'HEAD');
    let dirty = false;
    try {
      git('diff', '--quiet', 'HEAD', '--');
    } catch {
      dirty = true;
    }
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // import.meta is read only when running from source (see scripts/local-cluster-harness.ts ROOT).
  logOverride: { 'empty-import-meta': 'silent' },
  // node-forge stays a runtime require, loaded only where a certificate is built (never by kubeseal).
  external: ['node-forge', 'piscina', 'prom-client', 'node-vault'],
  // client-node 1.4 -> node-fetch 2 -> whatwg-url 5 and tr46 call require('punycode'): Node's
  // built-in, deprecated (DEP0040, a warning on every start from Node 21 on). The bundles get
  // the same code from npm's `punycode` package instead (the trailing slash names the package,
  // not the built-in). See README, "Supported versions".
  alias: { punycode: 'punycode/' },
  define: { __KUBESEAL_VERSION__: JSON.stringify(pkg.version), __KUBESEAL_REVISION__: JSON.stringify(revision()) },
};

// Every bundle takes client-node's KubeConfig module tree-shaken (@kubernetes/client-node/dist/config.js):
// loading the package whole costs about 60 MB of memory for generated API code nothing here runs.
// kubeseal imports it lazily (cli/cluster.ts), only in the modes that talk to a cluster, from a bundle
// of its own beside it: inlined, its 1.8 MB cost offline sealing ~120 ms of start-up (measured on a loaded
// machine: 368 ms against 245 ms), though it never runs. So dist/ needs no node_modules for kubeseal.
const KUBE_CLIENT = '@kubernetes/client-node/dist/config.js';
const kubeClientBeside = {
  name: 'kube-client-beside',
  setup(b) {
    b.onResolve({ filter: /^@kubernetes\/client-node\/dist\/config\.js$/ }, () => ({ path: './kubeseal-kubernetes-client.cjs', external: true }));
  },
};
await build({ ...common, external: [], plugins: [kubeClientBeside], entryPoints: { kubeseal: 'cli/main.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
await build({ ...common, external: [], stdin: { contents: `export { KubeConfig } from '${KUBE_CLIENT}';`, resolveDir: '.', sourcefile: 'kubeseal-kubernetes-client.ts' }, outfile: 'dist/kubeseal-kubernetes-client.cjs', format: 'cjs' });
// The single-file kubeseal's input (scripts/release.mjs): everything in one file, nothing required
// at run time but Node's built-ins. Its start-up is paid back by the SEA's code cache.
await build({ ...common, external: [], entryPoints: { 'kubeseal-sea': 'cli/main.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
await build({ ...common, entryPoints: { bench: 'bench/main.ts', 'cluster-sync': 'bench/cluster-sync.ts', 'api-costs': 'bench/api-costs.ts', 'forge-worker': 'bench/forge-worker.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
await build({ ...common, entryPoints: { demo: 'scripts/demo.ts', 'demo-offline': 'scripts/demo-offline.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
await build({ ...common, entryPoints: { 'sealed-secrets-controller': 'controller/main.ts', 'unseal-worker': 'controller/unseal-worker.ts', 'sealed-secrets-keys': 'controller/keys-cli.ts' }, outdir: 'dist', format: 'cjs', outExtension: { '.js': '.cjs' } });
