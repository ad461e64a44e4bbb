/**
 * Third adversarial review (each test fails while its hole is open): what kubeseal prints in
 * CI logs (often public) quotes secret material or depends on values.
 *
 * 1. A kubeconfig the Kubernetes client cannot parse: cli/cluster.ts copies client-node's
 *    js-yaml error into the message, and js-yaml's message carries a source snippet of the
 *    lines around the error: the user's bearer token, client-key-data or password, printed
 *    on stderr (and over several lines, against "one error line"). The controller
 *    (controller/main.ts: log.error(..., error: e.message)) and sealed-secrets-keys
 *    (the "cannot list SealedSecrets" warning) copy the same text.
 * 2. A Secret whose double-quoted YAML value has a backslash the YAML library does not know
 *    (`"Tr0ub4dor\xZZ&3"`, `"C0rrect\Horse"`): the message says "Invalid escape sequence \xZZ",
 *    quoting up to 9 characters of the plaintext (\U + 8). "Could not resolve tag: !a!b" does
 *    the same for a value that starts with '!'. documents.ts keeps only the first line of the
 *    library's message but that line is the quote.
 * 3. A value under `data` that is not base64 (plaintext put there by mistake): "is not valid
 *    base64 (at byte 7)" tells where the first character outside the base64 alphabet is
 *    (or the length mod 4): a fact about the plaintext, printed.
 *
 * Fixes: report kubeconfig failures by type ("the kubeconfig is not valid YAML") or take only
 * js-yaml's `reason`/`mark` (line and column); map YAML library errors to their code
 * (err.code: BAD_DQ_ESCAPE, TAG_RESOLVE_FAILED, ...) with a fixed text per code; say "is not
 * valid base64" without the offset (the item name is enough to find it).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeseal, tempDir } from '../cli-helpers.js';
import { vectorKeys } from '../vectors.js';

const kubeconfig = (user: string) => `apiVersion: v1
clusters:
- cluster:
    server: https://127.0.0.1:1
  name: c
contexts:
- context: {cluster: c, user: u}
  name: x
current-context: x
users:
- name: u
  user:
${user}`;

describe('review3: kubeseal never prints secret material or value-dependent text', () => {
  it('a kubeconfig the client cannot parse: the error does not quote its lines (tokens)', async () => {
    // A static token followed by a badly indented line; a basic-auth password; a JWT with an escape js-yaml refuses.
    const users: [string, string][] = [
      ['    token: 9f8a7c6e5d4b3a21\n   client-key-data: LS0tLS1CRUdJTg==\n', '9f8a7c6e5d4b3a21'],
      ['    username: admin\n    password: Sup3rS3cret!\n  extra: [\n', 'Sup3rS3cret!'],
      ['    token: "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXNlcnZpY2UtYWNjb3VudC10b2tlbg\\q.SIG"\n', 'NlcnZpY2UtYWNjb3VudC10b2tlbg'],
    ];
    for (const [user, secret] of users) {
      const dir = tempDir({ kubeconfig: kubeconfig(user) });
      writeFileSync(join(dir, 'ss.json'), JSON.stringify({ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'a', namespace: 'b' }, spec: { encryptedData: { x: 'AAAA' } } }));
      for (const mode of [['--fetch-cert'], ['--validate', '-f', join(dir, 'ss.json')]]) {
        const r = await kubeseal([...mode, '--kubeconfig', join(dir, 'kubeconfig')], { cwd: dir });
        expect(r.code).toBe(1);
        expect(r.stderr, `kubeseal ${mode[0]} prints the kubeconfig's credential`).not.toContain(secret);
        expect(r.stderr.trimEnd().split('\n'), 'one error line').toHaveLength(1);
      }
    }
  }, 60_000);

  it('a YAML escape the library refuses: the error does not quote the value', async () => {
    const dir = tempDir({ 'cert.pem': vectorKeys()[0]!.certPem });
    for (const value of ['Tr0ub4dor\\xZZ&3', 'C0rrect\\Horse', 'pw\\UdeadBEEFcafe']) {
      const r = await kubeseal(['--cert', 'cert.pem', '-o', 'yaml'], { cwd: dir, input: `apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: n}\nstringData:\n  password: "${value}"\n` });
      expect(r.code).toBe(1);
      const quoted = value.slice(value.indexOf('\\'), value.indexOf('\\') + 3);
      expect(r.stderr, `kubeseal prints ${quoted} of the password`).not.toContain(quoted);
    }
    const tag = await kubeseal(['--cert', 'cert.pem', '-o', 'yaml'], { cwd: dir, input: 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: n}\nstringData:\n  password: !S3!cr3t x\n' });
    expect(tag.code).toBe(1);
    expect(tag.stderr, 'kubeseal prints the start of the password').not.toContain('S3!cr3t');
  }, 60_000);

  it('a data value that is not base64: the error is the same wherever the bad character is', async () => {
    const dir = tempDir({ 'cert.pem': vectorKeys()[0]!.certPem });
    const run = async (v: string) => (await kubeseal(['--cert', 'cert.pem'], { cwd: dir, input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n' }, data: { password: v } }) })).stderr;
    const a = await run('hunter2!'); // plaintext put under data by mistake
    const b = await run('hu!nter2');
    expect(a).toMatch(/base64/);
    expect(a).toEqual(b);
  }, 60_000);
});
