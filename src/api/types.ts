/**
 * Plain-object shapes of the Kubernetes objects this project reads and writes,
 * and the upstream vocabulary (group, annotations, labels, event reasons).
 * Source: bitnami-labs/sealed-secrets pkg/apis/sealedsecrets/v1alpha1/types.go.
 */

export const GROUP = 'bitnami.com';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'SealedSecret';
export const LIST_KIND = 'SealedSecretList';
export const PLURAL = 'sealedsecrets';

const PREFIX = `sealedsecrets.${GROUP}/`;

export const ANNOTATION_NAMESPACE_WIDE = `${PREFIX}namespace-wide`;
export const ANNOTATION_CLUSTER_WIDE = `${PREFIX}cluster-wide`;
export const ANNOTATION_MANAGED = `${PREFIX}managed`;
export const ANNOTATION_PATCH = `${PREFIX}patch`;
export const ANNOTATION_SKIP_SET_OWNER_REFERENCES = `${PREFIX}skip-set-owner-references`;
/** The label that marks a key Secret as one the controller loads. */
export const LABEL_SEALING_KEY = `${PREFIX}sealed-secrets-key`;

/**
 * Our own annotation, ignored by upstream: the fingerprints of the keys that
 * sealed the values, newest first, comma-separated. It is only a hint that lets
 * the controller try the right key first; a wrong or missing hint costs a
 * trial decryption, never a failure.
 */
export const ANNOTATION_KEY_HINT = 'sealed-secrets-ts.io/key-fingerprints';

/** Annotations kubeseal strips from the copied Secret metadata (upstream NewSealedSecret). */
export const STRIPPED_TEMPLATE_ANNOTATIONS: readonly string[] = [
  'kubectl.kubernetes.io/last-applied-configuration',
  'kubecfg.ksonnet.io/last-applied-configuration',
];

export const EVENT_UNSEALED = 'Unsealed';
export const EVENT_ERR_UNSEAL_FAILED = 'ErrUnsealFailed';
export const EVENT_ERR_UPDATE_FAILED = 'ErrUpdateFailed';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number;
  selfLink?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [extra: string]: unknown;
}

export interface Secret {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  type?: string;
  immutable?: boolean;
  /** base64 values */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface SecretTemplateSpec {
  metadata?: ObjectMeta | null;
  type?: string;
  immutable?: boolean;
  /** Go text/template sources rendered over the decrypted values. */
  data?: Record<string, string> | null;
}

export interface SealedSecretCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface SealedSecretStatus {
  observedGeneration?: number;
  conditions?: SealedSecretCondition[];
}

export interface SealedSecretSpec {
  template?: SecretTemplateSpec;
  /** Deprecated v1 format: the whole Secret sealed as one blob (base64). */
  data?: string | null;
  encryptedData: Record<string, string>;
}

export interface SealedSecret {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: SealedSecretSpec;
  status?: SealedSecretStatus;
}

/**
 * An identifier as it may appear in a one-line message: control characters escaped (a name
 * with a newline must not forge a second log line), non-strings shown by type, long ones cut.
 */
export function printable(v: unknown): string {
  if (typeof v !== 'string') return v === undefined || v === null ? '' : `<${Array.isArray(v) ? 'array' : typeof v}>`;
  const cut = v.length > 253 ? `${v.slice(0, 253)}...` : v;
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(cut) ? JSON.stringify(cut) : cut;
}

/** The `ns/name` that names an object in messages. */
export function objectRef(meta: ObjectMeta | undefined | null): string {
  const name = printable(meta?.name) || '<unnamed>';
  const ns = printable(meta?.namespace);
  return ns ? `${ns}/${name}` : name;
}
