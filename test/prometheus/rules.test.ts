/**
 * The alert rules with the real promtool (Debian's prometheus package, installed by the global
 * setup when missing): `promtool check rules`, `promtool test rules` (every alert firing and not
 * firing: sealed-secrets.rules.test.yaml), mutations that the unit tests must catch, the
 * PrometheusRule component identical to the plain rules file, and a runbook section per alert.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT } from '../e2e/harness.js';
import { PROMTOOL_BIN } from './prometheus.js';

const RULES = join(ROOT, 'deploy/prometheus/sealed-secrets.rules.yaml');
const UNIT_TESTS = join(ROOT, 'test/prometheus/sealed-secrets.rules.test.yaml');
const PROMETHEUS_RULE = join(ROOT, 'deploy/components/prometheus-rule/prometheusrule.yaml');
const RUNBOOK = join(ROOT, 'docs/runbook.md');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const alerts = groups.flatMap((g) => g.rules);

const promtool = (...args: string[]) => spawnSync(PROMTOOL_BIN, args, { encoding: 'utf8', timeout: 60_000 });

const work = mkdtempSync(join(tmpdir(), 'ss-promtool-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let mutants = 0;
/** Runs the unit tests against a copy of the rules in which `alert`'s expression is `expr`. */
function unitTestsWithMutation(alert: string, expr: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const dir = join(work, String(mutants++));
  mkdirSync(join(dir, 'deploy/prometheus'), { recursive: true });
  mkdirSync(join(dir, 'test/prometheus'), { recursive: true });
  const doc = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] };
  let found = 0;
  for (const g of doc.groups) for (const r of g.rules) if (r.alert === alert) (r.expr = expr), found++;
  if (found !== 1) throw new Error(`no alert ${alert}`);
  writeFileSync(join(dir, 'deploy/prometheus/sealed-secrets.rules.yaml'), stringify(doc));
  copyFileSync(UNIT_TESTS, join(dir, 'test/prometheus/sealed-secrets.rules.test.yaml'));
  return new Promise((resolve) =>
    execFile(PROMTOOL_BIN, ['test', 'rules', join(dir, 'test/prometheus/sealed-secrets.rules.test.yaml')], { timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ status: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('alert rules (promtool from Debian)', () => {
  it('the alerts the issue asks for exist', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'SealedSecretsCertificateExpiringSoon',
        'SealedSecretsControllerDown',
        'SealedSecretsKeyRotationOverdue',
        'SealedSecretsKeyStoreErrors',
        'SealedSecretsNoLeader',
        'SealedSecretsNoReadyReplica',
        'SealedSecretsNoSealingKey',
        'SealedSecretsNotSynced',
        'SealedSecretsUnsealErrorsSustained',
        'SealedSecretsWorkQueueBacklog',
      ].sort(),
    );
  });

  it('promtool check rules accepts the rules file', () => {
    const r = promtool('check', 'rules', RULES);
    expect(r.stderr + r.stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('promtool test rules: every alert fires and stays quiet where it should', () => {
    const r = promtool('test', 'rules', UNIT_TESTS);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
    // Each alert has at least one test where it fires and one where it does not.
    const tests = (parse(readFileSync(UNIT_TESTS, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests.flatMap((t) => t.alert_rule_test);
    for (const a of alerts) {
      expect(tests.some((t) => t.alertname === a.alert && t.exp_alerts.length > 0), `${a.alert} firing`).toBe(true);
      expect(tests.some((t) => t.alertname === a.alert && t.exp_alerts.length === 0), `${a.alert} not firing`).toBe(true);
    }
  });

  it('the unit tests catch each alert mutated to always fire and to never fire', async () => {
    const runs = await Promise.all(
      alerts.flatMap((a) => [
        unitTestsWithMutation(a.alert, 'vector(1)').then((r) => ({ ...r, name: a.alert, mutant: 'always firing' })),
        unitTestsWithMutation(a.alert, 'vector(1) < 0').then((r) => ({ ...r, name: a.alert, mutant: 'never firing' })),
      ]),
    );
    for (const r of runs) {
      expect(r.status, `${r.name} ${r.mutant}: the unit tests passed a broken rule`).not.toBe(0);
      expect(r.stdout + r.stderr, `${r.name} ${r.mutant}`).toContain(`alertname: ${r.name}`);
    }
  });

  it('the stale-leader filter matters: without it a former leader keeps SealedSecretsNotSynced and the backlog alert firing', async () => {
    const filter = 'and on (job, instance) (sealed_secrets_controller_is_leader == 1)';
    for (const name of ['SealedSecretsNotSynced', 'SealedSecretsWorkQueueBacklog']) {
      const a = alerts.find((x) => x.alert === name)!;
      expect(a.expr).toContain(filter);
      const r = await unitTestsWithMutation(name, a.expr.replace(filter, ''));
      expect(r.status, `${name} without the leader filter passed`).not.toBe(0);
    }
  });

  it('every alert has a severity, a summary, a description that says what to check first, and a runbook section', () => {
    const runbook = readFileSync(RUNBOOK, 'utf8');
    const anchors = new Set([...runbook.matchAll(/^## (\S+)/gm)].map((m) => m[1]!.toLowerCase()));
    for (const a of alerts) {
      expect(['warning', 'critical'], a.alert).toContain(a.labels?.['severity']);
      expect(a.annotations?.['summary'], a.alert).toBeTruthy();
      expect(a.annotations?.['description'], a.alert).toMatch(/Check first: /);
      expect(a.annotations?.['runbook'], a.alert).toBe(`docs/runbook.md#${a.alert.toLowerCase()}`);
      expect(anchors.has(a.alert.toLowerCase()), `docs/runbook.md has "## ${a.alert}"`).toBe(true);
    }
  });

  it('the PrometheusRule component carries exactly the rules file', () => {
    const pr = parse(readFileSync(PROMETHEUS_RULE, 'utf8')) as { apiVersion: string; kind: string; spec: unknown };
    expect(pr.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pr.kind).toBe('PrometheusRule');
    expect(pr.spec).toEqual({ groups });
  });
});
