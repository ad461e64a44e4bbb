// The one-file install manifests, rendered from deploy/base with `kubectl kustomize`:
//   deploy/release/controller.yaml         CRD, RBAC, ServiceAccount, Services, Deployment
//   deploy/release/controller-norbac.yaml  the same without ServiceAccount and RBAC objects, as
//                                          upstream's controller-norbac.yaml, for clusters where
//                                          identities and RBAC are managed elsewhere
//
//   npm run render-manifests            (re)write them; commit the result
//   node scripts/render-release.mjs --check   exit 1 when the checked-in files differ from a fresh render
//
// test/distribution.test.ts runs the check, so CI fails when deploy/base changes without a re-render.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = join(ROOT, 'deploy/release');
/** What RBAC is managed elsewhere means: these kinds are left out of controller-norbac.yaml. */
export const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

const header = (what) =>
  `# sealed-secrets-ts ${what}\n` +
  '# Generated from deploy/base by scripts/render-release.mjs (kubectl kustomize); do not edit.\n' +
  '# Re-render after changing deploy/base: npm run render-manifests\n';

/** Renders both manifests; returns { 'controller.yaml': text, 'controller-norbac.yaml': text }. */
export function render() {
  const full = execFileSync('kubectl', ['kustomize', join(ROOT, 'deploy/base')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const docs = full.split(/^---\n/m).filter((d) => d.trim() !== '');
  const kinds = docs.map((d) => parseAllDocuments(d)[0].toJS().kind);
  const norbac = docs.filter((_, i) => !RBAC_KINDS.includes(kinds[i]));
  return {
    'controller.yaml': header('controller: CRD, RBAC, ServiceAccount, Services, Deployment') + '---\n' + docs.join('---\n'),
    'controller-norbac.yaml': header('controller without ServiceAccount and RBAC (managed elsewhere)') + '---\n' + norbac.join('---\n'),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const fresh = render();
  if (process.argv.includes('--check')) {
    const stale = Object.keys(fresh).filter((f) => {
      try {
        return readFileSync(join(OUT_DIR, f), 'utf8') !== fresh[f];
      } catch {
        return true;
      }
    });
    if (stale.length) {
      process.stderr.write(`deploy/release/${stale.join(', deploy/release/')} differ from a fresh render of deploy/base; run: npm run render-manifests\n`);
      process.exit(1);
    }
  } else {
    mkdirSync(OUT_DIR, { recursive: true });
    for (const [f, text] of Object.entries(fresh)) writeFileSync(join(OUT_DIR, f), text);
    console.log(Object.keys(fresh).map((f) => `deploy/release/${f}`).join('\n'));
  }
}
