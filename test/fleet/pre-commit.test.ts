/**
 * .pre-commit-hooks.yaml as the pre-commit framework reads it: the hook's fields, its `files`
 * pattern (a Python regex: the subset used here means the same in JavaScript) on the paths of
 * a GitOps repository, and its entry run as pre-commit runs it (no file names appended).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubeseal } from '../cli-helpers.js';
import { secretYaml, tree } from './helpers.js';

const hooks = parse(readFileSync(fileURLToPath(new URL('../../.pre-commit-hooks.yaml', import.meta.url)), 'utf8')) as Record<string, unknown>[];

describe('.pre-commit-hooks.yaml', () => {
  const hook = hooks.find((h) => h['id'] === 'kubeseal-lint')!;

  it('declares kubeseal-lint with the fields pre-commit requires', () => {
    expect(hook).toMatchObject({ id: 'kubeseal-lint', name: expect.any(String), entry: 'kubeseal lint', language: 'system', pass_filenames: false });
  });

  it('runs on manifests, kustomizations, certificates and the config, and not on other files', () => {
    const files = new RegExp(hook['files'] as string);
    for (const p of ['overlays/prod/db.sealed.yaml', 'base/kustomization.yml', 'apps/x.json', 'overlays/dev/Kustomization', '.sealed-secrets.yaml', 'certs/prod.pem']) expect(files.test(p), p).toBe(true);
    for (const p of ['README.md', 'src/main.go', 'yaml/notes.txt', 'Kustomization.bak']) expect(files.test(p), p).toBe(false);
  });

  it('its entry lints the repository from its root, and fails the commit on a plaintext Secret', async () => {
    const [, ...args] = (hook['entry'] as string).split(' ');
    const dir = tree({ 'overlays/dev/kustomization.yaml': 'resources: []\n' });
    expect((await kubeseal(args, { cwd: dir })).code).toBe(0);
    tree({ 'overlays/dev/leak.yaml': secretYaml('db', { password: 'hunter2' }) }, dir);
    const r = await kubeseal(args, { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('overlays/dev/leak.yaml:5:1: error [plaintext-secret]');
    expect(r.stdout).not.toContain('hunter2');
  });
});
