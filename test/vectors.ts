/** Loads the upstream cross-compatibility vectors copied from ../shared/vectors/bitnami. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('./vectors/bitnami/', import.meta.url));

export interface VectorKey {
  id: string;
  bits: number;
  privateKeyPem: string;
  privateKeyPkcs8Pem: string;
  publicKeyPem: string;
  certPem: string;
  certNotBefore: string;
  certNotAfter: string;
  fingerprint: string;
}

export interface HybridCase {
  id: string;
  kind: 'positive' | 'negative' | 'multikey';
  description: string;
  keyId?: string;
  privateKeyPem?: string;
  keyIds?: string[];
  privateKeyPems?: string[];
  certPem: string;
  scope: string;
  namespace: string;
  name: string;
  labelB64: string;
  plaintextB64: string;
  ciphertextB64: string;
  expected: { ok: boolean; plaintextSha256?: string; error?: string };
}

export interface SealedSecretCase {
  id: string;
  description: string;
  keyId: string;
  privateKeyPem: string;
  certPem: string;
  sealedScope: string;
  sealedNamespace: string;
  sealedName: string;
  inputSecretDataB64: Record<string, string>;
  sealedSecret: any;
  expected: { ok: boolean; secret?: any; errorPrefix?: string; errorMentions?: string[] };
}

function load<T>(file: string): T[] {
  return (JSON.parse(readFileSync(dir + file, 'utf8')) as { cases: T[] }).cases;
}

export const vectorKeys = (): VectorKey[] => load<VectorKey>('keys.json');
export const hybridCases = (file: 'hybrid-positive.json' | 'hybrid-negative.json' | 'hybrid-multikey.json'): HybridCase[] =>
  load<HybridCase>(file);
export const sealedSecretCases = (): SealedSecretCase[] => load<SealedSecretCase>('sealedsecrets.json');
