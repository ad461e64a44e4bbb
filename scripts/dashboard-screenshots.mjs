// Bundles scripts/dashboard-screenshots.ts with esbuild (as scripts/build.mjs bundles the others)
// into dist/ and runs it: node scripts/dashboard-screenshots.mjs (after npm run build).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';

const out = new URL('../dist/dashboard-screenshots.cjs', import.meta.url).pathname;
await build({
  entryPoints: [new URL('./dashboard-screenshots.ts', import.meta.url).pathname],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  logOverride: { 'empty-import-meta': 'silent' },
  external: ['node-forge', 'piscina', 'prom-client', 'node-vault'],
});
const r = spawnSync(process.execPath, [out], { stdio: 'inherit' });
process.exit(r.status ?? 1);
