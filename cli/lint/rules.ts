/**
 * The rules of `kubeseal lint`: what can be known about a repository of SealedSecrets
 * with no cluster and no private key. Every rule reads public material only (the
 * ciphertexts' framing, annotations, templates, kustomizations, certificates); the one
 * rule that sees plaintext (a Secret committed as it is) reports key names, never values.
 */
export type Severity = 'error' | 'warning';

export interface RuleInfo {
  id: string;
  severity: Severity;
  name: string;
  short: string;
  help: string;
}

export const RULES: readonly RuleInfo[] = [
  {
    id: 'plaintext-secret',
    severity: 'error',
    name: 'PlaintextSecret',
    short: 'A Secret with plaintext values is committed',
    help: 'Seal it (kubeseal -f secret.yaml -w secret.sealed.yaml), delete the plaintext file, and rotate the values if the commit was pushed: Git history keeps them.',
  },
  {
    id: 'scope-mismatch',
    severity: 'error',
    name: 'ScopeMismatch',
    short: 'The overlay deploys the SealedSecret under a namespace or name its scope does not allow',
    help: 'The sealed values are bound to the namespace/name they were sealed for (strict scope: both; namespace-wide: the namespace). Reseal for where kustomize puts it (kubeseal -f secret.yaml -w PATH seals for the overlay of PATH), or seal with --scope namespace-wide or cluster-wide.',
  },
  {
    id: 'wrong-key-size',
    severity: 'error',
    name: 'WrongKeySize',
    short: "The cluster's key cannot have sealed this value (the RSA block size differs)",
    help: "Every sealed value starts with an RSA block exactly as long as the sealing key's modulus. Reseal it with the certificate of the cluster the path deploys to (kubeseal -f secret.yaml -w PATH picks it from .sealed-secrets.yaml).",
  },
  {
    id: 'wrong-cluster-key',
    severity: 'error',
    name: 'WrongClusterKey',
    short: "Sealed with another cluster's key",
    help: "The key-fingerprints annotation names another cluster's certificate: reseal it for the cluster the path deploys to (kubeseal -f secret.yaml -w PATH), or give both clusters one key (sealed-secrets-keys backup / restore).",
  },
  {
    id: 'stale-key',
    severity: 'warning',
    name: 'StaleKey',
    short: "Sealed with a key that is not the cluster's current certificate",
    help: 'After a key rotation, re-encrypt to the current key (kubeseal --re-encrypt -f DIR), then retire the old key; if the cluster never had that key, reseal it for this cluster.',
  },
  {
    id: 'cert-expired',
    severity: 'error',
    name: 'CertificateExpired',
    short: 'A certificate in .sealed-secrets.yaml has expired',
    help: 'Fetch the current certificate (kubeseal --fetch-cert --context CLUSTER > certs/NAME.pem) and commit it; kubeseal refuses to seal with an expired one.',
  },
  {
    id: 'cert-expiring',
    severity: 'warning',
    name: 'CertificateExpiring',
    short: 'A certificate in .sealed-secrets.yaml expires soon',
    help: 'Rotate the controller key before then (sealed-secrets-keys rotate), fetch the new certificate (kubeseal --fetch-cert) and commit it.',
  },
  {
    id: 'cert-unreadable',
    severity: 'error',
    name: 'CertificateUnreadable',
    short: 'A certificate in .sealed-secrets.yaml cannot be read',
    help: 'Check the cert: path (relative to .sealed-secrets.yaml) names a PEM certificate: kubeseal --fetch-cert > certs/NAME.pem.',
  },
  {
    id: 'template-error',
    severity: 'error',
    name: 'TemplateError',
    short: 'A spec.template.data template cannot be parsed',
    help: 'Fix the template: the controller refuses it (ErrUnsealFailed) before it opens any value. See "spec.template.data" in the README for what templates support.',
  },
  {
    id: 'template-missing-item',
    severity: 'error',
    name: 'TemplateMissingItem',
    short: 'A template refers to an item that the SealedSecret does not have',
    help: 'A template sees the encryptedData items: seal the missing item (kubeseal --merge-into), or fix the reference.',
  },
  {
    id: 'invalid-ciphertext',
    severity: 'error',
    name: 'InvalidCiphertext',
    short: 'An encryptedData value is not a sealed value',
    help: 'encryptedData values are the base64 that kubeseal prints: reseal the item (kubeseal --merge-into).',
  },
  {
    id: 'duplicate',
    severity: 'error',
    name: 'Duplicate',
    short: 'Two SealedSecrets deploy to the same cluster, namespace and name',
    help: 'Only one of them can own the Secret: remove one, or rename it (and reseal: strict scope binds the name).',
  },
  {
    id: 'no-cluster',
    severity: 'warning',
    name: 'NoCluster',
    short: 'No paths: entry of .sealed-secrets.yaml says where this SealedSecret deploys',
    help: 'Add a paths: entry (match: GLOB, clusters: [NAME]) so kubeseal and lint know the cluster.',
  },
  {
    id: 'kustomize-resource',
    severity: 'error',
    name: 'KustomizeResource',
    short: 'A kustomization names a resource that does not exist',
    help: 'Fix the path, or remove the entry: kustomize build fails on it.',
  },
  {
    id: 'invalid-yaml',
    severity: 'error',
    name: 'InvalidYaml',
    short: 'A manifest is not valid YAML',
    help: 'Fix the YAML: kubectl, Argo CD and Flux cannot read it.',
  },
];

export const RULE_BY_ID = new Map(RULES.map((r) => [r.id, r]));

export interface Finding {
  rule: string;
  severity: Severity;
  /** Relative to the working directory, `/`-separated. */
  file: string;
  line?: number;
  column?: number;
  /** `Kind namespace/name`, when the finding is about one object. */
  object?: { kind: string; namespace?: string; name?: string };
  message: string;
  help: string;
}

/**
 * The encryptedData items a template refers to, found by a conservative scan of its text:
 * `.key` (a field of dot at the start of an operand) and `index . "key"`. Templates that
 * change dot (range, with, define, template, block) or use variables are not scanned, so
 * a reference is reported only when it certainly names an item of the SealedSecret.
 */
export function referencedItems(template: string): string[] | undefined {
  if (/\{\{-?\s*(range|with|define|template|block)\b/.test(template) || /\$/.test(template.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, ''))) return undefined;
  const out = new Set<string>();
  for (const m of template.matchAll(/\{\{(.*?)\}\}/gs)) {
    let action = m[1]!.replace(/^-\s/, '').replace(/\s-$/, '');
    if (/^\s*\/\*/.test(action)) continue;
    for (const im of action.matchAll(/\bindex\s+\.\s+"((?:[^"\\]|\\.)*)"/g)) {
      try {
        out.add(JSON.parse(`"${im[1]}"`) as string);
      } catch {
        // An escape JSON does not know: Go would parse it; leave it unchecked.
      }
    }
    action = action.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, '""');
    for (const fm of action.matchAll(/(^|[\s(|,])\.([A-Za-z_][A-Za-z0-9_]*)/g)) out.add(fm[2]!);
  }
  return [...out];
}
