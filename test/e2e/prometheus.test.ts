/**
 * The alerts and the dashboard against reality: a real Prometheus server (Debian's package, on
 * 127.0.0.1, temporary storage) scrapes the real controller running on the real local API server
 * and evaluates the shipped rules, with every `for:` shortened to 3 s and every range to 10 s
 * (the real durations are covered by promtool's unit tests). A broken SealedSecret makes
 * SealedSecretsNotSynced fire, fixing it clears it; stopping the controller makes
 * SealedSecretsControllerDown fire. `promtool check metrics` on the real /metrics; every metric
 * the dashboard's queries reference is in the real scrape, and every query evaluates.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../controller/kube/client.js';
import { createMetrics } from '../../controller/metrics.js';
import { publicKeyFingerprint, sealSecret, type SealedSecret } from '../../src/index.js';
import { ROOT, applyManifests, serviceAccountKubeconfig, startCluster, startController, waitFor, type Cluster, type ControllerProcess } from './harness.js';
import { PROMTOOL_BIN, metricNames, shortenedRules, startPrometheus, type PrometheusServer } from '../prometheus/prometheus.js';
import { DASHBOARD, dashboardQueries, type Dashboard } from '../prometheus/dashboard.js';

let cluster: Cluster;
let ctrl: ControllerProcess;
let prom: PrometheusServer;
let certPem: string;
const tmp = mkdtempSync(join(tmpdir(), 'ss-e2e-prom-'));
const log = (s: string) => process.stderr.write(`[prometheus e2e] ${s}\n`);

function seal(ns: string, name: string, value: string): SealedSecret {
  const pub = createPublicKey(certPem);
  return sealSecret({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: { value } }, { publicKey: pub, fingerprint: publicKeyFingerprint(pub) });
}

async function firing(alertname: string, labels: Record<string, string> = {}): Promise<boolean> {
  return (await prom.alerts()).some((a) => a.state === 'firing' && a.labels['alertname'] === alertname && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
}

beforeAll(async () => {
  cluster = await startCluster();
  await applyManifests(cluster.admin);
  ctrl = await startController(await serviceAccountKubeconfig(cluster), ['--key-store-poll-interval', '1s']);
  certPem = await waitFor(async () => {
    const r = await fetch(`${ctrl.url}/v1/cert.pem`);
    return r.ok ? r.text() : undefined;
  }, 30_000, 'the controller certificate');
  await cluster.admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } } });
  const rules = join(tmp, 'sealed-secrets.rules.yaml');
  writeFileSync(rules, shortenedRules(join(ROOT, 'deploy/prometheus/sealed-secrets.rules.yaml')));
  prom = await startPrometheus({ targets: [new URL(ctrl.metricsUrl).host], ruleFiles: [rules] });
}, 20 * 60_000);

afterAll(async () => {
  await prom?.stop();
  await ctrl?.stop();
  cluster?.down();
  rmSync(tmp, { recursive: true, force: true });
});

describe('alerts on a real Prometheus scraping the real controller', () => {
  it('scrapes the controller and evaluates every rule without error', async () => {
    await waitFor(async () => (await prom.query('up{job="sealed-secrets-controller-metrics"} == 1')).length === 1, 20_000, 'the controller target up');
    const rules = await waitFor(async () => {
      const rs = await prom.rules();
      return rs.length > 0 && rs.every((r) => r.health === 'ok') ? rs : undefined;
    }, 20_000, 'every rule evaluated');
    expect(rules.map((r) => r.name).sort()).toHaveLength(10);
  });

  it('a broken SealedSecret makes SealedSecretsNotSynced fire; fixing it clears it', async () => {
    const good = seal('team-a', 'good', 'v1');
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('team-a'), body: good });
    const broken = seal('team-a', 'broken', 'v2');
    // A ciphertext no key can open (valid base64, wrong bytes): Synced=False.
    broken.spec.encryptedData['value'] = Buffer.from('not a ciphertext for any key of this controller').toString('base64');
    const t0 = Date.now();
    await cluster.admin.request({ method: 'POST', path: paths.sealedSecrets('team-a'), body: broken });
    await waitFor(async () => (await prom.query('sealed_secrets_controller_condition_info{namespace="team-a",name="broken",condition="Synced"} == -1')).length === 1, 20_000, 'condition_info -1 scraped');
    await waitFor(() => firing('SealedSecretsNotSynced', { namespace: 'team-a', name: 'broken', severity: 'warning' }), 30_000, 'SealedSecretsNotSynced firing');
    const fired = Date.now() - t0;
    // Only the broken one fires.
    expect(await firing('SealedSecretsNotSynced', { name: 'good' })).toBe(false);
    log(`SealedSecretsNotSynced fired ${fired} ms after the broken SealedSecret was created`);

    const live = await cluster.admin.request<SealedSecret>({ method: 'GET', path: paths.sealedSecret('team-a', 'broken') });
    const fixed = seal('team-a', 'broken', 'v2');
    const t1 = Date.now();
    await cluster.admin.request({ method: 'PUT', path: paths.sealedSecret('team-a', 'broken'), body: { ...live, spec: fixed.spec } });
    await waitFor(async () => !(await prom.alerts()).some((a) => a.labels['alertname'] === 'SealedSecretsNotSynced'), 30_000, 'SealedSecretsNotSynced cleared');
    log(`SealedSecretsNotSynced cleared ${Date.now() - t1} ms after the SealedSecret was fixed`);
    expect((await prom.query('sealed_secrets_controller_condition_info{namespace="team-a",name="broken",condition="Synced"}'))[0]?.value[1]).toBe('1');
  });

  it('a healthy controller fires none of the other alerts', async () => {
    // Well past every shortened `for:` (3 s) with the controller healthy.
    await new Promise((r) => setTimeout(r, 5000));
    const active = (await prom.alerts()).map((a) => `${a.labels['alertname']}(${a.state})`);
    log(`active alerts while healthy: ${active.join(', ') || 'none'}`);
    for (const name of ['SealedSecretsNotSynced', 'SealedSecretsControllerDown', 'SealedSecretsNoLeader', 'SealedSecretsNoSealingKey', 'SealedSecretsKeyRotationOverdue', 'SealedSecretsCertificateExpiringSoon', 'SealedSecretsWorkQueueBacklog', 'SealedSecretsKeyStoreErrors']) {
      expect(active.filter((a) => a.startsWith(`${name}(`)), name).toEqual([]);
    }
    // The same rules do see the real values they judge.
    expect(Number((await prom.query('max(sealed_secrets_controller_is_leader)'))[0]?.value[1])).toBe(1);
    expect(Number((await prom.query('min(sealed_secrets_controller_next_key_rotation_seconds)'))[0]?.value[1])).toBeGreaterThan(80 * 86400);
    expect(Number((await prom.query('min(sealed_secrets_controller_certificate_expiry_timestamp_seconds) - time()'))[0]?.value[1])).toBeGreaterThan(9 * 365 * 86400);
  });

  it('promtool check metrics finds nothing to lint in the project\'s own metrics', async () => {
    const text = await (await fetch(`${ctrl.metricsUrl}/metrics`)).text();
    const all = spawnSync(PROMTOOL_BIN, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const complaints = (all.stdout + all.stderr).split('\n').filter(Boolean);
    log(`promtool check metrics on the whole /metrics: ${complaints.length ? complaints.join('; ') : 'clean'}`);
    // Anything promtool says is about prom-client's default Node.js metrics, never ours.
    for (const c of complaints) expect(c).not.toMatch(/sealed_secrets_controller_/);
    // Our families alone (HELP, TYPE and samples): clean, exit 0.
    const ours = text.split('\n').filter((l) => /^(# (HELP|TYPE) )?sealed_secrets_controller_/.test(l)).join('\n') + '\n';
    const families = (await createMetrics('test').registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('sealed_secrets_controller_'));
    expect(ours.split('\n').filter((l) => l.startsWith('# TYPE')).map((l) => l.split(' ')[2]).sort()).toEqual(families.sort());
    const r = spawnSync(PROMTOOL_BIN, ['check', 'metrics'], { input: ours, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    // And promtool does complain when there is something to complain about.
    const bad = spawnSync(PROMTOOL_BIN, ['check', 'metrics'], { input: '# HELP x_count_total x\n# TYPE x_count_total gauge\nx_count_total 1\n', encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  });

  it('every metric the dashboard queries is in the real scrape, and every panel query evaluates', async () => {
    await fetch(`${ctrl.url}/v1/cert.pem`); // HTTP request metrics
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    const queries = dashboardQueries(dash, '10s');
    const text = await waitFor(async () => {
      const t = await (await fetch(`${ctrl.metricsUrl}/metrics`)).text();
      return t.includes('sealed_secrets_controller_sealed_secrets_per_key{') ? t : undefined;
    }, 10_000, 'the per-key gauge (set by the key poll)');
    const scraped = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!));
    const missing = [...new Set(queries.flatMap((q) => metricNames(q.expr)))].filter((n) => !scraped.has(n));
    expect(missing).toEqual([]);
    // Evaluated by Prometheus, after a few scrapes.
    await new Promise((r) => setTimeout(r, 3000));
    let withData = 0;
    for (const q of queries) {
      const result = await prom.query(q.expr); // throws on a query Prometheus refuses
      if (result.length > 0) withData++;
    }
    log(`dashboard: ${queries.length} queries over ${new Set(queries.map((q) => q.panel)).size} panels evaluated, ${withData} with data`);
    expect(withData).toBeGreaterThan(queries.length * 0.7);
  });

  it('stopping the controller makes SealedSecretsControllerDown fire', async () => {
    const t0 = Date.now();
    await ctrl.stop();
    await waitFor(() => firing('SealedSecretsControllerDown', { severity: 'critical' }), 30_000, 'SealedSecretsControllerDown firing');
    log(`SealedSecretsControllerDown fired ${Date.now() - t0} ms after the controller stopped`);
  });
});
