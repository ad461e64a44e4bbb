/**
 * Screenshots of the dashboard's panel queries evaluated by a real Prometheus on real data
 * (docs/dashboard/*.png). There is no Grafana here (not in Debian's archive, not on npm), so the
 * queries of deploy/components/grafana-dashboard are shown in Prometheus' own web UI instead,
 * one PNG per panel, each of its queries as a graph (instant table panels as a table).
 *
 * What it runs: the local control plane, the controller (RSA-2048) with the ServiceAccount's
 * token, SealedSecrets created in bursts (some broken, then fixed), HTTP requests, a key rotation
 * (SIGUSR1); Prometheus (Debian's package) on 127.0.0.1 scraping the controller every second;
 * headless Chromium (Debian's package) on 127.0.0.1 only. Installs `prometheus`, `chromium` and
 * `fonts-dejavu-core` when missing. Not part of `npm test`:
 *   node scripts/dashboard-screenshots.mjs            (about 3 minutes)
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paths } from '../controller/kube/client.js';
import { publicKeyFingerprint, sealSecret, type SealedSecret } from '../src/index.js';
import { ROOT, applyManifests, serviceAccountKubeconfig, startCluster, startController, waitFor } from './local-cluster-harness.js';
import { shortenedRules, startPrometheus } from '../test/prometheus/prometheus.js';
import { DASHBOARD, dashboardQueries, type Dashboard } from '../test/prometheus/dashboard.js';

const OUT = join(ROOT, 'docs/dashboard');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`[screenshots] ${s}\n`);

async function main(): Promise<void> {
  execFileSync('bash', [join(ROOT, 'scripts/ensure-debian-packages.sh'), 'prometheus', 'chromium', 'fonts-dejavu-core'], { stdio: 'inherit' });
  const tmp = mkdtempSync(join(tmpdir(), 'ss-screenshots-'));
  log('starting the local control plane');
  const cluster = await startCluster();
  let ctrl: Awaited<ReturnType<typeof startController>> | undefined;
  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    await applyManifests(cluster.admin);
    ctrl = await startController(await serviceAccountKubeconfig(cluster), ['--key-store-poll-interval', '1s', '--key-activation-delay', '60s']);
    const certPem = await waitFor(async () => {
      const r = await fetch(`${ctrl!.url}/v1/cert.pem`);
      return r.ok ? r.text() : undefined;
    }, 30_000, 'the controller certificate');
    const rules = join(tmp, 'rules.yaml');
    writeFileSync(rules, shortenedRules(join(ROOT, 'deploy/prometheus/sealed-secrets.rules.yaml'), '10s', '30s'));
    prom = await startPrometheus({ targets: [new URL(ctrl.metricsUrl).host], ruleFiles: [rules] });
    log(`Prometheus on ${prom.url}`);
    const pub = createPublicKey(certPem);
    const seal = (ns: string, name: string, v: string): SealedSecret =>
      sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: { a: v, b: `${v}-b` } }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) });
    for (const ns of ['team-a', 'team-b', 'team-c']) await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });

    // Three minutes of traffic: bursts of new SealedSecrets, broken ones later fixed, HTTP, a rotation.
    const started = Date.now();
    let n = 0;
    for (let round = 0; Date.now() - started < 170_000; round++) {
      const ns = ['team-a', 'team-b', 'team-c'][round % 3]!;
      for (let i = 0; i < 15; i++) await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(ns), body: seal(ns, `app-${n++}`, `value-${n}`) });
      if (round % 4 === 1) {
        const broken = seal(ns, `broken-${round}`, 'x');
        broken.spec.encryptedData['a'] = Buffer.from('not a ciphertext for any key here').toString('base64');
        await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets(ns), body: broken });
      }
      if (round % 4 === 3) {
        // Fix the broken one of two rounds ago.
        const name = `broken-${round - 2}`;
        const bns = ['team-a', 'team-b', 'team-c'][(round - 2) % 3]!;
        const live = await cluster.admin.request<SealedSecret>({ method: 'GET', path: paths.sealedSecret(bns, name) });
        await cluster.admin.request({ method: 'PUT', path: paths.sealedSecret(bns, name), body: { ...live, spec: seal(bns, name, 'fixed').spec } });
      }
      for (let i = 0; i < 5; i++) await fetch(`${ctrl.url}/v1/cert.pem`);
      if (round === 6) ctrl.proc.kill('SIGUSR1');
      await sleep(4000);
    }
    // One left broken, so the not-Synced table has a row.
    const last = seal('team-b', 'broken-last', 'x');
    last.spec.encryptedData['a'] = Buffer.from('not a ciphertext for any key here').toString('base64');
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('team-b'), body: last });
    await sleep(5000);
    log(`${n} SealedSecrets created; taking screenshots`);

    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    // Prometheus' rate over 1m at a 1 s scrape: close to what Grafana's $__rate_interval gives.
    const queries = dashboardQueries(dash, '1m');
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const profile = join(tmp, 'chromium-profile');
    const panels = dash.panels.filter((p) => p.type !== 'row');
    for (const [i, panel] of panels.entries()) {
      const qs = queries.filter((q) => q.panelId === panel.id);
      const params = new URLSearchParams();
      qs.forEach((q, k) => {
        params.set(`g${k}.expr`, q.expr);
        params.set(`g${k}.tab`, q.instant ? '1' : '0');
        params.set(`g${k}.range_input`, '4m');
        params.set(`g${k}.stacked`, '0');
      });
      const url = `${prom.url}/graph?${params.toString()}`;
      const file = join(OUT, `${String(i + 1).padStart(2, '0')}-${panel.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/-$/, '')}.png`);
      // One page per panel: each of its queries as a graph (an instant table panel as a table).
      const height = 110 + qs.reduce((h, q) => h + (q.instant ? 420 : 690), 0);
      execFileSync(
        'chromium',
        [
          '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${profile}`,
          // Nothing but loopback: no component updates, no Safe Browsing, no DNS.
          '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
          `--window-size=1280,${height}`, '--virtual-time-budget=15000', `--screenshot=${file}`, url,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 },
      );
      log(`${file}: ${panel.title} (${qs.length} queries)`);
    }
  } finally {
    await prom?.stop();
    await ctrl?.stop();
    cluster.down();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`[screenshots] failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
