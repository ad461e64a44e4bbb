/**
 * `kubeseal lint` with the built binary on generated repository trees: a good and a bad
 * case for each rule, the three output formats, the exit codes, and the first rule (a
 * plaintext Secret found is reported by its key names, never its values).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubeseal } from '../cli-helpers.js';
import { CONFIG, controllerKey, secretYaml, tree, type ControllerKey } from './helpers.js';

let dev: ControllerKey;
let prod: ControllerKey;
let prodOld: ControllerKey;
let big: ControllerKey;
beforeAll(async () => {
  [dev, prod, prodOld, big] = await Promise.all([controllerKey(2048), controllerKey(2048), controllerKey(2048), controllerKey(4096)]);
});

/** Seals with the built kubeseal and a certificate, as a user without routing would. */
async function sealed(cert: string, name: string, opts: { namespace?: string; scope?: string; values?: Record<string, string> } = {}): Promise<string> {
  const dir = tree({ 'cert.pem': cert, 's.yaml': secretYaml(name, opts.values ?? { password: 'hunter2' }, opts.namespace ? `  namespace: ${opts.namespace}\n` : '') });
  const r = await kubeseal(['--cert', 'cert.pem', '-f', 's.yaml', '-o', 'yaml', ...(opts.scope ? ['--scope', opts.scope] : [])], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

function repo(files: Record<string, string>): string {
  return tree({
    '.sealed-secrets.yaml': CONFIG,
    'certs/dev.pem': dev.certPem,
    'certs/prod.pem': prod.certPem,
    // Each overlay lists db.sealed.yaml when the case has one.
    'overlays/dev/kustomization.yaml': `namespace: dev\nresources:${'overlays/dev/db.sealed.yaml' in files ? '\n- db.sealed.yaml' : ' []'}\n`,
    'overlays/prod/kustomization.yaml': `namespace: prod\nresources:${'overlays/prod/db.sealed.yaml' in files ? '\n- db.sealed.yaml' : ' []'}\n`,
    ...files,
  });
}

async function lint(dir: string, args: string[] = []) {
  const r = await kubeseal(['lint', ...args, '--format', 'json'], { cwd: dir });
  const out = r.stdout ? JSON.parse(r.stdout) : undefined;
  return { ...r, findings: (out?.findings ?? []) as { rule: string; file: string; line?: number; message: string; help: string; severity: string; object?: { kind: string; namespace?: string; name?: string } }[] };
}
const rules = (fs: { rule: string }[]) => fs.map((f) => f.rule).sort();

describe('kubeseal lint', () => {
  it('is clean (exit 0) on a repository sealed by path', async () => {
    const dir = repo({ 'secret.yaml.example': 'not yaml at all: [' });
    writeFileSync(join(dir, 'overlays/prod/kustomization.yaml'), 'namespace: prod\nnamePrefix: shop-\nresources:\n- db.sealed.yaml\n');
    writeFileSync(join(dir, 's.yaml'), secretYaml('db', { password: 'hunter2' }));
    expect((await kubeseal(['-f', 's.yaml', '-w', 'overlays/dev/db.sealed.yaml', '-w', 'overlays/prod/db.sealed.yaml'], { cwd: dir })).code).toBe(0);
    const { unlinkSync } = await import('node:fs');
    unlinkSync(join(dir, 's.yaml'));
    const r = await kubeseal(['lint'], { cwd: dir });
    expect(r.stdout).toMatch(/^no problems found in \d+ file\(s\)\n$/);
    expect(r.code).toBe(0);
  });

  it('plaintext-secret: reports a committed Secret and a secretGenerator by key names, never their values', async () => {
    const dir = repo({
      'overlays/dev/db.sealed.yaml': await sealed(dev.certPem, 'db', { namespace: 'dev' }),
      'apps/leak.yaml': '# a comment\n' + secretYaml('api', { token: 'S3CR3T-token-value', other: 'another-s3cret' }) + 'data:\n  b64key: aHVudGVyMg==\n',
      'apps/kustomization.yaml': 'resources:\n- leak.yaml\nsecretGenerator:\n- name: gen\n  literals:\n  - dbpass=literal-s3cret-value\n',
      'apps/ok.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: empty}\ntype: kubernetes.io/service-account-token\n',
    });
    for (const format of ['text', 'json', 'sarif']) {
      const r = await kubeseal(['lint', '--format', format], { cwd: dir });
      expect(r.code).toBe(1);
      for (const v of ['S3CR3T-token-value', 'another-s3cret', 'aHVudGVyMg==', 'hunter2', 'literal-s3cret-value']) {
        expect(r.stdout + r.stderr).not.toContain(v);
      }
    }
    const { findings } = await lint(dir);
    expect(rules(findings)).toEqual(['plaintext-secret', 'plaintext-secret']);
    const leak = findings.find((f) => f.file === 'apps/leak.yaml')!;
    expect(leak).toMatchObject({ line: 9, severity: 'error', object: { kind: 'Secret', name: 'api' } });
    expect(leak.message).toContain('data: b64key; stringData: token, other');
    expect(leak.help).toContain('kubeseal');
    expect(findings.find((f) => f.file === 'apps/kustomization.yaml')!.message).toContain('secretGenerator gen puts plaintext values in Git (literals: dbpass)');
  });

  it('scope-mismatch: an overlay that changes the namespace or name a scope binds', async () => {
    const dir = repo({
      'overlays/prod/kustomization.yaml': 'namespace: prod\nnamePrefix: shop-\nresources:\n- strict.yaml\n- nswide.yaml\n- cwide.yaml\n- moved.yaml\n',
      'overlays/prod/strict.yaml': await sealed(prod.certPem, 'db', { namespace: 'prod' }),
      'overlays/prod/nswide.yaml': await sealed(prod.certPem, 'cache', { namespace: 'prod', scope: 'namespace-wide' }),
      'overlays/prod/cwide.yaml': await sealed(prod.certPem, 'any', { namespace: 'prod', scope: 'cluster-wide' }),
      'overlays/prod/moved.yaml': await sealed(prod.certPem, 'queue', { namespace: 'staging', scope: 'namespace-wide' }),
      'overlays/dev/db.sealed.yaml': await sealed(dev.certPem, 'db', { namespace: 'dev' }),
    });
    const { findings, code } = await lint(dir);
    expect(code).toBe(1);
    expect(findings.map((f) => `${f.rule} ${f.file}`).sort()).toEqual(['scope-mismatch overlays/prod/moved.yaml', 'scope-mismatch overlays/prod/strict.yaml']);
    const strict = findings.find((f) => f.file.endsWith('strict.yaml'))!;
    expect(strict.message).toContain('is sealed strict for prod/db, but overlays/prod/kustomization.yaml deploys it as prod/shop-db');
    expect(strict.message).toContain('namePrefix: shop-');
    expect(strict.line).toBeGreaterThan(1);
    expect(findings.find((f) => f.file.endsWith('moved.yaml'))!.message).toContain('namespace staging, but overlays/prod/kustomization.yaml deploys it as namespace prod');
  });

  it('scope-mismatch: follows nested overlays and components (prefixes compose outer first)', async () => {
    const dir = repo({
      '.sealed-secrets.yaml': CONFIG,
      'base/kustomization.yaml': 'namePrefix: app-\nresources:\n- db.yaml\n',
      'base/db.yaml': await sealed(prod.certPem, 'app-db', { namespace: 'prod' }),
      'overlays/prod/kustomization.yaml': 'namespace: prod\nresources:\n- ../../base\ncomponents:\n- ../../components/suffix\n',
      'components/suffix/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnameSuffix: -blue\n',
      'overlays/dev/kustomization.yaml': 'namespace: dev\nresources: []\n',
    });
    const { findings } = await lint(dir);
    expect(findings.map((f) => f.rule)).toEqual(['scope-mismatch']);
    expect(findings[0]!.message).toContain('deploys it as prod/app-app-db-blue');
    // Sealed for where it lands, it is clean.
    writeFileSync(join(dir, 'base/db.yaml'), (await sealed(prod.certPem, 'app-app-db-blue', { namespace: 'prod' })).replace(/name: app-app-db-blue/g, 'name: db'));
    const again = await lint(dir);
    expect(again.findings.map((f) => f.rule)).toEqual(['scope-mismatch']); // no sealed-for record: lint trusts the file's name
    const routed = tree({ 's.yaml': secretYaml('db', { a: 'b' }) }, dir);
    const r = await kubeseal(['-f', 's.yaml', '-w', 'base/db.yaml'], { cwd: routed });
    expect(r.code, r.stderr).toBe(0);
    const { unlinkSync } = await import('node:fs');
    unlinkSync(join(dir, 's.yaml'));
    expect((await lint(dir)).findings).toEqual([]);
  });

  it('wrong-key-size: a value whose RSA block does not fit the cluster key', async () => {
    const dir = repo({
      'overlays/prod/db.sealed.yaml': await sealed(big.certPem, 'db', { namespace: 'prod' }),
      'overlays/dev/db.sealed.yaml': await sealed(dev.certPem, 'db', { namespace: 'dev' }),
    });
    const { findings } = await lint(dir);
    expect(rules(findings)).toEqual(['wrong-key-size']);
    expect(findings[0]!.message).toContain("deploys to cluster prod, whose certificate is a 2048-bit key, but \"password\" with a 4096-bit key was sealed: prod's key cannot have sealed it");
    expect(findings[0]!.file).toBe('overlays/prod/db.sealed.yaml');
  });

  it("wrong-cluster-key and stale-key: the fingerprint annotation against the clusters' certificates", async () => {
    const dir = repo({
      'overlays/prod/db.sealed.yaml': await sealed(dev.certPem, 'db', { namespace: 'prod' }),
      'overlays/dev/db.sealed.yaml': await sealed(dev.certPem, 'db', { namespace: 'dev' }),
    });
    const first = await lint(dir);
    expect(rules(first.findings)).toEqual(['wrong-cluster-key']);
    expect(first.findings[0]!.message).toContain('deploys to cluster prod but was sealed with the key of cluster dev');
    writeFileSync(join(dir, 'overlays/prod/db.sealed.yaml'), await sealed(prodOld.certPem, 'db', { namespace: 'prod' }));
    const stale = await lint(dir);
    expect(rules(stale.findings)).toEqual(['stale-key']);
    expect(stale.findings[0]).toMatchObject({ severity: 'warning' });
    expect(stale.findings[0]!.message).toContain("not the current certificate of cluster prod");
    expect(stale.findings[0]!.help).toContain('kubeseal --re-encrypt');
    writeFileSync(join(dir, 'overlays/prod/db.sealed.yaml'), await sealed(prod.certPem, 'db', { namespace: 'prod' }));
    expect((await lint(dir)).findings).toEqual([]);
  });

  it('cert-expired and cert-expiring: the certificates of the config, with --expiry-days', async () => {
    const expired = await controllerKey(2048, { notBefore: new Date(Date.now() - 20 * 86_400_000), days: 10 });
    const soon = await controllerKey(2048, { days: 10 });
    const dir = repo({ 'certs/dev.pem': expired.certPem, 'certs/prod.pem': soon.certPem });
    const { findings } = await lint(dir);
    expect(findings.map((f) => `${f.rule} ${f.file}:${f.line}`).sort()).toEqual(['cert-expired .sealed-secrets.yaml:2', 'cert-expiring .sealed-secrets.yaml:3']);
    expect(findings.find((f) => f.rule === 'cert-expiring')!.message).toMatch(/cluster prod: the certificate certs\/prod.pem expires on \d{4}-\d\d-\d\d, in (9|10) day\(s\)/);
    expect(rules((await lint(dir, ['--expiry-days', '5'])).findings)).toEqual(['cert-expired']);
    writeFileSync(join(dir, 'certs/dev.pem'), 'not a certificate');
    expect(rules((await lint(dir, ['--expiry-days', '5'])).findings)).toEqual(['cert-unreadable']);
  });

  it('template-error and template-missing-item: found without any plaintext', async () => {
    const base = await sealed(prod.certPem, 'db', { namespace: 'prod', values: { user: 'u', pass: 'p' } });
    const withTemplate = (data: string) => base.replace(/  template:\n    metadata:\n/, `  template:\n    data:\n${data}    metadata:\n`);
    const dir = repo({ 'overlays/prod/db.sealed.yaml': withTemplate('      url: "postgres://{{ .user }}:{{ index . \\"pass\\" | nosuchfunc }}@db"\n') });
    expect(readFileSyncText(join(dir, 'overlays/prod/db.sealed.yaml'))).toContain('data:');
    const bad = await lint(dir);
    expect(rules(bad.findings)).toEqual(['template-error']);
    expect(bad.findings[0]!.message).toContain('template.data["url"]');
    writeFileSync(join(dir, 'overlays/prod/db.sealed.yaml'), withTemplate('      url: "postgres://{{ .user }}:{{ index . \\"password\\" }}@{{ .host | upper }}"\n'));
    const missing = await lint(dir);
    expect(rules(missing.findings)).toEqual(['template-missing-item']);
    expect(missing.findings[0]!.message).toContain('refers to "password", "host", which encryptedData does not have');
    writeFileSync(join(dir, 'overlays/prod/db.sealed.yaml'), withTemplate('      url: "postgres://{{ .user }}:{{ index . \\"pass\\" | upper }}@db"\n'));
    expect((await lint(dir)).findings).toEqual([]);
  });

  it('duplicate: two SealedSecrets that deploy to one cluster, namespace and name', async () => {
    const cfg = CONFIG + '  - match: overlays/prod-eu/**\n    clusters: [prod]\n';
    const dir = repo({
      '.sealed-secrets.yaml': cfg,
      'overlays/prod/db.sealed.yaml': await sealed(prod.certPem, 'db', { namespace: 'prod' }),
      'overlays/prod-eu/kustomization.yaml': 'namespace: prod\nresources:\n- db.sealed.yaml\n',
      'overlays/prod-eu/db.sealed.yaml': await sealed(prod.certPem, 'db', { namespace: 'prod' }),
    });
    const { findings } = await lint(dir);
    expect(rules(findings)).toEqual(['duplicate']);
    expect(findings[0]!.message).toMatch(/deploys to cluster prod as prod\/db, as does overlays\/prod(-eu)?\/db.sealed.yaml:\d+/);
    // Another namespace is another object.
    writeFileSync(join(dir, 'overlays/prod-eu/kustomization.yaml'), 'namespace: prod-eu\nresources:\n- db.sealed.yaml\n');
    writeFileSync(join(dir, 'overlays/prod-eu/db.sealed.yaml'), await sealed(prod.certPem, 'db', { namespace: 'prod-eu' }));
    expect((await lint(dir)).findings).toEqual([]);
  });

  it('invalid-ciphertext, kustomize-resource, invalid-yaml and no-cluster', async () => {
    const good = await sealed(prod.certPem, 'db', { namespace: 'prod' });
    const dir = repo({
      'overlays/prod/db.sealed.yaml': good.replace(/password: (\S+)/, 'password: bm90IHNlYWxlZA=='),
      'overlays/dev/kustomization.yaml': 'namespace: dev\nresources:\n- db.sealed.yaml\n- gone.yaml\n',
      'overlays/dev/db.sealed.yaml': 'kind: SealedSecret\nmetadata: {name: x\n',
      'other/db.yaml': await sealed(prod.certPem, 'db', { namespace: 'other' }),
    });
    const { findings } = await lint(dir);
    expect(findings.map((f) => `${f.rule} ${f.file}:${f.line}`).sort()).toEqual([
      'invalid-ciphertext overlays/prod/db.sealed.yaml:11',
      'invalid-yaml overlays/dev/db.sealed.yaml:3',
      'kustomize-resource overlays/dev/kustomization.yaml:4',
      'no-cluster other/db.yaml:7',
    ]);
  });

  it('writes SARIF 2.1.0 that code scanning reads: rules with ids and help, results with locations and regions', async () => {
    const dir = repo({ 'overlays/prod/db.sealed.yaml': await sealed(big.certPem, 'db', { namespace: 'prod' }), 'leak.yaml': secretYaml('x', { k: 'v' }) });
    const r = await kubeseal(['lint', '--format', 'sarif'], { cwd: dir });
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toContain('sarif-2.1.0');
    const run = sarif.runs[0];
    const ids = run.tool.driver.rules.map((x: { id: string }) => x.id);
    expect(ids).toContain('plaintext-secret');
    for (const rule of run.tool.driver.rules) {
      expect(rule.help.text.length).toBeGreaterThan(10);
      expect(['error', 'warning']).toContain(rule.defaultConfiguration.level);
    }
    expect(run.results).toHaveLength(2);
    for (const res of run.results) {
      expect(ids[res.ruleIndex]).toBe(res.ruleId);
      const loc = res.locations[0].physicalLocation;
      expect(loc.artifactLocation.uri).toMatch(/^(leak\.yaml|overlays\/prod\/db\.sealed\.yaml)$/);
      expect(loc.region.startLine).toBeGreaterThanOrEqual(1);
      expect(res.message.text.length).toBeGreaterThan(10);
    }
  });

  it('text output names file:line, severity, rule, object and the fix; exit codes 0, 1 and 2', async () => {
    const dir = repo({ 'leak.yaml': secretYaml('x', { k: 'v' }) });
    const r = await kubeseal(['lint', 'leak.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('leak.yaml:5:1: error [plaintext-secret] Secret x holds plaintext values in Git (stringData: k)\n    fix: Seal it');
    expect((await kubeseal(['lint', 'overlays'], { cwd: dir })).code).toBe(0);
    const usage = await kubeseal(['lint', '--frobnicate'], { cwd: dir });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('unknown flag: --frobnicate');
    expect((await kubeseal(['lint', 'no/such/path'], { cwd: dir })).code).toBe(2);
    expect((await kubeseal(['lint', '--format', 'xml'], { cwd: dir })).code).toBe(2);
    const help = await kubeseal(['lint', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 no findings, 1 findings, 2 usage error.');
    // No config at all: lint still checks what needs none.
    const bare = tree({ 'a/leak.yaml': secretYaml('x', { k: 'v' }) });
    expect((await lint(bare)).findings.map((f) => f.rule)).toEqual(['plaintext-secret']);
  });

  it('JSON output: version, files checked, and per finding rule, severity, file, line, column, object, message and help', async () => {
    const dir = repo({ 'overlays/prod/db.sealed.yaml': await sealed(big.certPem, 'db', { namespace: 'prod' }) });
    const r = await kubeseal(['lint', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ version: 1, filesChecked: expect.any(Number) });
    expect(out.findings).toEqual([
      {
        rule: 'wrong-key-size',
        severity: 'error',
        file: 'overlays/prod/db.sealed.yaml',
        line: expect.any(Number),
        column: expect.any(Number),
        object: { kind: 'SealedSecret', namespace: 'prod', name: 'db' },
        objectName: 'SealedSecret prod/db',
        message: expect.stringContaining('4096-bit key'),
        help: expect.stringContaining('Reseal it'),
      },
    ]);
  });

  it('a certificate given as a URL is not fetched (lint stays offline); its key checks are skipped with a note', async () => {
    const dir = repo({
      '.sealed-secrets.yaml': CONFIG.replace('{cert: certs/prod.pem}', '{cert: "https://127.0.0.1:1/v1/cert.pem"}'),
      'overlays/prod/db.sealed.yaml': await sealed(big.certPem, 'db', { namespace: 'prod' }),
    });
    const r = await kubeseal(['lint'], { cwd: dir });
    expect(r.stderr).toContain('note: cluster prod: the certificate is a URL; lint is offline, so the key checks for prod are skipped');
    expect(r.code).toBe(0);
  });
});

function readFileSyncText(p: string): string {
  return readFileSync(p, "utf8");
}
