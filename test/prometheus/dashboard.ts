/** The Grafana dashboard's panel queries, with Grafana's variables replaced for plain Prometheus. */
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-cluster-harness.js';

export const DASHBOARD = join(ROOT, 'deploy/components/grafana-dashboard/sealed-secrets-dashboard.json');

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query?: unknown }[] };
  panels: {
    id: number;
    type: string;
    title: string;
    gridPos?: unknown;
    datasource?: unknown;
    targets?: { refId: string; expr: string; legendFormat?: string; datasource?: unknown; instant?: boolean }[];
  }[];
}

export interface PanelQuery {
  panel: string;
  panelId: number;
  refId: string;
  legend: string;
  instant: boolean;
  /** A recording-rule name for the query (promtool check rules). */
  record: string;
  /** The query with $job = all jobs and $__rate_interval = 1m (Grafana's default for a 15 s scrape). */
  expr: string;
}

export function substituteVariables(expr: string, rateInterval = '1m'): string {
  return expr.replaceAll('$__rate_interval', rateInterval).replaceAll('$job', '.+');
}

export function dashboardQueries(d: Dashboard, rateInterval = '1m'): PanelQuery[] {
  return d.panels
    .filter((p) => p.type !== 'row')
    .flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        panel: p.title,
        panelId: p.id,
        refId: t.refId,
        legend: t.legendFormat ?? '',
        instant: t.instant === true,
        record: `dashboard:panel_${p.id}:${t.refId.toLowerCase()}`,
        expr: substituteVariables(t.expr, rateInterval),
      })),
    );
}
