/**
 * The Grafana dashboard without a cluster: Grafana's dashboard shape, the datasource variable,
 * the panels the issue asks for, every panel query parsed by the real promtool (as recording
 * rules in a generated rules file), and the ConfigMap component carrying the same JSON. Against
 * a real scrape of the running controller and a real Prometheus: test/e2e/prometheus.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { ROOT } from '../e2e/harness.js';
import { PROMTOOL_BIN, metricNames } from './prometheus.js';
import { DASHBOARD, dashboardQueries, type Dashboard } from './dashboard.js';

const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;

describe('Grafana dashboard', () => {
  it('is a Grafana dashboard with a Prometheus datasource variable used by every panel and query', () => {
    expect(dash.uid).toBe('sealed-secrets-controller');
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    const ds = dash.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const ids = new Set<number>();
    for (const p of dash.panels) {
      expect(ids.has(p.id), `panel id ${p.id} unique`).toBe(false);
      ids.add(p.id);
      expect(p.gridPos, p.title).toBeDefined();
      if (p.type === 'row') continue;
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('has the panels the issue lists, each querying the metrics it is about', () => {
    const byTitle = new Map(dash.panels.filter((p) => p.type !== 'row').map((p) => [p.title, p.targets!.map((t) => t.expr).join('\n')]));
    const want: Record<string, RegExp[]> = {
      'Unseals per second': [/unseal_requests_total/],
      'Unseal errors per second by namespace': [/sum by \(namespace, reason\) \(rate\(sealed_secrets_controller_unseal_errors_total/],
      'SealedSecrets by condition': [/condition_info.*== 1/, /condition_info.*== -1/],
      'Unseal latency percentiles': [/histogram_quantile\(0\.5,/, /histogram_quantile\(0\.9,/, /histogram_quantile\(0\.99,.*unseal_duration_seconds_bucket/],
      'Work queue depth by lane': [/max by \(lane\) \(sealed_secrets_controller_queue_depth/],
      'RSA private operations per second': [/rsa_private_operations_total/],
      'Keys by state': [/keys_by_state/],
      'Key age': [/key_age_seconds/],
      'Time to next key rotation': [/next_key_rotation_seconds/],
      Leader: [/is_leader/],
      'HTTP requests per second': [/http_requests_total/],
      'Process memory': [/process_resident_memory_bytes/, /nodejs_heap_size_used_bytes/],
      'Event-loop lag': [/nodejs_eventloop_lag_p99_seconds/],
    };
    for (const [title, res] of Object.entries(want)) {
      const exprs = byTitle.get(title);
      expect(exprs, `panel "${title}"`).toBeDefined();
      for (const re of res) expect(exprs, title).toMatch(re);
    }
  });

  it('promtool parses every panel query (as recording rules) and the metric names are the controller\'s', () => {
    const queries = dashboardQueries(dash);
    expect(queries.length).toBeGreaterThan(20);
    const dir = mkdtempSync(join(tmpdir(), 'ss-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.rules.yaml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: queries.map((q) => ({ record: q.record, expr: q.expr })) }] }));
      const r = spawnSync(PROMTOOL_BIN, ['check', 'rules', file], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toContain(`SUCCESS: ${queries.length} rules found`);
      expect(r.status).toBe(0);
      // A query promtool refuses makes this fail: the check is not vacuous.
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: [{ record: 'x:broken', expr: 'sum by (le (rate(x[1m]))' }] }] }));
      expect(spawnSync(PROMTOOL_BIN, ['check', 'rules', file], { encoding: 'utf8' }).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const q of queries) {
      const names = metricNames(q.expr);
      expect(names.length, q.record).toBeGreaterThan(0);
      for (const n of names) expect(n, `${q.panel}: ${q.expr}`).toMatch(/^(sealed_secrets_controller_|process_|nodejs_)/);
    }
  });

  it('metricNames() finds metric names, not functions, keywords, labels or durations', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, path) (rate(a_bucket{job=~"$job", x="rate(b)"}[$__rate_interval])))')).toEqual(['a_bucket']);
    expect(metricNames('count(a == -1 and on (job, instance) (b{c="d"} == 1)) - time() < 30 * 86400')).toEqual(['a', 'b']);
    expect(metricNames('max by (state) (keys_by_state) or vector(0)')).toEqual(['keys_by_state']);
  });

  it('the grafana-dashboard component renders a ConfigMap with the sidecar label and the same JSON', () => {
    const yaml = execFileSync('kubectl', ['kustomize', join(ROOT, 'test/fixtures/kustomize/grafana-dashboard')], { encoding: 'utf8' });
    const cms = parseAllDocuments(yaml)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> }; data: Record<string, string> })
      .filter((o) => o.kind === 'ConfigMap');
    expect(cms).toHaveLength(1);
    const cm = cms[0]!;
    expect(cm.metadata.name).toBe('sealed-secrets-dashboard');
    expect(cm.metadata.labels['grafana_dashboard']).toBe('1');
    expect(JSON.parse(cm.data['sealed-secrets.json']!)).toEqual(dash);
  });
});
