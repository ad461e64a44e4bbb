import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { KeyRing, buildSelfSignedCertificate, generateRsaKeyPair, parsePrivateKeyPem, unsealSealedSecret } from '../src/index.js';
import { KUBESEAL, kubeseal, tempDir } from './cli-helpers.js';
import { sealedSecretCases, vectorKeys } from './vectors.js';

const key = vectorKeys().find((k) => k.id === 'dev-rsa2048')!;
const key4096 = vectorKeys().find((k) => k.id === 'dev-rsa4096')!;
const ring = new KeyRing();
for (const k of [key, key4096]) {
  const p = parsePrivateKeyPem(k.privateKeyPem, k.id);
  ring.add(p.privateKey, p.publicKey);
}
const secretYaml = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: prod
  labels: {app: db}
type: Opaque
stringData:
  password: "hunter2 "
data:
  username: YWRtaW4=
`;
const plain = (ss: any, k: string) => Buffer.from(unsealSealedSecret(ss, ring).secret.data![k]!, 'base64').toString('utf8');

function oneErrorLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0]!;
}

let dir: string;
beforeAll(() => {
  dir = tempDir({ 'cert.pem': key.certPem, 'cert4096.pem': key4096.certPem, 'secret.yaml': secretYaml, 'key.pem': key.privateKeyPem });
});

describe('kubeseal seals', () => {
  it('YAML from stdin to YAML on stdout, openable by the controller key', async () => {
    const r = await kubeseal(['--cert', 'cert.pem'], { input: secretYaml, cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n')).toBe(true);
    const ss = parseYaml(r.stdout);
    expect(ss.spec.template).toEqual({ metadata: { name: 'db', namespace: 'prod', labels: { app: 'db' } }, type: 'Opaque' });
    expect(plain(ss, 'password')).toBe('hunter2 ');
    expect(plain(ss, 'username')).toBe('admin');
  });

  it('JSON in gives JSON out in upstream key order; -o overrides the format', async () => {
    const json = JSON.stringify(parseYaml(secretYaml));
    const r = await kubeseal(['--cert', 'cert.pem'], { input: json, cwd: dir });
    expect(r.code).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['kind', 'apiVersion', 'metadata', 'spec']);
    expect(r.stdout.endsWith('}\n')).toBe(true);
    const y = await kubeseal(['--cert', 'cert.pem', '-o', 'yaml'], { input: json, cwd: dir });
    expect(y.stdout.startsWith('---\n')).toBe(true);
  });

  it('every document of a multi-document YAML stream, in order', async () => {
    const input = `${secretYaml}---\n# a comment-only document is skipped\n---\n${secretYaml.replace('name: db', 'name: cache')}`;
    const r = await kubeseal(['--cert', 'cert.pem', '-o', 'json'], { input, cwd: dir });
    expect(r.code).toBe(0);
    const objs = r.stdout.trim().split(/\n(?=\{)/).map((s) => JSON.parse(s));
    expect(objs.map((o) => o.metadata.name)).toEqual(['db', 'cache']);
    expect(plain(objs[1], 'username')).toBe('admin');
  });

  it('from -f into -w atomically; a .yaml output name selects YAML; SEALED_SECRETS_CERT works', async () => {
    const r = await kubeseal(['-f', 'secret.yaml', '-w', 'out.yaml'], { cwd: dir, env: { SEALED_SECRETS_CERT: 'cert.pem' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const ss = parseYaml(readFileSync(join(dir, 'out.yaml'), 'utf8'));
    expect(plain(ss, 'password')).toBe('hunter2 ');
  });

  it('takes the scope from the flag or from the Secret annotations', async () => {
    const r = await kubeseal(['--cert', 'cert.pem', '--scope', 'cluster-wide'], { input: secretYaml, cwd: dir });
    const ss = parseYaml(r.stdout);
    expect(ss.metadata.annotations['sealedsecrets.bitnami.com/cluster-wide']).toBe('true');
    ss.metadata.name = 'moved';
    ss.metadata.namespace = 'elsewhere';
    expect(plain(ss, 'username')).toBe('admin');
    const annotated = secretYaml.replace('labels: {app: db}', 'annotations: {sealedsecrets.bitnami.com/namespace-wide: "true"}');
    const n = parseYaml((await kubeseal(['--cert', 'cert.pem'], { input: annotated, cwd: dir })).stdout);
    expect(n.metadata.annotations).toMatchObject({ 'sealedsecrets.bitnami.com/namespace-wide': 'true' });
  });

  it('uses the kubeconfig context namespace for a Secret without one, else "default"', async () => {
    const noNs = secretYaml.replace('  namespace: prod\n', '');
    const kc = 'apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, user: u, namespace: team-a}\n';
    writeFileSync(join(dir, 'kubeconfig'), kc);
    const r = await kubeseal(['--cert', 'cert.pem'], { input: noNs, cwd: dir, env: { KUBECONFIG: join(dir, 'kubeconfig') } });
    expect(parseYaml(r.stdout).metadata.namespace).toBe('team-a');
    const d = await kubeseal(['--cert', 'cert.pem'], { input: noNs, cwd: dir });
    expect(parseYaml(d.stdout).metadata.namespace).toBe('default');
    const n = await kubeseal(['--cert', 'cert.pem', '-n', 'given'], { input: noNs, cwd: dir });
    expect(parseYaml(n.stdout).metadata.namespace).toBe('given');
  });

  it('fetches the certificate over https and from loopback http, and refuses plain http elsewhere', async () => {
    const { privateKey, publicKey } = await generateRsaKeyPair(2048);
    void publicKey;
    writeFileSync(join(dir, 'tls.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const tlsCert = execFileSync('openssl', ['req', '-x509', '-key', join(dir, 'tls.key'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1']).toString();
    const handler = (_req: unknown, res: import('node:http').ServerResponse) => res.end(key.certPem);
    const https = createHttpsServer({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: tlsCert }, handler);
    const http = createHttpServer(handler);
    await Promise.all([new Promise<void>((r) => https.listen(0, '127.0.0.1', r)), new Promise<void>((r) => http.listen(0, '127.0.0.1', r))]);
    try {
      writeFileSync(join(dir, 'tls-ca.pem'), tlsCert);
      const hp = (https.address() as AddressInfo).port;
      const r = await kubeseal(['--cert', `https://127.0.0.1:${hp}/v1/cert.pem`], { input: secretYaml, cwd: dir, env: { NODE_EXTRA_CA_CERTS: join(dir, 'tls-ca.pem') } });
      expect(r.stderr).toBe('');
      expect(plain(parseYaml(r.stdout), 'username')).toBe('admin');
      const untrusted = await kubeseal(['--cert', `https://127.0.0.1:${hp}/v1/cert.pem`], { input: secretYaml, cwd: dir });
      expect(untrusted.code).toBe(1);
      expect(oneErrorLine(untrusted.stderr)).toMatch(/^error: cannot fetch the certificate from https:\/\/127\.0\.0\.1:\d+\/v1\/cert\.pem: [A-Z_]+/);
      const lp = (http.address() as AddressInfo).port;
      const loop = await kubeseal(['--cert', `http://127.0.0.1:${lp}/v1/cert.pem`, '--fetch-cert'], { cwd: dir });
      expect(loop.stdout).toBe(key.certPem);
      const remote = await kubeseal(['--cert', 'http://certs.example.com/v1/cert.pem'], { input: secretYaml, cwd: dir });
      expect(remote.code).toBe(1);
      expect(oneErrorLine(remote.stderr)).toBe(
        'error: refusing to fetch the certificate over plain http from certs.example.com; use an https URL, or download the certificate and pass it as a file',
      );
    } finally {
      https.close();
      http.close();
    }
  });
});

describe('kubeseal --raw', () => {
  it('seals stdin byte for byte, with no newline added to the output', async () => {
    const value = Buffer.from('  multi\nline value with trailing whitespace \n\n');
    const r = await kubeseal(['--cert', 'cert.pem', '--raw', '--namespace', 'prod', '--name', 'db'], { input: value, cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^AQ[A-D][A-Za-z0-9+/]+=*$/);
    const ss = { kind: 'SealedSecret', metadata: { name: 'db', namespace: 'prod' }, spec: { encryptedData: { v: r.stdout } } };
    expect(Buffer.from(unsealSealedSecret(ss as any, ring).secret.data!['v']!, 'base64')).toEqual(value);
  });

  it('reads --from-file [key=]path byte for byte, in every scope', async () => {
    writeFileSync(join(dir, 'value.bin'), Buffer.from([0, 1, 2, 255, 10]));
    for (const [scope, meta] of [
      ['namespace-wide', { name: 'any-name', namespace: 'prod', annotations: { 'sealedsecrets.bitnami.com/namespace-wide': 'true' } }],
      ['cluster-wide', { name: 'x', namespace: 'y', annotations: { 'sealedsecrets.bitnami.com/cluster-wide': 'true' } }],
    ] as const) {
      const r = await kubeseal(['--cert', 'cert.pem', '--raw', '--scope', scope, '-n', 'prod', '--from-file', 'k=value.bin'], { cwd: dir });
      expect(r.code).toBe(0);
      const ss = { kind: 'SealedSecret', metadata: meta, spec: { encryptedData: { v: r.stdout } } };
      expect(Buffer.from(unsealSealedSecret(ss as any, ring).secret.data!['v']!, 'base64')).toEqual(Buffer.from([0, 1, 2, 255, 10]));
    }
  });

  it('says what is missing: --name in strict scope, --raw for --from-file (exit 1, as upstream reports them)', async () => {
    const noName = await kubeseal(['--cert', 'cert.pem', '--raw', '-n', 'prod'], { input: 'x', cwd: dir });
    expect(noName.code).toBe(1);
    expect(oneErrorLine(noName.stderr)).toBe('error: must provide the --name flag with --raw and --scope strict');
    const ff = await kubeseal(['--cert', 'cert.pem', '--from-file', 'value.bin'], { cwd: dir });
    expect(ff.code).toBe(1);
    expect(oneErrorLine(ff.stderr)).toBe('error: --from-file requires --raw');
  });

  it('takes the namespace as upstream: -n (ns/ prefix stripped), else the context\'s, else "default", even when the context names none', async () => {
    const opens = (blob: string, ns: string) => {
      const ss = { kind: 'SealedSecret', metadata: { name: 'db', namespace: ns }, spec: { encryptedData: { v: blob } } };
      return Buffer.from(unsealSealedSecret(ss as any, ring).secret.data!['v']!, 'base64').toString();
    };
    const kc = (ns: string) => `apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u${ns ? `, namespace: ${ns}` : ''}}\n`;
    writeFileSync(join(dir, 'kc-no-ns'), kc(''));
    writeFileSync(join(dir, 'kc-team'), kc('team-b'));
    const cases: [string[], Record<string, string>, string][] = [
      [[], {}, 'default'],
      [[], { KUBECONFIG: join(dir, 'kc-no-ns') }, 'default'],
      [[], { KUBECONFIG: join(dir, 'kc-team') }, 'team-b'],
      [['--kubeconfig', 'kc-team'], {}, 'team-b'],
      [['-n', 'ns/given', '--kubeconfig', 'kc-team'], {}, 'given'],
    ];
    for (const [flags, env, ns] of cases) {
      const r = await kubeseal(['--cert', 'cert.pem', '--raw', '--name', 'db', ...flags], { input: 'v1', cwd: dir, env });
      expect(r.stderr, JSON.stringify(flags)).toBe('');
      expect(r.code).toBe(0);
      expect(opens(r.stdout, ns)).toBe('v1');
    }
    const missing = await kubeseal(['--cert', 'cert.pem', '--raw', '--name', 'db', '--context', 'nope', '--kubeconfig', 'kc-team'], { input: 'v', cwd: dir });
    expect(missing.code).toBe(1);
    expect(oneErrorLine(missing.stderr)).toMatch(/^error: context "nope" does not exist in the kubeconfig \(.*kc-team\); pass a context that exists/);
  });

  it('-w FILE writes the sealed value to the file, atomically, and nothing to stdout', async () => {
    const r = await kubeseal(['--cert', 'cert.pem', '--raw', '--name', 'db', '-n', 'prod', '-w', 'raw.txt'], { input: 'in-a-file', cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const blob = readFileSync(join(dir, 'raw.txt'), 'utf8');
    const ss = { kind: 'SealedSecret', metadata: { name: 'db', namespace: 'prod' }, spec: { encryptedData: { v: blob } } };
    expect(Buffer.from(unsealSealedSecret(ss as any, ring).secret.data!['v']!, 'base64').toString()).toBe('in-a-file');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('kubeseal --merge-into', () => {
  it('adds and replaces items, keeping name, namespace, scope, template and the file layout', async () => {
    const first = await kubeseal(['--cert', 'cert.pem', '--scope', 'namespace-wide'], { input: secretYaml, cwd: dir });
    const target = '# sealed for prod; do not edit by hand\n' + first.stdout.replace(/^---\n/, '');
    writeFileSync(join(dir, 'target.yaml'), target);
    const before = parseYaml(target);
    const update = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: ignored\n  namespace: ignored-too\nstringData:\n  password: rotated\n  token: t0k3n\n';
    const r = await kubeseal(['--cert', 'cert.pem', '--merge-into', 'target.yaml'], { input: update, cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const text = readFileSync(join(dir, 'target.yaml'), 'utf8');
    expect(text.startsWith('# sealed for prod; do not edit by hand\n')).toBe(true);
    const after = parseYaml(text);
    expect(after.metadata.name).toBe('db');
    expect(after.metadata.namespace).toBe('prod');
    expect(after.metadata.annotations['sealedsecrets.bitnami.com/namespace-wide']).toBe('true');
    expect(after.spec.encryptedData.username).toBe(before.spec.encryptedData.username);
    expect(plain(after, 'password')).toBe('rotated');
    expect(plain(after, 'token')).toBe('t0k3n');
    expect(plain(after, 'username')).toBe('admin');
  });
});

describe('kubeseal --recovery-unseal', () => {
  const cases = sealedSecretCases().filter((c) => c.expected.ok);
  const backup = {
    apiVersion: 'v1',
    kind: 'List',
    items: vectorKeys().map((k, i) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: `sealed-secrets-key${i}`, namespace: 'kube-system', labels: { 'sealedsecrets.bitnami.com/sealed-secrets-key': 'active' } },
      data: { 'tls.crt': Buffer.from(k.certPem).toString('base64'), 'tls.key': Buffer.from(k.privateKeyPem).toString('base64') },
    })),
  };

  it('opens every upstream SealedSecret vector with a backup List of upstream key Secrets, exactly as the controller would', async () => {
    const d = tempDir({ 'backup.json': JSON.stringify(backup) });
    const input = cases.map((c) => JSON.stringify(c.sealedSecret)).join('\n');
    const r = await kubeseal(['--recovery-unseal', '--recovery-private-key', 'backup.json'], { input, cwd: d });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const secrets = r.stdout.trim().split(/\n(?=\{)/).map((s) => JSON.parse(s));
    expect(secrets).toEqual(cases.map((c) => c.expected.secret));
  });

  it('accepts PKCS#1 and PKCS#8 PEM files, repeated or comma-separated, and a YAML backup', async () => {
    const k4 = vectorKeys().find((k) => k.bits === 4096)!;
    const d = tempDir({ 'a.pem': key.privateKeyPem, 'b.pem': k4.privateKeyPkcs8Pem, 'backup.yaml': (await import('yaml')).stringify(backup) });
    const two = cases.filter((c) => c.keyId === key.id || c.keyId === k4.id);
    const input = two.map((c) => JSON.stringify(c.sealedSecret)).join('\n');
    for (const args of [['--recovery-private-key', 'a.pem,b.pem'], ['--recovery-private-key', 'a.pem', '--recovery-private-key', 'b.pem'], ['--recovery-private-key', 'backup.yaml']]) {
      const r = await kubeseal(['--recovery-unseal', ...args, '-o', 'json'], { input, cwd: d });
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split(/\n(?=\{)/).map((s) => JSON.parse(s))).toEqual(two.map((c) => c.expected.secret));
    }
  });

  it('fails with the uniform error naming the SealedSecret and items when no key opens it', async () => {
    const wrong = sealedSecretCases().find((c) => c.id === 'dev-sealedsecret-005')!;
    const d = tempDir({ 'k.pem': wrong.privateKeyPem });
    const r = await kubeseal(['--recovery-unseal', '--recovery-private-key', 'k.pem'], { input: JSON.stringify(wrong.sealedSecret), cwd: d });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r.stderr)).toMatch(
      /^error: SealedSecret [a-z-]+\/[a-z-]+: no key could decrypt secret \([a-z-, ]+\); it was sealed for another controller key, or for another namespace, name or scope/,
    );
  });
});

describe('kubeseal refuses bad input with one clear line and nothing on stdout', () => {
  let expiredDir: string;
  beforeAll(async () => {
    const { privateKey, publicKey } = await generateRsaKeyPair(2048);
    const pem = await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date('2020-01-01T00:00:00Z'), ttlMs: 24 * 3600 * 1000 });
    expiredDir = tempDir({ 'expired.pem': pem });
  });

  it.each([
    ['an expired certificate', ['--cert', 'EXPIRED'], secretYaml, 1, /^error: failed to encrypt using an expired certificate on January 2, 2020 \(.*expired\.pem\); fetch the current certificate from the controller \(kubeseal --fetch-cert\)$/],
    ['no certificate and no cluster', [], secretYaml, 1, /^error: no Kubernetes API server to connect to: no kubeconfig was found \(--kubeconfig, KUBECONFIG, ~\/\.kube\/config\), no --server was given, and this is not inside a Pod; pass --kubeconfig or --server \(with --token\), or --cert to seal offline$/],
    ['a missing certificate file', ['--cert', 'nope.pem'], secretYaml, 1, /^error: cannot read certificate file nope\.pem: no such file$/],
    ['a bare public key as certificate', ['--cert', 'key.pem'], secretYaml, 1, /^error: key\.pem holds no PEM certificate; /],
    ['invalid YAML', ['--cert', 'cert.pem'], 'kind: Secret\nmetadata: [unclosed\n', 1, /^error: standard input: invalid YAML in document 1 at line \d+, column \d+: /],
    ['invalid JSON', ['--cert', 'cert.pem'], '{"kind": "Secret",', 1, /^error: standard input: invalid JSON in the object starting at byte 0; /],
    ['a ConfigMap', ['--cert', 'cert.pem'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: d}\ndata: {a: b}\n', 1, /^error: ConfigMap d\/c is not a Secret; kubeseal seals objects of kind Secret/],
    ['invalid base64 in data', ['--cert', 'cert.pem'], secretYaml.replace('YWRtaW4=', 'not*base64'), 1, /^error: Secret prod\/db: data\["username"\] is not valid base64; values under data are base64; put plain text under stringData instead$/],
    ['empty data', ['--cert', 'cert.pem'], 'kind: Secret\nmetadata: {name: a, namespace: b}\n', 1, /^error: Secret b\/a has no data or stringData; add at least one item, or pass --allow-empty-data/],
    ['the second of two documents broken', ['--cert', 'cert.pem'], `${secretYaml}---\nkind: Secret\nmetadata: {namespace: x}\ndata: {a: YQ==}\n`, 1, /^error: document 2: the Secret has no metadata\.name; set metadata\.name or pass --name$/],
    ['empty input', ['--cert', 'cert.pem'], '', 1, /^error: no secrets found in standard input\. Ensure the input is valid and UTF-8 encoded$/],
    ['binary garbage', ['--cert', 'cert.pem'], Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x10]), 1, /^error: standard input is not UTF-8 text; /],
    ['a scalar document', ['--cert', 'cert.pem'], 'just a string\n', 1, /^error: standard input: document 1 is not a Kubernetes object \(found string\)/],
    ['an unknown flag', ['--cert', 'cert.pem', '--sealme'], secretYaml, 2, /^error: Unknown argument: sealme$/],
    ['an unknown scope', ['--cert', 'cert.pem', '--scope', 'global'], secretYaml, 2, /^error: Invalid values:/],
    ['a namespace mismatch', ['--cert', 'cert.pem', '-n', 'dev'], secretYaml, 1, /^error: namespace mismatch: input secret is in namespace "prod" but "dev" was specified; /],
  ])('%s', async (_what, args, input, code, message) => {
    const argv = args.map((a) => (a === 'EXPIRED' ? join(expiredDir, 'expired.pem') : a));
    const r = await kubeseal([...argv, '-w', 'never-written.yaml'], { input, cwd: dir });
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    const line = code === 2 && /Unknown|Invalid/.test(String(message)) ? r.stderr.split('\n')[0]! : oneErrorLine(r.stderr);
    expect(line).toMatch(message);
    expect(existsSync(join(dir, 'never-written.yaml'))).toBe(false);
  });

  it('prints a stack trace only with --debug', async () => {
    const r = await kubeseal(['--cert', 'cert.pem', '--debug'], { input: 'kind: ConfigMap\nmetadata: {name: a}\n', cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('kubeseal help, version and completion', () => {
  it('--help lists the upstream flags with examples; --version prints the version', async () => {
    const h = await kubeseal(['--help']);
    expect(h.code).toBe(0);
    for (const f of ['--cert', '--format', '--secret-file', '--sealed-secret-file', '--scope', '--raw', '--from-file', '--merge-into', '--recovery-unseal', '--recovery-private-key', '--allow-empty-data', 'Examples:', 'SEALED_SECRETS_']) {
      expect(h.stdout).toContain(f);
    }
    const v = await kubeseal(['--version']);
    expect(v.stdout).toMatch(/^kubeseal version: \d+\.\d+\.\d+/);
  });

  it.each(['bash', 'zsh', 'fish'])('completion %s prints a script that names the flags', async (shell) => {
    const r = await kubeseal(['completion', shell]);
    expect(r.code).toBe(0);
    for (const f of ['cert', 'scope', 'recovery-private-key']) expect(r.stdout).toContain(f);
    if (shell === 'bash') execFileSync('bash', ['-n'], { input: r.stdout });
  });

  it('bash completion offers scope values', async () => {
    const script = (await kubeseal(['completion', 'bash'])).stdout;
    const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(kubeseal --scope c); COMP_CWORD=2; _kubeseal; echo "\${COMPREPLY[@]}"`]).toString();
    expect(out.trim()).toBe('cluster-wide');
  });

  it('bash completion offers the lint subcommand and its flags', async () => {
    const script = (await kubeseal(['completion', 'bash'])).stdout;
    const run = (words: string, cword: number) => execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${cword}; _kubeseal; echo "\${COMPREPLY[@]}"`]).toString().trim();
    expect(run('kubeseal li', 1)).toBe('lint');
    expect(run('kubeseal lint --fo', 2)).toBe('--format');
  });
});


describe('kubeseal review fixes', () => {
  it('reads every flag from SEALED_SECRETS_<FLAG>, multi-word ones included, and ignores unknown variables', async () => {
    const empty = 'apiVersion: v1\nkind: Secret\nmetadata: {name: e, namespace: ns}\n';
    const r = await kubeseal([], {
      input: empty,
      cwd: dir,
      env: { SEALED_SECRETS_CERT: 'cert.pem', SEALED_SECRETS_ALLOW_EMPTY_DATA: 'true', SEALED_SECRETS_CONTROLLER_NAMESPACE: 'elsewhere', SEALED_SECRETS_KEY_PREFIX: 'x', SEALED_SECRETS_SCOPE: 'cluster-wide' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseYaml(r.stdout).metadata.annotations['sealedsecrets.bitnami.com/cluster-wide']).toBe('true');
    const flagWins = await kubeseal(['--scope', 'strict'], { input: secretYaml, cwd: dir, env: { SEALED_SECRETS_CERT: 'cert.pem', SEALED_SECRETS_SCOPE: 'cluster-wide' } });
    expect(parseYaml(flagWins.stdout).metadata.annotations?.['sealedsecrets.bitnami.com/cluster-wide']).toBeUndefined();
  });

  it('never quotes the input in a JSON error', async () => {
    const r = await kubeseal(['--cert', 'cert.pem'], { input: '{"kind":"Secret","metadata":{"name":"a"},"stringData":{"pw": hunter2TOPSECRET}}', cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('hunter2');
    expect(oneErrorLine(r.stderr)).toBe('error: standard input: invalid JSON in the object starting at byte 0; check the input is a complete Kubernetes object in JSON or YAML');
  });

  it('quotes YAML 1.1 booleans, times and numbers in output, so kubectl, Flux and Argo CD read strings', async () => {
    const input = JSON.stringify({ kind: 'Secret', metadata: { name: 'y', namespace: 'ns', labels: { on: 'yes', time: '12:30' } }, stringData: { no: 'x', off: 'y' } });
    const r = await kubeseal(['--cert', 'cert.pem', '-o', 'yaml'], { input, cwd: dir });
    expect(r.stdout).toContain('"no": ');
    expect(r.stdout).toContain('"off": ');
    expect(r.stdout).toContain('"on": "yes"');
    expect(r.stdout).toContain('time: "12:30"');
  });

  it('a flag without its value is a usage error, not silently ignored', async () => {
    for (const args of [['--cert', 'cert.pem', '-w'], ['--cert', 'cert.pem', '--merge-into'], ['--cert']]) {
      const r = await kubeseal(args, { input: secretYaml, cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: Not enough arguments following: /);
    }
  });

  it('-w keeps the mode of an existing file, and recovered plaintext goes to a new file readable by its owner only', async () => {
    const { statSync, chmodSync } = await import('node:fs');
    writeFileSync(join(dir, 'private.yaml'), '');
    chmodSync(join(dir, 'private.yaml'), 0o600);
    await kubeseal(['--cert', 'cert.pem', '-w', 'private.yaml'], { input: secretYaml, cwd: dir });
    expect(statSync(join(dir, 'private.yaml')).mode & 0o777).toBe(0o600);
    const sealed = (await kubeseal(['--cert', 'cert.pem'], { input: secretYaml, cwd: dir })).stdout;
    const r = await kubeseal(['--recovery-unseal', '--recovery-private-key', 'key.pem', '-w', 'recovered.yaml'], { input: sealed, cwd: dir });
    expect(r.code).toBe(0);
    expect(statSync(join(dir, 'recovered.yaml')).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['an undefined YAML alias', 'kind: Secret\nmetadata: {name: a, namespace: b}\nstringData: {pw: *x}\n', /^error: standard input: document 1 uses YAML aliases that are undefined or expand too much; /],
    ['a billion laughs', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n', /^error: standard input: document 1 uses YAML aliases that are undefined or expand too much; /],
    ['deep nesting', '{"kind":"Secret","metadata":{"name":"a","labels":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + '}}', /^error: standard input: document 1 is nested deeper than 64 levels; /],
    ['a boolean annotation', 'kind: Secret\nmetadata:\n  name: a\n  namespace: b\n  annotations: {sealedsecrets.bitnami.com/cluster-wide: true}\nstringData: {k: v}\n', /^error: Secret b\/a: metadata\.annotations\["sealedsecrets\.bitnami\.com\/cluster-wide"\] must be a string, not boolean; quote the value in YAML/],
  ])('refuses %s with a clear line', async (_what, input, message) => {
    const r = await kubeseal(['--cert', 'cert.pem'], { input, cwd: dir });
    expect(r.code).toBe(1);
    expect(oneErrorLine(r.stderr)).toMatch(message);
  });

  it('a closed output pipe ends quietly, without a stack trace', () => {
    const many = Array.from({ length: 200 }, (_, i) => secretYaml.replace('name: db', `name: db${i}`)).join('---\n');
    writeFileSync(join(dir, 'many.yaml'), many);
    const out = execFileSync('bash', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(KUBESEAL)} --cert cert.pem -f many.yaml 2>err.txt | head -c 10 >/dev/null; cat err.txt`], { cwd: dir }).toString();
    expect(out).not.toMatch(/\n\s+at /);
    expect(out).toBe('');
  });

  it('--fetch-cert prints an expired certificate as it is; sealing with it is what is refused', async () => {
    const { privateKey, publicKey } = await generateRsaKeyPair(2048);
    writeFileSync(join(dir, 'old.pem'), await buildSelfSignedCertificate({ privateKey, publicKey, notBefore: new Date('2020-01-01T00:00:00Z'), ttlMs: 1000 }));
    const r = await kubeseal(['--cert', 'old.pem', '--fetch-cert'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('--fetch-cert -w FILE writes the certificate to the file (atomically) and nothing to stdout; a failure creates no file', async () => {
    const r = await kubeseal(['--cert', 'cert.pem', '--fetch-cert', '-w', 'fetched.pem'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(dir, 'fetched.pem'), 'utf8')).toBe(key.certPem);
    const bad = await kubeseal(['--cert', 'nope.pem', '--fetch-cert', '-w', 'never.pem'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(existsSync(join(dir, 'never.pem'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("accepts klog's flags as upstream does (klog.InitFlags), hidden from --help", async () => {
    const r = await kubeseal(['--cert', 'cert.pem', '--logtostderr', '--alsologtostderr=false', '--vmodule', 'x=2', '--stderrthreshold', '3', '-v', '2'], { input: secretYaml, cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kind: SealedSecret');
    expect((await kubeseal(['--help'])).stdout).not.toContain('logtostderr');
  });

  it.each([
    ['an unknown flag', ['--sealme'], 2],
    ['a flag without its value', ['--cert'], 2],
    ['a bad --scope value', ['--scope', 'global'], 2],
    ['a -v that is not a number', ['-v', 'loud'], 2],
    ['a boolean flag given what Go\'s ParseBool refuses', ['--allow-empty-data=maybe'], 2],
    ['an unknown output format (upstream: a run-time error)', ['-o', 'xml'], 1],
    ['--from-file without --raw', ['--from-file', 'x'], 1],
    ['a missing input file', ['-f', 'nope.yaml'], 1],
    ['a certificate that is not one', ['--cert', 'secret.yaml'], 1],
    ['an invalid --request-timeout, in a cluster mode', ['--fetch-cert', '--server', 'https://192.0.2.1:1', '--request-timeout', 'soon'], 1],
  ])('exits as upstream does for %s', async (_what, args, code) => {
    const r = await kubeseal(['--cert', 'cert.pem', ...args].slice(args.includes('--cert') || args.includes('--fetch-cert') ? 2 : 0), { input: secretYaml, cwd: dir });
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: /);
  });
});

describe('kubeseal writes recovered plaintext only to a new 0600 file', () => {
  let sealed: string;
  beforeAll(async () => {
    sealed = (await kubeseal(['--cert', 'cert.pem'], { input: secretYaml, cwd: dir })).stdout;
  });
  const recover = (cwd: string, out: string, umask?: number) =>
    kubeseal(['--recovery-unseal', '--recovery-private-key', join(dir, 'key.pem'), '-w', out], { input: sealed, cwd, umask });

  it('replaces an existing 0644 file with a 0600 one, even under umask 000, and leaves no temporary file', async () => {
    const d = tempDir({ 'recovered.yaml': 'old\n' });
    chmodSync(join(d, 'recovered.yaml'), 0o644);
    const r = await recover(d, 'recovered.yaml', 0o000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(join(d, 'recovered.yaml')).mode & 0o777).toBe(0o600);
    expect(parseYaml(readFileSync(join(d, 'recovered.yaml'), 'utf8')).data.username).toBe('YWRtaW4=');
    const fresh = await recover(d, 'new.yaml', 0o000);
    expect(fresh.code).toBe(0);
    expect(statSync(join(d, 'new.yaml')).mode & 0o777).toBe(0o600);
    expect(readdirSync(d).sort()).toEqual(['new.yaml', 'recovered.yaml']);
  });

  it('refuses a -w path that is a symbolic link, leaving the link and the file it points at as they were', async () => {
    const d = tempDir({ 'shared.yaml': 'public notes\n' });
    chmodSync(join(d, 'shared.yaml'), 0o644);
    symlinkSync('shared.yaml', join(d, 'out.yaml'));
    const r = await recover(d, 'out.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r.stderr)).toBe(
      'error: refusing to write plaintext Secrets to out.yaml: it is a symbolic link; give the path of the file itself, or remove the link (private material is never written through a link)',
    );
    expect(readlinkSync(join(d, 'out.yaml'))).toBe('shared.yaml');
    expect(readFileSync(join(d, 'shared.yaml'), 'utf8')).toBe('public notes\n');
    expect(statSync(join(d, 'shared.yaml')).mode & 0o777).toBe(0o644);
    expect(readdirSync(d).sort()).toEqual(['out.yaml', 'shared.yaml']);
  });

  it('a write that fails says why and leaves no temporary file behind', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'out.yaml'));
    const r = await recover(d, 'out.yaml');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r.stderr)).toBe('error: cannot write out.yaml: it is a directory');
    expect(readdirSync(d)).toEqual(['out.yaml']);
    expect(readdirSync(join(d, 'out.yaml'))).toEqual([]);
  });

  it('sealed output (not secret) keeps following the user\'s own symlink, and keeps the file\'s mode whatever the umask', async () => {
    const d = tempDir({ 'real.yaml': '' });
    chmodSync(join(d, 'real.yaml'), 0o640);
    symlinkSync('real.yaml', join(d, 'sealed.yaml'));
    const r = await kubeseal(['--cert', join(dir, 'cert.pem'), '-w', 'sealed.yaml'], { input: secretYaml, cwd: d, umask: 0o077 });
    expect(r.code).toBe(0);
    expect(lstatSync(join(d, 'sealed.yaml')).isSymbolicLink()).toBe(true);
    expect(statSync(join(d, 'real.yaml')).mode & 0o777).toBe(0o640);
    expect(plain(parseYaml(readFileSync(join(d, 'real.yaml'), 'utf8')), 'username')).toBe('admin');
    expect(readdirSync(d).sort()).toEqual(['real.yaml', 'sealed.yaml']);
  });

  // Planting a link owned by someone else needs root.
  it.skipIf(process.getuid?.() !== 0)('sealed output is not written through a symlink another user planted (e.g. in /tmp)', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'victim.txt'), 'keep me\n');
    symlinkSync('victim.txt', join(d, 'planted.yaml'));
    lchownSync(join(d, 'planted.yaml'), 4242, 4242);
    const p = await kubeseal(['--cert', join(dir, 'cert.pem'), '-w', 'planted.yaml'], { input: secretYaml, cwd: d });
    expect(p.code).toBe(1);
    expect(oneErrorLine(p.stderr)).toBe('error: refusing to write planted.yaml: it is a symbolic link owned by another user (uid 4242); give the path of the file itself, or remove the link');
    expect(readFileSync(join(d, 'victim.txt'), 'utf8')).toBe('keep me\n');
  });
});

describe('kubeseal --cert URL checks every redirect before following it, and caps what it reads', () => {
  // Never sends traffic off this machine: the remote addresses below are refused before any connection (or DNS lookup).
  let http: import('node:http').Server;
  let https: import('node:https').Server;
  let base: string;
  let tlsBase: string;
  let caFile: string;
  let bigBytesSent = 0;
  beforeAll(async () => {
    const { privateKey } = await generateRsaKeyPair(2048);
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    writeFileSync(join(dir, 'redirect-tls.key'), keyPem);
    const tlsCert = execFileSync('openssl', ['req', '-x509', '-key', join(dir, 'redirect-tls.key'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1']).toString();
    caFile = join(dir, 'redirect-ca.pem');
    writeFileSync(caFile, tlsCert);
    const redirect = (res: import('node:http').ServerResponse, status: number, location: string) => {
      res.writeHead(status, { location });
      res.end();
    };
    http = createHttpServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/v1/cert.pem') return res.end(key.certPem);
      if (url === '/to-invalid') return redirect(res, 302, 'http://example.invalid/v1/cert.pem');
      if (url === '/to-private') return redirect(res, 301, 'http://10.0.0.1/v1/cert.pem');
      if (url === '/to-https') return redirect(res, 307, `${tlsBase}/v1/cert.pem`);
      if (url === '/loop') return redirect(res, 302, '/loop');
      if (url === '/stall') return void res.writeHead(200).write('-----BEGIN CERTIFICATE-----\n'); // and nothing more
      const chain = /^\/chain\/(\d+)$/.exec(url);
      if (chain) return redirect(res, 302, Number(chain[1]) > 1 ? `/chain/${Number(chain[1]) - 1}` : '/v1/cert.pem');
      if (url === '/huge') {
        // Up to 256 MiB, no Content-Length: a client that reads everything gets all of it.
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        const pump = (): void => {
          while (bigBytesSent < 256 * 1024 * 1024 && !res.destroyed) {
            bigBytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        return pump();
      }
      res.statusCode = 404;
      res.end();
    });
    https = createHttpsServer({ key: keyPem, cert: tlsCert }, (req, res) => {
      if (req.url === '/v1/cert.pem') return res.end(key.certPem);
      if (req.url === '/to-http-loopback') return redirect(res, 302, `${base}/v1/cert.pem`);
      res.statusCode = 404;
      res.end();
    });
    await Promise.all([new Promise<void>((r) => http.listen(0, '127.0.0.1', r)), new Promise<void>((r) => https.listen(0, '127.0.0.1', r))]);
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    tlsBase = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    http.closeAllConnections();
    http.close();
    https.closeAllConnections();
    https.close();
  });
  const fetchCert = (url: string) => kubeseal(['--cert', url, '--fetch-cert'], { cwd: dir, env: { NODE_EXTRA_CA_CERTS: caFile } });

  it.each([
    ['a remote name', '/to-invalid', 'example.invalid'],
    ['a private address', '/to-private', '10.0.0.1'],
  ])('refuses a loopback http redirect to plain http on %s', async (_what, path, host) => {
    const r = await fetchCert(`${base}${path}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r.stderr)).toBe(
      `error: refusing to fetch the certificate over plain http from ${host} (redirected from ${base}${path}); use an https URL, or download the certificate and pass it as a file`,
    );
  });

  it('refuses a redirect from https down to plain http, even on loopback', async () => {
    const r = await fetchCert(`${tlsBase}/to-http-loopback`);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r.stderr)).toBe(
      `error: refusing to follow a redirect from https to plain http 127.0.0.1:${new URL(base).port} (redirected from ${tlsBase}/to-http-loopback); use an https URL, or download the certificate and pass it as a file`,
    );
  });

  it('follows up to 5 redirects that keep to the rule, relative ones and loopback http to https included', async () => {
    expect((await fetchCert(`${base}/chain/5`)).stdout).toBe(key.certPem);
    expect((await fetchCert(`${base}/to-https`)).stdout).toBe(key.certPem);
    const six = await fetchCert(`${base}/chain/6`);
    expect(six.code).toBe(1);
    expect(oneErrorLine(six.stderr)).toBe(`error: cannot fetch the certificate from ${base}/chain/6: more than 5 redirects; check the URL (a redirect loop?), or download the certificate and pass it as a file`);
  });

  it('refuses a redirect loop', async () => {
    const r = await fetchCert(`${base}/loop`);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r.stderr)).toBe(`error: cannot fetch the certificate from ${base}/loop: more than 5 redirects; check the URL (a redirect loop?), or download the certificate and pass it as a file`);
  });

  it('stops reading a body past 1 MiB instead of downloading whatever the server sends', async () => {
    bigBytesSent = 0;
    const r = await fetchCert(`${base}/huge`);
    // What the server got rid of before kubeseal hung up: 1 MiB plus socket buffers, not the 256 MiB on offer.
    expect(bigBytesSent).toBeLessThan(32 * 1024 * 1024);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r.stderr)).toBe(`error: the certificate at ${base}/huge is over 1 MiB; a certificate is a few KiB: check the URL names the certificate, or pass it as a file`);
  });

  it('gives up on a server that stops sending after the 30 s deadline, with one clear line', async () => {
    const r = await fetchCert(`${base}/stall`);
    expect(r.code).toBe(1);
    expect(oneErrorLine(r.stderr)).toBe(`error: cannot fetch the certificate from ${base}/stall: timed out after 30 s; check the URL and the network, or pass the certificate as a file`);
  }, 50_000);
});
