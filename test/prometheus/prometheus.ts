/**
 * A real Prometheus server (Debian's `prometheus` package) for the tests and the docs screenshots:
 * listens on 127.0.0.1 only, keeps its TSDB in a temporary directory that is removed on stop,
 * scrapes only the loopback targets it is given, and sends nothing anywhere (no Alertmanager, no
 * remote write). Also: the alert rules with shortened `for:` and ranges for the e2e test, and the
 * metric names a PromQL expression references.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export const PROMETHEUS_BIN = process.env['PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = process.env['PROMTOOL_BIN'] ?? '/usr/bin/promtool';

export interface PrometheusServer {
  url: string;
  dir: string;
  proc: ChildProcess;
  logs: string[];
  /** An instant query; the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Active alerts (pending and firing). */
  alerts(): Promise<{ labels: Record<string, string>; state: 'pending' | 'firing'; activeAt: string }[]>;
  /** Every rule with its health and last error. */
  rules(): Promise<{ name: string; health: string; lastError?: string; state?: string; type: string }[]>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface PrometheusOptions {
  /** host:port of each scrape target, all on 127.0.0.1. */
  targets: string[];
  job?: string;
  ruleFiles?: string[];
  scrapeInterval?: string;
  evaluationInterval?: string;
}

export async function startPrometheus(o: PrometheusOptions): Promise<PrometheusServer> {
  for (const t of o.targets) if (!t.startsWith('127.0.0.1:')) throw new Error(`refusing a scrape target off loopback: ${t}`);
  const dir = mkdtempSync(join(tmpdir(), 'ss-prometheus-'));
  const config = {
    global: { scrape_interval: o.scrapeInterval ?? '1s', evaluation_interval: o.evaluationInterval ?? '1s', scrape_timeout: '1s' },
    rule_files: o.ruleFiles ?? [],
    scrape_configs: [{ job_name: o.job ?? 'sealed-secrets-controller-metrics', static_configs: [{ targets: o.targets }] }],
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const proc = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h', '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } },
  );
  const logs: string[] = [];
  const onData = (c: Buffer) => logs.push(...c.toString('utf8').split('\n').filter(Boolean));
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${url}${path}`);
    const body = (await r.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
    return body.data;
  };
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${proc.exitCode}:\n${logs.join('\n')}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready after 30 s:\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    proc,
    logs,
    query: async (expr) => (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: { labels: Record<string, string>; state: 'pending' | 'firing'; activeAt: string }[] }>('/api/v1/alerts')).alerts,
    rules: async () => (await api<{ groups: { rules: { name: string; health: string; lastError?: string; state?: string; type: string }[] }[] }>('/api/v1/rules')).groups.flatMap((g) => g.rules),
    stop,
  };
}

/**
 * The rules file with every `for:` set to `forDuration` and every range selector `[...]` in an
 * expression set to `range`: the same expressions, evaluable within seconds (the real durations
 * are covered by promtool's unit tests, test/prometheus/sealed-secrets.rules.test.yaml).
 */
export function shortenedRules(rulesFile: string, forDuration = '3s', range = '10s'): string {
  const doc = parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: { expr: string; for?: string }[] }[] };
  for (const g of doc.groups) {
    for (const r of g.rules) {
      if (r.for) r.for = forDuration;
      r.expr = r.expr.replace(/\[[0-9]+[smhdwy]\]/g, `[${range}]`);
    }
  }
  return stringify(doc);
}

const PROMQL_WORDS = new Set([
  // functions and aggregations
  'abs', 'absent', 'absent_over_time', 'avg', 'avg_over_time', 'bottomk', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'count', 'count_over_time',
  'count_values', 'day_of_month', 'day_of_week', 'deriv', 'delta', 'exp', 'floor', 'group', 'histogram_quantile', 'holt_winters', 'hour', 'idelta', 'increase',
  'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'max', 'max_over_time', 'min', 'min_over_time', 'minute', 'month',
  'predict_linear', 'quantile', 'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sort', 'sort_desc', 'sqrt', 'stddev', 'stddev_over_time',
  'stdvar', 'sum', 'sum_over_time', 'time', 'timestamp', 'topk', 'vector', 'year',
  // keywords
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
]);

/**
 * The metric names a PromQL expression references: identifiers outside label matchers, strings
 * and ranges that are not functions, keywords, or label names in by()/on()/without() lists.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '{}') // label matchers
    .replace(/\[[^\]]*\]/g, '[]') // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![a-zA-Z0-9_:.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const w = m[0];
    const rest = s.slice(m.index! + w.length);
    if (PROMQL_WORDS.has(w) && (/^\s*\(/.test(rest) || !/^\s*\{/.test(rest))) continue;
    if (/^[0-9]/.test(w)) continue;
    names.add(w);
  }
  return [...names];
}
