/**
 * Before any test: make sure the local Kubernetes binaries exist (built once per
 * machine from Debian's source package, ~8 minutes cold, cached afterwards), so
 * that e2e test files starting clusters in parallel never race to build them;
 * Debian's `prometheus` package (promtool, the server) for the alert tests;
 * and the single-file kubeseal (release/kubeseal-linux-x64: test/sea.test.ts and
 * the e2e tests), built from dist/ by scripts/release.mjs on the cached Node of
 * the image's line (~10 s when kubeseal changed, cached by input hash otherwise).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  // promtool and the Prometheus server (test/prometheus/, test/e2e/prometheus.test.ts): Debian's package.
  const ensure = fileURLToPath(new URL('../scripts/ensure-debian-packages.sh', import.meta.url));
  execFileSync('bash', [ensure, 'prometheus'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000 });
  const script = fileURLToPath(new URL('../scripts/local-cluster.sh', import.meta.url));
  process.stderr.write('[global-setup] ensuring the local Kubernetes control plane binaries (first run on a machine builds them)\n');
  // All four binaries (the control plane, and kubelet + kube-scheduler for test/e2e/node/): one make
  // on a fresh machine, sharing the code generators (~25 min on 2 cores); nothing when cached.
  execFileSync('bash', [script, 'build', '--node'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60 * 60_000 });
  // The node suite's vitest (scripts/test-runtimes.mjs runs it beside the others) must not build
  // the single-file kubeseal at the same time as the other vitest, which builds it first thing
  // (release.mjs puts it in place with a rename); the node suite's one test of it runs minutes
  // later, after `up --node`, and waits for the file.
  if (process.env['SEALED_SECRETS_SETUP_NO_SEA'] === '1') return;
  if (existsSync(fileURLToPath(new URL('../dist/kubeseal-sea.cjs', import.meta.url)))) {
    execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/release.mjs', import.meta.url)), 'sea'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000 });
  } else {
    process.stderr.write('[global-setup] dist/ is not built (npm run build): the single-file kubeseal tests will fail\n');
  }
}
