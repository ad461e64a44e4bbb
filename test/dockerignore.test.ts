/**
 * The image's build context (.dockerignore) against what deploy/Dockerfile's build reads:
 * every file `npm run build` bundles (from esbuild's metafile over scripts/build.mjs's entry
 * points) and every COPY source must be sent; .git, node_modules, dist, keys and key backups
 * must not. .dockerignore is evaluated as Docker does (moby/patternmatcher): `*` and `?`
 * stop at `/`, `**` spans directories, a pattern also matches everything under a matching
 * directory, `!` re-includes, the last matching pattern wins.
 */
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, ROOT), 'utf8');

interface Pattern {
  exclusion: boolean;
  re: RegExp;
}

/** dockerignore.ReadAll + patternmatcher: comments, trimming, Clean, leading "/" dropped, "!" exceptions. */
export function parseDockerignore(text: string): Pattern[] {
  const out: Pattern[] = [];
  for (const raw of text.split('\n')) {
    let p = raw.trim();
    if (!p || p.startsWith('#')) continue;
    const exclusion = p.startsWith('!');
    if (exclusion) p = p.slice(1).trim();
    p = posix.normalize(p).replace(/\/+$/, '');
    if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    if (/[[\]\\]/.test(p)) throw new Error(`pattern ${raw}: character classes and escapes are not modelled by this test`);
    let re = '^';
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      if (c === '*' && p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') i++;
        re += i === p.length - 1 ? '.*' : '(.*/)?';
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|]/g, '\\$&');
    }
    out.push({ exclusion, re: new RegExp(re + '$') });
  }
  return out;
}

/** patternmatcher.MatchesOrParentMatches: is this path left out of the context? */
export function ignored(patterns: Pattern[], file: string): boolean {
  const parents = posix.dirname(file).split('/');
  let matched = false;
  for (const p of patterns) {
    if (p.exclusion !== matched) continue;
    let match = p.re.test(file);
    if (!match && posix.dirname(file) !== '.') {
      for (let i = 0; i < parents.length && !match; i++) match = p.re.test(parents.slice(0, i + 1).join('/'));
    }
    if (match) matched = !p.exclusion;
  }
  return matched;
}

/** The project files `npm run build` reads: esbuild's inputs for build.mjs's entry points, and the build's own files. */
async function buildInputs(): Promise<string[]> {
  const script = read('scripts/build.mjs');
  const entries = [...script.matchAll(/entryPoints: \{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/'([^']+\.ts)'/g)].map((x) => x[1]!));
  expect(entries.length).toBeGreaterThanOrEqual(8);
  const r = await build({
    absWorkingDir: new URL('.', ROOT).pathname,
    entryPoints: entries,
    bundle: true,
    platform: 'node',
    write: false,
    metafile: true,
    outdir: 'out',
    logLevel: 'silent',
    external: ['node-forge', 'piscina', 'prom-client', 'node-vault'],
  });
  // node_modules comes from `npm ci` in the image (here it may be a symlink, hence "../").
  const ours = Object.keys(r.metafile.inputs).filter((f) => !f.startsWith('node_modules/') && !f.startsWith('../'));
  return [...new Set([...ours, 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs'])];
}

describe('.dockerignore', () => {
  // No .dockerignore sends everything: then the last test fails, naming what got in.
  const patterns = parseDockerignore(existsSync(new URL('.dockerignore', ROOT)) ? read('.dockerignore') : '');

  it('is evaluated with Docker\'s pattern semantics (examples from the Docker documentation)', () => {
    const docs = parseDockerignore('*/temp*\n*/*/temp*\ntemp?\n**/*.go\n*.md\n!README.md\n');
    expect(ignored(docs, 'somedir/temporary.txt')).toBe(true);
    expect(ignored(docs, 'somedir/subdir/temporary.txt')).toBe(true);
    expect(ignored(docs, 'tempa')).toBe(true);
    expect(ignored(docs, 'tempab')).toBe(false);
    expect(ignored(docs, 'a/b/c.go')).toBe(true);
    expect(ignored(docs, 'CHANGELOG.md')).toBe(true);
    expect(ignored(docs, 'README.md')).toBe(false);
    expect(ignored(docs, 'temporary.txt')).toBe(false);
    // A pattern matching a directory leaves out everything under it.
    expect(ignored(parseDockerignore('/build/\n'), 'build/x/y.js')).toBe(true);
  });

  it('sends every file the image build reads', async () => {
    const needed = await buildInputs();
    expect(needed).toContain('controller/main.ts');
    // And every COPY source from the build context (not --from a stage).
    for (const m of read('deploy/Dockerfile').matchAll(/^COPY (?!--from)(.+) \S+$/gm)) for (const src of m[1]!.split(/\s+/)) if (src !== '.') needed.push(src);
    expect(needed.filter((f) => ignored(patterns, f))).toEqual([]);
  }, 60_000);

  it('leaves out .git, node_modules, dist, tests, keys and key backups', () => {
    for (const f of [
      '.git',
      '.git/config',
      'node_modules/yaml/dist/index.js',
      'dist/sealed-secrets-controller.cjs',
      'controller/dist/x.cjs',
      'test/vectors/bitnami/keys/dev-rsa2048.pem',
      'controller/reconciler.test.ts',
      'tls.key',
      'controller/tls.key',
      'src/crypto/private.pem',
      'sealed-secrets-key-backup.yaml',
      'backups/main-key-backup.yaml',
      'controller/keys-backup.yaml',
      'kubeconfig',
      '.env',
      'docs/benchmarks.md',
      'deploy/base/rbac.yaml',
    ]) {
      expect(ignored(patterns, f), f).toBe(true);
    }
  });
});
