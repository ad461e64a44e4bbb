/**
 * Before any test: make sure the local Kubernetes binaries exist (built once per
 * machine from Debian's source package, ~8 minutes cold, cached afterwards), so
 * that e2e test files starting clusters in parallel never race to build them;
 * and Debian's `prometheus` package (promtool, the server) for the alert tests.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  // promtool and the Prometheus server (test/prometheus/, test/e2e/prometheus.test.ts): Debian's package.
  const ensure = fileURLToPath(new URL('../scripts/ensure-debian-packages.sh', import.meta.url));
  execFileSync('bash', [ensure, 'prometheus'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 10 * 60_000 });
  const script = fileURLToPath(new URL('../scripts/local-cluster.sh', import.meta.url));
  process.stderr.write('[global-setup] ensuring the local Kubernetes control plane binaries (first run on a machine builds them)\n');
  execFileSync('bash', [script, 'build'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 30 * 60_000 });
}
