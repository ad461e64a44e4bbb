/** Generated repository trees and controller keys for the fleet tests (routing, lint, kustomize). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { buildSelfSignedCertificate, generateRsaKeyPair, type KeySize } from '../../src/index.js';
import { kubeseal } from '../cli-helpers.js';

export interface ControllerKey {
  certPem: string;
  keyPem: string;
}

/** A controller key and its self-signed certificate, valid from `notBefore` for `days`. */
export async function controllerKey(bits: KeySize = 2048, opts: { notBefore?: Date; days?: number } = {}): Promise<ControllerKey> {
  const { privateKey, publicKey } = await generateRsaKeyPair(bits);
  const certPem = await buildSelfSignedCertificate({ publicKey, privateKey, notBefore: opts.notBefore ?? new Date(Date.now() - 3600_000), ttlMs: (opts.days ?? 3650) * 86_400_000 });
  return { certPem, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Writes files (creating folders) under a new temporary directory, or `dir`. */
export function tree(files: Record<string, string>, dir = mkdtempSync(join(tmpdir(), 'fleet-'))): string {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return dir;
}

export const CONFIG = `clusters:
  dev:  {cert: certs/dev.pem}          # a file relative to this config, or an https URL
  prod: {cert: certs/prod.pem}
paths:                                  # first match wins
  - match: overlays/dev/**
    clusters: [dev]
  - match: overlays/prod/**
    clusters: [prod]
`;

export const secretYaml = (name: string, values: Record<string, string>, extra = '') =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\n${extra}stringData:\n${Object.entries(values).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`).join('')}`;

export function readYamlObjects(text: string): Record<string, any>[] {
  return parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
}

export function readYamlFile(path: string): Record<string, any> {
  return readYamlObjects(readFileSync(path, 'utf8'))[0]!;
}

/** `kubectl kustomize DIR`: the objects the real kustomize builds. */
export function kustomizeBuild(dir: string): Record<string, any>[] {
  return readYamlObjects(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Opens a SealedSecret (as deployed) with a private key, through kubeseal --recovery-unseal. */
export async function unsealWith(ss: Record<string, any>, keyPem: string, dir: string): Promise<{ code: number | null; data?: Record<string, string>; stderr: string }> {
  const keyFile = join(dir, `.k-${Math.random().toString(36).slice(2)}.pem`);
  writeFileSync(keyFile, keyPem);
  const r = await kubeseal(['--recovery-unseal', '--recovery-private-key', keyFile, '-o', 'json'], { input: JSON.stringify(ss), cwd: dir });
  if (r.code !== 0) return { code: r.code, stderr: r.stderr };
  const s = JSON.parse(r.stdout);
  return { code: 0, stderr: r.stderr, data: Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) };
}

export { stringify };
