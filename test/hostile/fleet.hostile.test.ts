/**
 * Hostile repositories for kubeseal lint and sealing by path (the tree, .sealed-secrets.yaml and
 * every manifest can come from a pull request): nothing in them may hang or exhaust the tool,
 * and no plaintext they hold may reach its output, not even through a parse error.
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubeseal } from '../cli-helpers.js';
import { CONFIG, controllerKey, secretYaml, tree, type ControllerKey } from '../fleet/helpers.js';

let key: ControllerKey;
beforeAll(async () => {
  key = await controllerKey(2048);
});

const repo = (files: Record<string, string>) => tree({ '.sealed-secrets.yaml': CONFIG, 'certs/dev.pem': key.certPem, 'certs/prod.pem': key.certPem, ...files });

async function timed(args: string[], cwd: string) {
  const t0 = Date.now();
  const r = await kubeseal(args, { cwd });
  return { ...r, ms: Date.now() - t0 };
}

describe('hostile repositories', () => {
  it('a cert: that is a device or a FIFO is refused, not read forever', async () => {
    const dir = repo({ '.sealed-secrets.yaml': CONFIG.replace('certs/dev.pem', '/dev/zero'), 'secret.yaml': secretYaml('db', { a: 'b' }) });
    execFileSync('mkfifo', [join(dir, 'certs/fifo.pem')]);
    const l = await timed(['lint', '--format', 'json'], dir);
    expect(l.ms).toBeLessThan(20_000);
    const findings = JSON.parse(l.stdout).findings;
    expect(findings.map((f: { message: string }) => f.message)).toContain('cluster dev: cert /dev/zero is not a regular file');
    const s = await timed(['-f', 'secret.yaml', '-w', 'overlays/dev/db.yaml'], dir);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain('cert /dev/zero is not a regular file');
    const f = repo({ '.sealed-secrets.yaml': CONFIG.replace('certs/dev.pem', 'certs/fifo.pem'), 'secret.yaml': secretYaml('db', { a: 'b' }) });
    execFileSync('mkfifo', [join(f, 'certs/fifo.pem')]);
    const ff = await timed(['-f', 'secret.yaml', '-w', 'overlays/dev/db.yaml'], f);
    expect(ff.code).toBe(1);
    expect(ff.stderr).toContain('is not a regular file');
  });

  it('FIFOs and links to devices among the manifests are not read', async () => {
    const dir = repo({ 'overlays/dev/kustomization.yaml': 'namespace: dev\nresources: []\n' });
    execFileSync('mkfifo', [join(dir, 'overlays/dev/pipe.yaml')]);
    symlinkSync('/dev/zero', join(dir, 'overlays/dev/zero.yaml'));
    const l = await timed(['lint'], dir);
    expect(l.code).toBe(0);
    expect(l.ms).toBeLessThan(20_000);
  });

  it('alias bombs and absurd nesting end in a finding, not in memory exhaustion or a crash', async () => {
    const bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]\n`).join('');
    const dir = repo({
      'overlays/dev/kustomization.yaml': `namespace: dev\nresources:\n- ss.yaml\nsecretGenerator:\n- name: g\n  literals: *j\n${bomb}`,
      'overlays/dev/ss.yaml': `kind: SealedSecret\nmetadata: {name: x}\n${bomb}`,
      'deep.yaml': 'kind: Secret\nx: ' + '['.repeat(200_000) + ']'.repeat(200_000) + '\n',
    });
    const l = await timed(['lint', '--format', 'json'], dir);
    expect(l.stderr).not.toContain('internal error');
    expect(l.code).toBe(1);
    const rules = JSON.parse(l.stdout).findings.map((f: { rule: string; file: string }) => `${f.rule} ${f.file}`);
    expect(rules).toContain('invalid-yaml overlays/dev/ss.yaml');
    expect(rules).toContain('invalid-yaml deep.yaml');
    expect(rules.some((r: string) => r.endsWith('overlays/dev/kustomization.yaml'))).toBe(true);
  });

  it('a YAML error inside a plaintext Secret does not quote the value', async () => {
    const dir = repo({ 'leak.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData:\n  password: "TOP\\qSECRET-value"\n' });
    for (const format of ['text', 'json', 'sarif']) {
      const l = await kubeseal(['lint', '--format', format], { cwd: dir });
      expect(l.code).toBe(1);
      expect(l.stdout + l.stderr).not.toMatch(/TOP|SECRET-value/);
      expect(l.stdout).toContain('leak.yaml');
    }
  });

  it('match patterns that would make the matcher backtrack for long are refused', async () => {
    const dir = repo({ '.sealed-secrets.yaml': CONFIG.replace('overlays/dev/**', '"*a*a*a*a*a*a*a*a*b/**"') });
    const l = await kubeseal(['lint'], { cwd: dir });
    expect(l.code).toBe(2);
    expect(l.stderr).toContain('more than 3 * in one path segment');
    const long = repo({ '.sealed-secrets.yaml': CONFIG.replace('overlays/dev/**', `${'x'.repeat(300)}/**`) });
    expect((await kubeseal(['lint'], { cwd: long })).stderr).toContain('longer than 256 characters');
  });
});
