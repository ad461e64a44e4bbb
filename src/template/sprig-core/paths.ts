/**
 * Go's path package (base, dir, clean, ext, isAbs) and path/filepath on Linux (osBase,
 * osDir, osClean, osExt, osIsAbs: the same rules, '/' the only separator), over bytes.
 */
import type { FuncContext, FuncSpec, GoString } from '../values.js';
import { asStr } from './go.js';

/** path.Clean: lexical, as Go's (one pass over the '/'-separated elements). */
export function cleanPath(p: GoString): GoString {
  if (p === '') return '.';
  const rooted = p[0] === '/';
  const out: string[] = [];
  let dotdots = 0; // leading '..' elements kept (unrooted paths only)
  for (const e of p.split('/')) {
    if (e === '' || e === '.') continue;
    if (e === '..') {
      if (out.length > dotdots) out.pop();
      else if (!rooted) {
        out.push('..');
        dotdots++;
      }
      continue;
    }
    out.push(e);
  }
  const body = out.join('/');
  if (rooted) return '/' + body;
  return body === '' ? '.' : body;
}

export function basePath(p: GoString): GoString {
  if (p === '') return '.';
  while (p.length > 0 && p[p.length - 1] === '/') p = p.slice(0, -1);
  const i = p.lastIndexOf('/');
  if (i >= 0) p = p.slice(i + 1);
  return p === '' ? '/' : p;
}

export function dirPath(p: GoString): GoString {
  const i = p.lastIndexOf('/');
  return cleanPath(p.slice(0, i + 1));
}

export function extPath(p: GoString): GoString {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

const p1 = (f: (s: GoString) => GoString | boolean): FuncSpec => ({
  params: ['string'],
  fn: (ctx: FuncContext, [s]) => {
    ctx.budget.scan(asStr(s).length * 2);
    ctx.budget.produce(asStr(s).length + 2);
    return f(asStr(s));
  },
});

export const PATH_FUNCS: Record<string, FuncSpec> = {
  base: p1(basePath),
  dir: p1(dirPath),
  clean: p1(cleanPath),
  ext: p1(extPath),
  isAbs: p1((s) => s.startsWith('/')),
  osBase: p1(basePath),
  osDir: p1(dirPath),
  osClean: p1(cleanPath),
  osExt: p1(extPath),
  osIsAbs: p1((s) => s.startsWith('/')),
};
