// The decisions of scripts/audit.mjs, apart from its I/O so that they can be tested
// (test/audit.test.ts). Sources, in order:
// 1. `npm audit` (the registry's advisory database, POST /-/npm/v1/security/advisories/bulk);
// 2. where that is refused, the `deprecated` field of every locked runtime package version
//    in the registry's version documents: authors deprecate versions with known
//    vulnerabilities ("critical security vulnerability, upgrade to ..."), and that field is
//    served by plain GETs, which mirrors that refuse the audit POST still answer. It is
//    believed only if the registry marks a canary version that is deprecated upstream for
//    good; a mirror that strips the field would otherwise pass everything.

/** Deprecated upstream since 2020 and never to be un-deprecated. */
export const CANARY = { name: 'request', version: '2.88.2' };
/** A deprecation notice that says the version is unsafe, not only unmaintained. */
export const SECURITY_NOTICE = /vulnerab|security|\bCVE-|\bGHSA-|exploit|malicious|compromised|unsafe/i;

/**
 * name@version of every package whose code ships: what `npm ci --omit=dev` installs, and the
 * dev dependencies esbuild bundles into dist/ (package.json `bundledIntoDist`) with everything
 * they depend on, from a v2/v3 package-lock.
 */
export function runtimePackages(lock, bundled = []) {
  const seen = new Map();
  const packages = lock.packages ?? {};
  const add = (path, p) => {
    const name = p.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    seen.set(`${name}@${p.version}`, { name, version: p.version });
  };
  for (const [path, p] of Object.entries(packages)) {
    if (!path || p.dev || p.devOptional || p.link || !p.version) continue;
    add(path, p);
  }
  // A bundled package and its dependencies, resolved as Node does: nested first, then up.
  const resolve = (from, name) => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (packages[path]) return path;
      if (!dir) return undefined;
    }
  };
  const queue = bundled.map((n) => resolve('', n)).filter(Boolean);
  const done = new Set();
  while (queue.length) {
    const path = queue.pop();
    if (done.has(path)) continue;
    done.add(path);
    const p = packages[path];
    if (!p?.version || p.link) continue;
    add(path, p);
    for (const dep of Object.keys({ ...(p.dependencies ?? {}), ...(p.optionalDependencies ?? {}) })) {
      const d = resolve(path, dep);
      if (d) queue.push(d);
    }
  }
  return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * npmAudit(): { vulnerabilities } when the audit endpoint answered, else { why }.
 * versionDoc(name, version): the registry's document of that version (rejects on failure).
 * Resolves with { outcome, exitCode, lines }: outcome 'vulnerable' | 'clean' (audited),
 * 'deprecated-insecure' | 'deprecations-clean' | 'partial' (deprecation check), 'unaudited'.
 * Without strict, only findings fail; with strict (AUDIT_STRICT=1), so does checking nothing.
 */
export async function decide({ npmAudit, versionDoc, lock, bundled = [], strict = false, concurrency = 8 }) {
  const lines = [];
  const say = (l) => lines.push(`[audit] ${l}`);
  const a = await npmAudit();
  if (a.vulnerabilities) {
    const v = a.vulnerabilities;
    say(`runtime dependencies: ${v.critical ?? 0} critical, ${v.high ?? 0} high, ${v.moderate ?? 0} moderate, ${v.low ?? 0} low`);
    const bad = (v.high ?? 0) + (v.critical ?? 0);
    return { outcome: bad > 0 ? 'vulnerable' : 'clean', exitCode: bad > 0 ? 1 : 0, lines };
  }
  say(`npm audit could not run here (${a.why}); NO advisory database answered`);
  const unaudited = (why) => {
    say(`${why}; dependencies NOT audited in this run${strict ? ' (AUDIT_STRICT=1: failing)' : ''}`);
    return { outcome: 'unaudited', exitCode: strict ? 1 : 0, lines };
  };
  let canary;
  try {
    canary = await versionDoc(CANARY.name, CANARY.version);
  } catch (e) {
    return unaudited(`the registry did not answer the deprecation check either (${e?.message ?? e})`);
  }
  if (!canary || typeof canary.deprecated !== 'string' || !canary.deprecated) {
    return unaudited(`the registry does not serve deprecation notices (${CANARY.name}@${CANARY.version}, deprecated upstream, is not marked deprecated here), so the fallback cannot tell a deprecated version from a sound one`);
  }
  const pkgs = runtimePackages(lock, bundled);
  const deprecated = [];
  const unchecked = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, pkgs.length) }, async () => {
      while (next < pkgs.length) {
        const p = pkgs[next++];
        try {
          const doc = await versionDoc(p.name, p.version);
          if (typeof doc?.deprecated === 'string' && doc.deprecated) deprecated.push({ ...p, notice: doc.deprecated });
        } catch {
          unchecked.push(p);
        }
      }
    }),
  );
  const insecure = deprecated.filter((d) => SECURITY_NOTICE.test(d.notice));
  say(`fallback: deprecation notices of the ${pkgs.length} locked runtime package versions (not an advisory database: a vulnerable version its author did not deprecate passes)`);
  for (const d of deprecated) say(`${SECURITY_NOTICE.test(d.notice) ? 'INSECURE' : 'deprecated'}: ${d.name}@${d.version}: ${d.notice.replace(/\s+/g, ' ').slice(0, 200)}`);
  if (insecure.length) {
    say(`${insecure.length} runtime package version(s) deprecated for security reasons: upgrade them`);
    return { outcome: 'deprecated-insecure', exitCode: 1, lines };
  }
  if (unchecked.length) {
    say(`${unchecked.length} package version(s) could not be looked up (${unchecked.slice(0, 5).map((p) => `${p.name}@${p.version}`).join(', ')}${unchecked.length > 5 ? ', ...' : ''}); the check is INCOMPLETE${strict ? ' (AUDIT_STRICT=1: failing)' : ''}`);
    return { outcome: 'partial', exitCode: strict ? 1 : 0, lines };
  }
  say(`no runtime package version is deprecated for security reasons (${deprecated.length} deprecated otherwise)`);
  return { outcome: 'deprecations-clean', exitCode: 0, lines };
}
