/**
 * Sealing by path with the built kubeseal: .sealed-secrets.yaml picks the certificate, the
 * overlay of the output picks namespace and name, several -w are written all or none. Each
 * result is checked the way it will be used: built by the real `kubectl kustomize`, then
 * opened with the cluster's private key.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubeseal } from '../cli-helpers.js';
import { CONFIG, controllerKey, kustomizeBuild, readYamlFile, secretYaml, tree, unsealWith, type ControllerKey } from './helpers.js';

let dev: ControllerKey;
let prod: ControllerKey;
beforeAll(async () => {
  [dev, prod] = await Promise.all([controllerKey(2048), controllerKey(2048)]);
});

function repo(extra: Record<string, string> = {}): string {
  return tree({
    '.sealed-secrets.yaml': CONFIG,
    'certs/dev.pem': dev.certPem,
    'certs/prod.pem': prod.certPem,
    'base/kustomization.yaml': 'resources:\n- app.yaml\n',
    'base/app.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {a: b}\n',
    'overlays/dev/kustomization.yaml': 'namespace: dev\nresources:\n- ../../base\n- db.sealed.yaml\n',
    'overlays/prod/kustomization.yaml': 'namespace: prod\nnamePrefix: shop-\nnameSuffix: -v2\nresources:\n- ../../base\n- db.sealed.yaml\n',
    'secret.yaml': secretYaml('db', { password: 'hunter2' }),
    ...extra,
  });
}

const sealedIn = (built: Record<string, any>[]) => built.find((o) => o.kind === 'SealedSecret')!;

describe('kubeseal -w PATH with .sealed-secrets.yaml and no --cert', () => {
  it('seals for the cluster of the path, in the overlay namespace, bound to the name kustomize gives it', async () => {
    const dir = repo();
    const r = await kubeseal(['-f', 'secret.yaml', '-w', 'overlays/prod/db.sealed.yaml'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = readYamlFile(join(dir, 'overlays/prod/db.sealed.yaml'));
    // The file keeps the name kustomize transforms; the namespace is the overlay's.
    expect(file.metadata).toMatchObject({ name: 'db', namespace: 'prod', annotations: { 'sealed-secrets-ts.io/sealed-for': 'prod/shop-db-v2' } });
    const deployed = sealedIn(kustomizeBuild(join(dir, 'overlays/prod')));
    expect(deployed.metadata).toMatchObject({ name: 'shop-db-v2', namespace: 'prod' });
    expect((await unsealWith(deployed, prod.keyPem, dir)).data).toEqual({ password: 'hunter2' });
    // Not with the other cluster's key.
    const other = await unsealWith(deployed, dev.keyPem, dir);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('no key could decrypt secret');
  });

  it('works from a subfolder (the config is found by walking up) and follows the working directory for -w', async () => {
    const dir = repo();
    const r = await kubeseal(['-f', '../../secret.yaml', '-w', 'db.sealed.yaml'], { cwd: join(dir, 'overlays/dev') });
    expect(r.code).toBe(0);
    const deployed = sealedIn(kustomizeBuild(join(dir, 'overlays/dev')));
    expect(deployed.metadata).toMatchObject({ name: 'db', namespace: 'dev' });
    expect(deployed.metadata.annotations?.['sealed-secrets-ts.io/sealed-for']).toBeUndefined();
    expect((await unsealWith(deployed, dev.keyPem, dir)).data).toEqual({ password: 'hunter2' });
  });

  it('seals one Secret into several overlays, each with its own certificate and namespace', async () => {
    const dir = repo();
    const r = await kubeseal(['-f', 'secret.yaml', '-w', 'overlays/dev/db.sealed.yaml', '-w', 'overlays/prod/db.sealed.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('sealed overlays/dev/db.sealed.yaml for cluster dev');
    expect(r.stderr).toContain('sealed overlays/prod/db.sealed.yaml for cluster prod');
    expect(r.stderr).not.toContain('hunter2');
    const d = sealedIn(kustomizeBuild(join(dir, 'overlays/dev')));
    const p = sealedIn(kustomizeBuild(join(dir, 'overlays/prod')));
    expect((await unsealWith(d, dev.keyPem, dir)).data).toEqual({ password: 'hunter2' });
    expect((await unsealWith(p, prod.keyPem, dir)).data).toEqual({ password: 'hunter2' });
    expect((await unsealWith(d, prod.keyPem, dir)).code).toBe(1);
  });

  it('refuses an input Secret that names another namespace, saying why it would never unseal, and writes nothing', async () => {
    const dir = repo({ 'secret.yaml': secretYaml('db', { password: 'hunter2' }, '  namespace: staging\n') });
    const r = await kubeseal(['-f', 'secret.yaml', '-w', 'overlays/prod/db.sealed.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('names namespace "staging"');
    expect(r.stderr).toContain('overlays/prod/kustomization.yaml deploys overlays/prod/db.sealed.yaml into namespace "prod"');
    expect(r.stderr).toContain('it would never unseal there');
    expect(existsSync(join(dir, 'overlays/prod/db.sealed.yaml'))).toBe(false);
    // -n that contradicts the overlay is refused the same way; cluster-wide needs no namespace.
    const n = await kubeseal(['-f', 'secret.yaml', '-n', 'staging', '-w', 'overlays/dev/db.sealed.yaml'], { cwd: dir });
    expect(n.code).toBe(1);
    const cw = await kubeseal(['-f', 'secret.yaml', '--scope', 'cluster-wide', '-w', 'overlays/prod/db.sealed.yaml'], { cwd: dir });
    expect(cw.code).toBe(0);
    const deployed = sealedIn(kustomizeBuild(join(dir, 'overlays/prod')));
    expect((await unsealWith(deployed, prod.keyPem, dir)).data).toEqual({ password: 'hunter2' });
  });

  it('writes all the -w files or none: a failure on one leaves the others as they were', async () => {
    const dir = repo({
      '.sealed-secrets.yaml': CONFIG + '  - match: staging/**\n    clusters: [dev]\n',
      'overlays/prod/db.sealed.yaml': 'old content\n',
    });
    const r = await kubeseal(['-f', 'secret.yaml', '-w', 'overlays/dev/db.sealed.yaml', '-w', 'overlays/prod/db.sealed.yaml', '-w', 'staging/missing/db.sealed.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot write staging/missing/db.sealed.yaml: no such directory; no output file was changed');
    expect(existsSync(join(dir, 'overlays/dev/db.sealed.yaml'))).toBe(false);
    expect(readFileSync(join(dir, 'overlays/prod/db.sealed.yaml'), 'utf8')).toBe('old content\n');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(join(dir, 'overlays/prod')).filter((f) => f.startsWith('.'))).toEqual([]);
    // A route error (a path no rule matches) also stops everything before any write.
    const u = await kubeseal(['-f', 'secret.yaml', '-w', 'overlays/dev/db.sealed.yaml', '-w', 'elsewhere/db.yaml'], { cwd: dir });
    expect(u.code).toBe(1);
    expect(u.stderr).toContain('no paths: entry of .sealed-secrets.yaml matches elsewhere/db.yaml');
    expect(existsSync(join(dir, 'overlays/dev/db.sealed.yaml'))).toBe(false);
  });

  it('says when the clusters of one path have different keys, pointing to sealed-secrets-keys backup/restore', async () => {
    const cfg = CONFIG.replace('paths:', 'paths:\n  - match: shared/**\n    clusters: [dev, prod]');
    const dir = repo({ '.sealed-secrets.yaml': cfg, 'shared/kustomization.yaml': 'namespace: shared\nresources: []\n' });
    const r = await kubeseal(['-f', 'secret.yaml', '-w', 'shared/db.sealed.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/shared\/db.sealed.yaml deploys to clusters dev \(SHA256:.*\), prod \(.*\), whose certificates differ/);
    expect(r.stderr).toContain('sealed-secrets-keys backup');
    expect(r.stderr).toContain('sealed-secrets-keys restore');
    expect(existsSync(join(dir, 'shared/db.sealed.yaml'))).toBe(false);
    // One key for both (restored from one backup): sealed once, opens on both.
    writeFileSync(join(dir, 'certs/prod.pem'), dev.certPem);
    const ok = await kubeseal(['-f', 'secret.yaml', '-w', 'shared/db.sealed.yaml'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(readYamlFile(join(dir, 'shared/db.sealed.yaml')).metadata.namespace).toBe('shared');
  });

  it('refuses a base that overlays deploy under different names, for a strict scope', async () => {
    const dir = repo({
      '.sealed-secrets.yaml': CONFIG.replace('paths:', 'paths:\n  - match: base/**\n    clusters: [dev]'),
      'overlays/qa/kustomization.yaml': 'namespace: dev\nnamePrefix: qa-\nresources:\n- ../../base\n',
    });
    writeFileSync(join(dir, 'overlays/dev/kustomization.yaml'), 'namespace: dev\nresources:\n- ../../base\n');
    writeFileSync(join(dir, 'overlays/prod/kustomization.yaml'), 'namespace: prod\nresources: []\n');
    const r = await kubeseal(['-f', 'secret.yaml', '-w', 'base/db.sealed.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is deployed as dev/db and dev/qa-db');
    // namespace-wide binds only the namespace, which both give.
    const nw = await kubeseal(['-f', 'secret.yaml', '--scope', 'namespace-wide', '-w', 'base/db.sealed.yaml'], { cwd: dir });
    expect(nw.code).toBe(0);
    expect(readYamlFile(join(dir, 'base/db.sealed.yaml')).metadata.namespace).toBe('dev');
  });

  it('reports a malformed config naming the file, the line and the field', async () => {
    const cases: [string, string][] = [
      [CONFIG.replace('clusters: [prod]', 'clusters: [qa]'), '.sealed-secrets.yaml:8: paths[1].clusters names "qa", which clusters: does not define'],
      [CONFIG.replace('{cert: certs/dev.pem}', '{certificate: certs/dev.pem}'), '.sealed-secrets.yaml:2: clusters.dev: unknown field "certificate"'],
      [CONFIG.replace('match: overlays/dev/**', 'match: "overlays/{dev"'), 'paths[0].match "overlays/{dev": unclosed {'],
      [CONFIG.replace('{cert: certs/prod.pem}', '{cert: "http://example.com/c.pem"}'), 'clusters.prod.cert is a plain http URL'],
      ['clusters: [dev]\n', '.sealed-secrets.yaml:1: clusters: must be a mapping'],
    ];
    for (const [cfg, msg] of cases) {
      const dir = repo({ '.sealed-secrets.yaml': cfg });
      const r = await kubeseal(['-f', 'secret.yaml', '-w', 'overlays/dev/db.sealed.yaml'], { cwd: dir });
      expect(r.code, cfg).toBe(1);
      expect(r.stderr).toContain(msg);
      const l = await kubeseal(['lint'], { cwd: dir });
      expect(l.code).toBe(2);
      expect(l.stderr).toContain(msg);
    }
  });

  it('leaves --cert sealing as it was, and refuses several -w without a config', async () => {
    const dir = repo();
    const r = await kubeseal(['--cert', 'certs/dev.pem', '-f', 'secret.yaml', '-w', 'overlays/prod/db.sealed.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readYamlFile(join(dir, 'overlays/prod/db.sealed.yaml')).metadata.namespace).toBe('default');
    const solo = tree({ 'cert.pem': dev.certPem, 'secret.yaml': secretYaml('db', { a: 'b' }) });
    const m = await kubeseal(['--cert', 'cert.pem', '-f', 'secret.yaml', '-w', 'a.yaml', '-w', 'b.yaml'], { cwd: solo });
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('-w may be given several times only when sealing by path');
  });

  it('--re-encrypt -f DIR sends each file to its own cluster and reports the ones it cannot reach or route', async () => {
    const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: t}
contexts:
- name: prod-admin
  context: {cluster: prod, user: u}
current-context: prod-admin
`;
    const dir = repo({ kubeconfig, '.sealed-secrets.yaml': CONFIG.replace('{cert: certs/prod.pem}', '{cert: certs/prod.pem, context: prod-admin, kubeconfig: kubeconfig}') });
    expect((await kubeseal(['-f', 'secret.yaml', '-w', 'overlays/dev/db.sealed.yaml', '-w', 'overlays/prod/db.sealed.yaml'], { cwd: dir })).code).toBe(0);
    const before = readFileSync(join(dir, 'overlays/prod/db.sealed.yaml'), 'utf8');
    const r = await kubeseal(['--re-encrypt', '-f', 'overlays'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('re-encrypted 0 SealedSecret(s) in 0 file(s) under overlays; 2 failed');
    expect(r.stderr).toContain('error: overlays/prod/db.sealed.yaml: cluster prod: cannot reach the API server https://127.0.0.1:1: ECONNREFUSED');
    expect(r.stderr).toContain('error: overlays/dev/db.sealed.yaml: cluster dev has no context: in .sealed-secrets.yaml');
    expect(r.stderr).toContain('cluster prod (context prod-admin): 1 file(s) routed to its controller');
    expect(readFileSync(join(dir, 'overlays/prod/db.sealed.yaml'), 'utf8')).toBe(before);
  });
});
