/**
 * The `match` patterns of .sealed-secrets.yaml, as gitignore-style globs over paths
 * relative to the config file's folder, with `/` separators:
 *
 *   `*`       any characters except `/` (one path segment or part of one)
 *   `?`       one character except `/`
 *   `**`      as a whole segment: zero or more segments (`overlays/**` matches
 *             `overlays/a.yaml` and `overlays/x/y/a.yaml`; `**\/prod/**` matches `prod/a.yaml`)
 *   `{a,b}`   either alternative (no nesting)
 *   `[abc]`   one of the characters (`[!abc]` none of them)
 *
 * A pattern without `/` matches the file name in any folder (`*.sealed.yaml`), as .gitignore.
 * A pattern naming a folder (`overlays/prod` or `overlays/prod/`) matches everything below it.
 * Dot files are matched like any other (a config names paths in its own repository).
 *
 * Patterns are compiled to regular expressions; to keep matching linear in practice (a config
 * can come from a pull request), a pattern has at most 256 characters, 3 `*` per segment and
 * 4 `**` segments.
 */

export const GLOB_LIMITS = { length: 256, starsPerSegment: 3, globstars: 4 } as const;

function escape(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function segmentSource(seg: string, pattern: string): string {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') {
      while (seg[i + 1] === '*') i++;
      out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) throw new Error(`unclosed [ in ${JSON.stringify(pattern)}`);
      let body = seg.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^/' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else if (c === '{') {
      const end = seg.indexOf('}', i);
      if (end < 0) throw new Error(`unclosed { in ${JSON.stringify(pattern)}`);
      out += `(?:${seg.slice(i + 1, end).split(',').map((alt) => segmentSource(alt, pattern)).join('|')})`;
      i = end;
    } else out += escape(c);
  }
  return out;
}

/** Compiles a pattern; throws an Error saying what is wrong with it. */
export function compileGlob(pattern: string): RegExp {
  let p = pattern.trim().replace(/\\/g, '/');
  if (!p) throw new Error('the pattern is empty');
  if (p.length > GLOB_LIMITS.length) throw new Error(`the pattern is longer than ${GLOB_LIMITS.length} characters`);
  if (p.startsWith('./')) p = p.slice(2);
  if (p.startsWith('/')) p = p.slice(1);
  const anyFolder = !p.includes('/');
  const folder = p.endsWith('/');
  if (folder) p = p.slice(0, -1);
  const segs = p.split('/');
  if (segs.some((s) => s === '..')) throw new Error('.. is not allowed: patterns are relative to the folder of the config file');
  if (segs.filter((x) => x === '**').length > GLOB_LIMITS.globstars) throw new Error(`more than ${GLOB_LIMITS.globstars} ** segments`);
  for (const seg of segs) {
    if (seg !== '**' && (seg.replace(/\*+/g, '*').match(/\*/g)?.length ?? 0) > GLOB_LIMITS.starsPerSegment) throw new Error(`more than ${GLOB_LIMITS.starsPerSegment} * in one path segment`);
  }
  let src = '';
  for (const [n, seg] of segs.entries()) {
    const last = n === segs.length - 1;
    if (seg === '**') src += last ? '.*' : '(?:[^/]+/)*';
    else src += segmentSource(seg, pattern) + (last ? '' : '/');
  }
  // A folder (or any pattern) also matches what is below it.
  return new RegExp(`^${anyFolder ? '(?:[^/]+/)*' : ''}${src}(?:/.*)?$`);
}

/** Relative path as the patterns see it: `/` separators, no leading `./`. */
export function normalizeRelPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^\.\//, '');
}
