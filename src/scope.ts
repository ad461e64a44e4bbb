/**
 * Sealing scopes and their RSA-OAEP labels.
 * Source: upstream pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go
 * (EncryptionLabel, SecretScope, UpdateScopeAnnotations).
 *
 * The strict label is `namespace/name`, with a slash (upstream's crypto.md says
 * "concatenation", which is wrong; the code is right).
 */
import { ANNOTATION_CLUSTER_WIDE, ANNOTATION_NAMESPACE_WIDE } from './api/types.js';
import { SealedSecretsError } from './errors.js';

export const SCOPES = ['strict', 'namespace-wide', 'cluster-wide'] as const;
export type Scope = (typeof SCOPES)[number];
export const DEFAULT_SCOPE: Scope = 'strict';

export function parseScope(value: string): Scope {
  if (value === '') return DEFAULT_SCOPE;
  if ((SCOPES as readonly string[]).includes(value)) return value as Scope;
  throw new SealedSecretsError('ERR_SCOPE', `unknown scope "${value}": must be one of: ${SCOPES.join(', ')}`);
}

/** The scope an object's annotations select: value exactly "true" counts, cluster-wide wins. */
export function scopeFromAnnotations(annotations: Record<string, string> | undefined | null): Scope {
  if (annotations?.[ANNOTATION_CLUSTER_WIDE] === 'true') return 'cluster-wide';
  if (annotations?.[ANNOTATION_NAMESPACE_WIDE] === 'true') return 'namespace-wide';
  return 'strict';
}

/** Returns a copy of `annotations` with exactly the annotation for `scope` (none for strict). */
export function withScopeAnnotations(
  annotations: Record<string, string> | undefined | null,
  scope: Scope,
): Record<string, string> {
  const out: Record<string, string> = { ...(annotations ?? {}) };
  delete out[ANNOTATION_CLUSTER_WIDE];
  delete out[ANNOTATION_NAMESPACE_WIDE];
  if (scope === 'cluster-wide') out[ANNOTATION_CLUSTER_WIDE] = 'true';
  if (scope === 'namespace-wide') out[ANNOTATION_NAMESPACE_WIDE] = 'true';
  return out;
}

const encoder = new TextEncoder();

/** The OAEP label bytes for an object of this namespace, name and scope. */
export function encryptionLabel(namespace: string, name: string, scope: Scope): Uint8Array {
  switch (scope) {
    case 'cluster-wide':
      return new Uint8Array(0);
    case 'namespace-wide':
      return encoder.encode(namespace);
    case 'strict':
      return encoder.encode(`${namespace}/${name}`);
  }
}
