/**
 * Secret -> SealedSecret (what kubeseal does) and SealedSecret -> Secret (what
 * the controller does), one implementation for the CLI and the controller.
 * Source: upstream NewSealedSecret / Unseal in
 * pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go.
 */
import type { KeyObject } from 'node:crypto';
import {
  ANNOTATION_KEY_HINT,
  ANNOTATION_SKIP_SET_OWNER_REFERENCES,
  API_VERSION,
  KIND,
  STRIPPED_TEMPLATE_ANNOTATIONS,
  objectRef,
  printable,
  type ObjectMeta,
  type SealedSecret,
  type Secret,
} from './api/types.js';
import { hybridEncrypt } from './crypto/hybrid.js';
import { SealedSecretsError, inContext, isSealedSecretsError } from './errors.js';

const inContextOf = (e: unknown, context: string) => (e instanceof SealedSecretsError ? inContext(e, context) : e);
import type { KeyRing } from './keyring.js';
import { encryptionLabel, scopeFromAnnotations, withScopeAnnotations, type Scope } from './scope.js';
import { TemplateBudget, parseTemplate, renderParsed } from './template.js';

/** The message upstream gives when no key opens a value; users and tools grep for it. */
export const NO_KEY_COULD_DECRYPT = 'no key could decrypt secret';
const DECRYPT_HINT =
  'it was sealed for another controller key, or for another namespace, name or scope (strict scope binds both namespace and name)';

export interface SealingKey {
  publicKey: KeyObject;
  /** Recorded as a hint for the controller; omitted when unknown. */
  fingerprint?: string;
}

export interface SealOptions {
  /** An explicit scope (flag); otherwise the Secret's scope annotations decide. */
  scope?: Scope;
  allowEmptyData?: boolean;
  /** --name: overrides the Secret's name. */
  name?: string;
  /** An explicit -n/--namespace; must agree with the Secret's own namespace. */
  namespace?: string;
  /** The namespace used when neither the Secret nor the flag gives one (kubeconfig or "default"). */
  defaultNamespace?: string;
}

/** Strict standard base64 with padding, as Go's base64.StdEncoding; returns the offset of the first bad byte. */
export function decodeBase64Strict(s: string): Buffer | number {
  // Go's decoder skips \r and \n; everything else must be in the alphabet.
  const clean = s.includes('\n') || s.includes('\r') ? s.replace(/[\r\n]/g, '') : s;
  const m = /[^A-Za-z0-9+/=]/.exec(clean);
  if (m) return m.index;
  const pad = clean.indexOf('=');
  if (pad >= 0 && !/^={1,2}$/.test(clean.slice(pad))) return pad;
  if (clean.length % 4 !== 0) return clean.length - (clean.length % 4);
  if (pad >= 0 && pad % 4 < 2) return pad;
  return Buffer.from(clean, 'base64');
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const SERVER_FIELDS = [
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'ownerReferences',
] as const;

/** Seals one Secret into a SealedSecret, exactly as upstream kubeseal builds it. */
export function sealSecret(secret: Secret, key: SealingKey, options: SealOptions = {}): SealedSecret {
  if (secret === null || typeof secret !== 'object' || Array.isArray(secret)) {
    throw new SealedSecretsError('ERR_INVALID_INPUT', 'the input is not a Kubernetes object');
  }
  const ref = objectRef(secret.metadata);
  if (secret.kind !== undefined && secret.kind !== 'Secret') {
    throw new SealedSecretsError('ERR_WRONG_KIND', `${printable(secret.kind)} ${ref} is not a Secret`, {
      hint: 'kubeseal seals objects of kind Secret (apiVersion v1)',
    });
  }
  if (secret.metadata !== undefined) {
    try {
      assertMetadataShape(secret.metadata, 'metadata');
    } catch (e) {
      throw inContextOf(e, `Secret ${ref}`);
    }
  }
  const meta: ObjectMeta = structuredClone(secret.metadata ?? {});
  const data = secret.data ?? {};
  const stringData = secret.stringData ?? {};
  for (const [field, rec] of [['data', data], ['stringData', stringData]] as const) {
    if (typeof rec !== 'object' || Array.isArray(rec) || Object.values(rec).some((v) => typeof v !== 'string')) {
      throw new SealedSecretsError('ERR_INVALID_INPUT', `Secret ${ref}: ${field} must map keys to strings`);
    }
  }
  if (!options.allowEmptyData && Object.keys(data).length === 0 && Object.keys(stringData).length === 0) {
    throw new SealedSecretsError('ERR_EMPTY_DATA', `Secret ${ref} has no data or stringData`, {
      hint: 'add at least one item, or pass --allow-empty-data to seal it anyway',
    });
  }

  if (options.name) meta.name = options.name;
  if (!meta.name) {
    throw new SealedSecretsError('ERR_NAME', 'the Secret has no metadata.name', { hint: 'set metadata.name or pass --name' });
  }
  const scope: Scope = options.scope ?? scopeFromAnnotations(meta.annotations);
  meta.annotations = withScopeAnnotations(meta.annotations, scope);
  if (Object.keys(meta.annotations).length === 0) delete meta.annotations;

  if (scope !== 'cluster-wide') {
    if (options.namespace && meta.namespace && options.namespace !== meta.namespace) {
      throw new SealedSecretsError(
        'ERR_NAME',
        `namespace mismatch: input secret is in namespace "${meta.namespace}" but "${options.namespace}" was specified`,
        { hint: 'drop --namespace, or change metadata.namespace of the Secret' },
      );
    }
    if (!meta.namespace) meta.namespace = options.namespace || options.defaultNamespace || 'default';
  }
  for (const f of SERVER_FIELDS) delete meta[f];
  if (meta.annotations) {
    for (const a of STRIPPED_TEMPLATE_ANNOTATIONS) delete meta.annotations[a];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }

  const label = encryptionLabel(meta.namespace ?? '', meta.name, scope);
  const encryptedData: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    const bytes = decodeBase64Strict(v);
    if (typeof bytes === 'number') {
      throw new SealedSecretsError('ERR_BAD_BASE64', `Secret ${objectRef(meta)}: data["${k}"] is not valid base64`, {
        hint: 'values under data are base64; put plain text under stringData instead',
      });
    }
    encryptedData[k] = hybridEncrypt(key.publicKey, bytes, label).toString('base64');
  }
  for (const [k, v] of Object.entries(stringData)) {
    encryptedData[k] = hybridEncrypt(key.publicKey, Buffer.from(v, 'utf8'), label).toString('base64');
  }

  const topAnnotations = withScopeAnnotations(undefined, scope);
  if (key.fingerprint) topAnnotations[ANNOTATION_KEY_HINT] = key.fingerprint;
  const topMeta: ObjectMeta = { name: meta.name };
  if (meta.namespace) topMeta.namespace = meta.namespace;
  if (Object.keys(topAnnotations).length) topMeta.annotations = sortedRecord(topAnnotations);

  const template: SealedSecret['spec']['template'] = { metadata: meta };
  if (secret.type) template.type = secret.type;
  if (secret.immutable !== undefined) template.immutable = secret.immutable;
  return {
    kind: KIND,
    apiVersion: API_VERSION,
    metadata: topMeta,
    spec: { template, encryptedData: sortedRecord(encryptedData) },
  };
}

/** The items of a SealedSecret to decrypt, and what binds them; the part of unsealing that needs no key. */
export interface UnsealPlan {
  ref: string;
  label: Uint8Array;
  hints: string[];
  items: { key: string; blob: Buffer }[];
  /** The deprecated v1 blob, when spec.data is used. */
  v1Blob?: Buffer;
}

export interface UnsealOptions {
  /** upstream --accept-deprecated-v1-data (default true). */
  acceptDeprecatedV1Data?: boolean;
  /** Fingerprints to try first, before the object's own hint (e.g. the key that opened it last time). */
  extraHints?: readonly string[];
  /** A clock (ms) to time the decryption alone with (UnsealResult.decryptMs). */
  clock?: () => number;
}

/** Kubernetes would refuse these; say so here, naming the field, rather than produce a broken object. */
export function assertMetadataShape(meta: unknown, where: string): void {
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw new SealedSecretsError('ERR_INVALID_INPUT', `${where} must be an object`);
  const m = meta as Record<string, unknown>;
  for (const f of ['name', 'namespace', 'generateName'] as const) {
    if (m[f] !== undefined && m[f] !== null && typeof m[f] !== 'string') throw new SealedSecretsError('ERR_INVALID_INPUT', `${where}.${f} must be a string`);
  }
  for (const f of ['labels', 'annotations'] as const) {
    const r = m[f];
    if (r === undefined || r === null) continue;
    if (typeof r !== 'object' || Array.isArray(r)) throw new SealedSecretsError('ERR_INVALID_INPUT', `${where}.${f} must map keys to strings`);
    for (const [k, v] of Object.entries(r)) {
      if (typeof v !== 'string') {
        throw new SealedSecretsError('ERR_INVALID_INPUT', `${where}.${f}["${k}"] must be a string, not ${v === null ? 'null' : typeof v}`, {
          hint: 'quote the value in YAML, e.g. "true"',
        });
      }
    }
  }
}

function assertSealedSecretShape(ss: SealedSecret): void {
  if (ss === null || typeof ss !== 'object' || Array.isArray(ss)) {
    throw new SealedSecretsError('ERR_INVALID_INPUT', 'the input is not a Kubernetes object');
  }
  const ref = objectRef(ss.metadata);
  if (ss.kind !== undefined && ss.kind !== KIND) {
    throw new SealedSecretsError('ERR_WRONG_KIND', `${printable(ss.kind)} ${ref} is not a SealedSecret`);
  }
  if (!ss.metadata || typeof ss.metadata !== 'object' || typeof ss.metadata.name !== 'string' || !ss.metadata.name) {
    throw new SealedSecretsError('ERR_INVALID_INPUT', 'the SealedSecret has no metadata.name');
  }
  assertMetadataShape(ss.metadata, 'metadata');
  if (!ss.spec || typeof ss.spec !== 'object' || Array.isArray(ss.spec)) {
    throw new SealedSecretsError('ERR_INVALID_INPUT', 'the SealedSecret has no spec');
  }
  const t = ss.spec.template;
  if (t !== undefined && t !== null && (typeof t !== 'object' || Array.isArray(t))) throw new SealedSecretsError('ERR_INVALID_INPUT', 'spec.template must be an object');
  if (t?.metadata !== undefined && t.metadata !== null) assertMetadataShape(t.metadata, 'spec.template.metadata');
  if (t?.data !== undefined && t.data !== null && (typeof t.data !== 'object' || Array.isArray(t.data))) throw new SealedSecretsError('ERR_INVALID_INPUT', 'spec.template.data must map keys to templates');
}

/** Splits the hint annotation into fingerprints. */
export function keyHints(meta: ObjectMeta | undefined): string[] {
  const v = meta?.annotations?.[ANNOTATION_KEY_HINT];
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/**
 * Validates a SealedSecret and lists what must be decrypted. The label comes from
 * the SealedSecret's own top-level metadata (name, namespace, scope annotations),
 * never from spec.template.metadata, exactly as upstream.
 */
export function planUnseal(ss: SealedSecret, options: UnsealOptions = {}): UnsealPlan {
  assertSealedSecretShape(ss);
  const meta = ss.metadata;
  const ref = objectRef(meta);
  const label = encryptionLabel(meta.namespace ?? '', meta.name!, scopeFromAnnotations(meta.annotations));
  const hints = [...new Set([...(options.extraHints ?? []), ...keyHints(meta)])];
  // Lenient like upstream: a non-string value keeps its key and then fails to decrypt.
  const raw = ss.spec.encryptedData;
  const encryptedData: Record<string, unknown> = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};

  if (ss.spec.data !== undefined && ss.spec.data !== null) {
    if (Object.keys(encryptedData).length > 0) {
      throw new SealedSecretsError(
        'ERR_DEPRECATED_V1',
        "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time",
        { hint: 'reseal it with a current kubeseal, which writes encryptedData only' },
      );
    }
    if (options.acceptDeprecatedV1Data === false) {
      throw new SealedSecretsError(
        'ERR_DEPRECATED_V1',
        "using deprecated 'data' field, use 'encryptedData' or flip the feature flag",
        { hint: 'reseal it with a current kubeseal, or run the controller with --accept-deprecated-v1-data' },
      );
    }
    const blob = typeof ss.spec.data === 'string' ? decodeBase64Strict(ss.spec.data) : 0;
    if (typeof blob === 'number') {
      throw new SealedSecretsError('ERR_BAD_BASE64', `illegal base64 data at input byte ${blob} (spec.data)`);
    }
    return { ref, label, hints, items: [], v1Blob: blob };
  }

  const items: UnsealPlan['items'] = [];
  const bad: string[] = [];
  let firstBadOffset = 0;
  for (const k of Object.keys(encryptedData).sort()) {
    const v = encryptedData[k];
    const blob = typeof v === 'string' ? decodeBase64Strict(v) : Buffer.alloc(0);
    if (typeof blob === 'number') {
      if (bad.length === 0) firstBadOffset = blob;
      bad.push(k);
    } else {
      items.push({ key: k, blob });
    }
  }
  if (bad.length) {
    throw new SealedSecretsError(
      'ERR_BAD_BASE64',
      `illegal base64 data at input byte ${firstBadOffset} (${bad.join(', ')})`,
      { hint: 'encryptedData values must be the standard base64 that kubeseal prints; reseal the items' },
    );
  }
  return { ref, label, hints, items };
}

/**
 * The uniform failure for items no key opens. Unseal errors carry upstream's
 * message text (status messages stay comparable); callers name the object.
 */
export function decryptError(keys: readonly string[]): SealedSecretsError {
  const tag = keys.length ? ` (${[...keys].sort().join(', ')})` : '';
  return new SealedSecretsError('ERR_DECRYPT', `${NO_KEY_COULD_DECRYPT}${tag}`, { hint: DECRYPT_HINT });
}

/** Kubernetes refuses a Secret whose data values add up to more (core.MaxSecretSize). */
export const MAX_SECRET_DATA_BYTES = 1024 * 1024;

const DOCKER_CONFIG_KEYS: Record<string, string> = { 'kubernetes.io/dockercfg': '.dockercfg', 'kubernetes.io/dockerconfigjson': '.dockerconfigjson' };

/**
 * The keys each Secret type must have (Kubernetes 1.20 ValidateSecret), with the value the
 * placeholder gives each: the API server checks that they exist, that a docker config is a
 * JSON object and that an ssh private key is not empty; nothing else about their values.
 */
const REQUIRED_KEYS: Record<string, Record<string, string>> = {
  'kubernetes.io/dockercfg': { '.dockercfg': '{}' },
  'kubernetes.io/dockerconfigjson': { '.dockerconfigjson': '{}' },
  'kubernetes.io/ssh-auth': { 'ssh-privatekey': 'not unsealed: see the annotation sealed-secrets-ts.io/unseal-error' },
  'kubernetes.io/tls': { 'tls.crt': '', 'tls.key': '' },
  'kubernetes.io/basic-auth': { username: '', password: '' },
};

/** Go's encoding/json nests at most this deep (Go 1.15+, the API server's). */
const GO_JSON_MAX_DEPTH = 10_000;

/**
 * Whether Go's json.Unmarshal into a map[string]interface{} accepts the bytes, as the API
 * server's ValidateSecret runs it on docker configs: JSON's syntax (JSON.parse agrees with
 * Go on it), an object or null at the top, every number within float64 (Go refuses 1e400,
 * JSON.parse makes it Infinity) and at most 10,000 levels of nesting.
 */
export function goJsonObjectAccepts(bytes: Buffer): boolean {
  const text = bytes.toString('utf8');
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > GO_JSON_MAX_DEPTH) return false;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) return false;
  const stack: unknown[] = [parsed];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'number' && !Number.isFinite(v)) return false;
    if (v && typeof v === 'object') for (const x of Object.values(v)) stack.push(x);
  }
  return true;
}

/** What ValidateSecret refuses in a data key's name (IsConfigMapKey): public, from the keys alone. */
function checkKeyName(k: string): void {
  if (k.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(k) || k === '.' || k === '..' || k.startsWith('..')) {
    throw new SealedSecretsError('ERR_INVALID_INPUT', `data key "${printable(k)}" is not a valid Secret key`, { hint: "use letters, digits, '-', '_' and '.', at most 253 characters, not starting with '..'" });
  }
}

/**
 * What the API server would refuse in the data for reasons that depend on the values: the
 * total size, a docker config Go's JSON decoder refuses (its error text quotes a character of
 * the value), an empty ssh private key. Checked here so that the refusal is an ERR_VALUE,
 * reported only on the Secret. (The reconciler also treats any refusal of the data that the
 * placeholder does not share as one: these checks spare it the second write.)
 */
function checkValues(data: ReadonlyMap<string, Buffer>, type: string | undefined, rendered: boolean): void {
  let total = 0;
  for (const v of data.values()) total += v.length;
  if (total > MAX_SECRET_DATA_BYTES) {
    const msg = `the Secret's data would be over Kubernetes' limit of ${MAX_SECRET_DATA_BYTES} bytes`;
    // Without templates the size follows from the ciphertexts' lengths, which are public.
    if (!rendered) throw new SealedSecretsError('ERR_TOO_LARGE', msg, { hint: 'split the values over several SealedSecrets' });
    throw new SealedSecretsError('ERR_VALUE', msg, { hint: 'the templates make the data too large: fix the templates' });
  }
  const key = type ? DOCKER_CONFIG_KEYS[type] : undefined;
  const cfg = key ? data.get(key) : undefined;
  if (cfg && !goJsonObjectAccepts(cfg)) {
    throw new SealedSecretsError('ERR_VALUE', `data["${key}"] is not a JSON object the API server accepts, which a Secret of type ${type} needs`, { hint: 'seal a valid docker config as this item' });
  }
  const ssh = type === 'kubernetes.io/ssh-auth' ? data.get('ssh-privatekey') : undefined;
  if (ssh && ssh.length === 0) throw new SealedSecretsError('ERR_VALUE', 'data["ssh-privatekey"] is empty, which a Secret of type kubernetes.io/ssh-auth refuses', { hint: 'seal the private key as this item' });
}

/** The data keys the Secret will have: encryptedData's and template.data's, less those a null template deletes. Public. */
export function publicDataKeys(ss: SealedSecret): string[] {
  const keys = new Set(Object.keys(ss.spec.encryptedData && typeof ss.spec.encryptedData === 'object' ? ss.spec.encryptedData : {}));
  const templates = ss.spec.template?.data && typeof ss.spec.template.data === 'object' ? ss.spec.template.data : {};
  for (const [k, v] of Object.entries(templates)) {
    if (v === null || v === undefined) keys.delete(k);
    else keys.add(k);
  }
  return [...keys].sort();
}

/**
 * Builds the Secret the controller creates, from a SealedSecret and its decrypted
 * items (a map from encryptedData key to plaintext), or from the decrypted v1 blob.
 * Throws what the public inputs alone show (ERR_TEMPLATE for the templates, checked for
 * every template before any is rendered; ERR_INVALID_INPUT for key names), and ERR_VALUE
 * for what depends on the values (see unsealSealedSecret): every template is rendered even
 * after one fails, so how far rendering gets does not depend on where a value fails.
 */
export function buildSecret(ss: SealedSecret, plaintexts: ReadonlyMap<string, Buffer>, v1Plaintext?: Buffer): Secret {
  const meta = ss.metadata;
  let secret: Secret;
  if (v1Plaintext) {
    // The whole Secret is inside the ciphertext, so everything about it depends on the values,
    // and an attacker can paste any item's ciphertext here (the label is the same). Only its
    // data (and type) are taken; its metadata (ownership annotations, resourceVersion, nesting)
    // never reaches the API server or the reconciler.
    let parsed: unknown;
    try {
      parsed = JSON.parse(v1Plaintext.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new SealedSecretsError('ERR_VALUE', 'the deprecated spec.data does not hold a Secret', { hint: 'reseal it with a current kubeseal' });
    }
    const inner = parsed as { type?: unknown; data?: unknown; stringData?: unknown };
    const decoded = new Map<string, Buffer>();
    const malformed = () => new SealedSecretsError('ERR_VALUE', 'the deprecated spec.data holds a Secret with malformed data', { hint: 'reseal it with a current kubeseal' });
    for (const [field, binary] of [['data', true], ['stringData', false]] as const) {
      const m = inner[field];
      if (m === undefined || m === null) continue;
      if (typeof m !== 'object' || Array.isArray(m)) throw malformed();
      for (const [k, v] of Object.entries(m)) {
        const b = typeof v !== 'string' ? 0 : binary ? decodeBase64Strict(v) : Buffer.from(v, 'utf8');
        if (typeof b === 'number' || !/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253) throw malformed();
        decoded.set(k, b);
      }
    }
    const type = typeof inner.type === 'string' && inner.type.length <= 253 ? inner.type : undefined;
    checkValues(decoded, type, true);
    secret = { metadata: {}, data: Object.fromEntries([...decoded.keys()].sort().map((k) => [k, decoded.get(k)!.toString('base64')])) };
    if (type) secret.type = type;
  } else {
    const template = ss.spec.template ?? {};
    const tmeta = template.metadata && typeof template.metadata === 'object' ? structuredClone(template.metadata) : {};
    if (tmeta.creationTimestamp === null) delete tmeta.creationTimestamp;
    const data = new Map(plaintexts);
    const templates = template.data && typeof template.data === 'object' ? template.data : {};
    for (const k of publicDataKeys(ss)) checkKeyName(k);
    // Every template is read and checked first: a template error is reported whatever the values are.
    const parsed = [];
    const counter = { actions: 0 };
    for (const [k, src] of Object.entries(templates)) {
      // A null template deletes the item, as upstream (Unseal: `if value == nil { delete(...) }`).
      if (src === null || src === undefined) data.delete(k);
      else if (typeof src !== 'string') throw new SealedSecretsError('ERR_TEMPLATE', `template.data["${printable(k)}"] must be a string (a template), not ${Array.isArray(src) ? 'an array' : typeof src}`);
      else parsed.push(parseTemplate(k, src, counter));
    }
    // One budget for all of them: no SealedSecret renders more than TEMPLATE_LIMITS in total.
    const budget = new TemplateBudget();
    let failed: SealedSecretsError | undefined;
    for (const t of parsed) {
      try {
        data.set(t.item, renderParsed(t, plaintexts, budget));
      } catch (e) {
        if (!isSealedSecretsError(e, 'ERR_VALUE')) throw e;
        failed ??= e;
      }
    }
    if (failed) throw failed;
    checkValues(data, template.type, parsed.length > 0);
    secret = { metadata: tmeta };
    if (template.type) secret.type = template.type;
    if (template.immutable !== undefined && template.immutable !== null) secret.immutable = template.immutable;
    secret.data = Object.fromEntries([...data.keys()].sort().map((k) => [k, data.get(k)!.toString('base64')]));
  }
  secret.apiVersion = 'v1';
  secret.kind = 'Secret';
  secret.metadata.name = meta.name!;
  if (meta.namespace) secret.metadata.namespace = meta.namespace;
  else delete secret.metadata.namespace;
  if (secret.metadata.annotations?.[ANNOTATION_SKIP_SET_OWNER_REFERENCES] !== 'true') {
    secret.metadata.ownerReferences = [
      { apiVersion: API_VERSION, kind: KIND, name: meta.name!, uid: meta.uid ?? '', controller: true },
    ];
  } else {
    delete secret.metadata.ownerReferences;
  }
  return secret;
}

/**
 * The Secret written in place of one the values cannot make (an ERR_VALUE), when none exists
 * yet. It has the public shape of the Secret that success would write, so that the API server
 * accepts or refuses both alike: the template's type and metadata, and of the data only the
 * keys its type requires (placeholder values its validation accepts; a key is there only if
 * success would have it too). No other data: an application that reads a key fails plainly.
 * Never immutable, so the real data can replace it. For the deprecated v1 format, whose whole
 * Secret is secret, an Opaque Secret with no data.
 */
export function placeholderSecret(ss: SealedSecret): Secret {
  const t = ss.spec.template ?? {};
  const v1 = ss.spec.data !== undefined && ss.spec.data !== null;
  const secret = buildSecret({ ...ss, spec: { ...ss.spec, template: { metadata: v1 ? undefined : t.metadata } } }, new Map());
  if (v1 || !t.type) return secret;
  secret.type = t.type;
  const keys = new Set(publicDataKeys(ss));
  const required = REQUIRED_KEYS[t.type] ?? {};
  secret.data = Object.fromEntries(Object.entries(required).filter(([k]) => keys.has(k)).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return secret;
}

export interface UnsealResult {
  secret: Secret;
  /** Which key opened each item, for hints and per-key metrics. */
  openedBy: Map<string, string>;
  rsaOperations: number;
  /**
   * Set when the values cannot make the Secret (ERR_VALUE): `secret` is then the
   * placeholder, and the error may be shown only to readers of the Secret.
   */
  valueError?: SealedSecretsError;
  /** How long decrypting took (with options.clock): rendering excluded, since its time may depend on the values. */
  decryptMs?: number;
}

/** buildSecret, with an ERR_VALUE returned beside the placeholder instead of thrown. */
function buildConcealed(ss: SealedSecret, plaintexts: ReadonlyMap<string, Buffer>, v1Plaintext?: Buffer): Pick<UnsealResult, 'secret' | 'valueError'> {
  try {
    return { secret: buildSecret(ss, plaintexts, v1Plaintext) };
  } catch (e) {
    if (isSealedSecretsError(e, 'ERR_VALUE')) return { secret: placeholderSecret(ss), valueError: e };
    throw e;
  } finally {
    for (const p of plaintexts.values()) p.fill(0);
  }
}

/**
 * Unseals in one step with a key ring: plan, decrypt every item, build the Secret.
 * Throws for failures that do not depend on the values (bad input, no key opens an item,
 * a template error); returns `valueError` for those that do.
 */
export function unsealSealedSecret(ss: SealedSecret, ring: KeyRing, options: UnsealOptions = {}): UnsealResult {
  const plan = planUnseal(ss, options);
  const openedBy = new Map<string, string>();
  let rsaOperations = 0;
  const started = options.clock?.();
  const took = () => (started === undefined ? undefined : options.clock!() - started);
  if (plan.v1Blob) {
    const r = ring.openCounted(plan.v1Blob, plan.label, plan.hints);
    rsaOperations += r.rsaOperations;
    if (!r.plaintext) throw decryptError([]);
    openedBy.set('', r.fingerprint);
    const decryptMs = took();
    return { ...buildConcealed(ss, new Map(), r.plaintext), openedBy, rsaOperations, decryptMs };
  }
  const opened = openItems(plan, ring);
  const decryptMs = took();
  return { ...buildConcealed(ss, opened.plaintexts), openedBy: opened.openedBy, rsaOperations: opened.rsaOperations, decryptMs };
}

/**
 * Whether every item opens, and nothing else (/v1/verify): no template is rendered, so
 * the answer depends on the ciphertexts and keys only, never on the values.
 */
export function verifySealedSecret(ss: SealedSecret, ring: KeyRing, options: UnsealOptions = {}): { rsaOperations: number } {
  const plan = planUnseal(ss, options);
  if (plan.v1Blob) {
    const r = ring.openCounted(plan.v1Blob, plan.label, plan.hints);
    r.plaintext?.fill(0);
    if (!r.plaintext) throw decryptError([]);
    return { rsaOperations: r.rsaOperations };
  }
  const opened = openItems(plan, ring, true);
  for (const p of opened.plaintexts.values()) p.fill(0);
  return { rsaOperations: opened.rsaOperations };
}

/**
 * Decrypts every item of a plan; throws the uniform error naming every item no key opens.
 * `firstFailure`: stop at the first item no key opens (the HTTP endpoints: one request then
 * costs at most one item's attempts with every key beyond what opens, not items x keys).
 */
function openItems(plan: UnsealPlan, ring: KeyRing, firstFailure = false): { plaintexts: Map<string, Buffer>; openedBy: Map<string, string>; rsaOperations: number } {
  const plaintexts = new Map<string, Buffer>();
  const openedBy = new Map<string, string>();
  const failed: string[] = [];
  let rsaOperations = 0;
  let hints = plan.hints;
  for (const { key, blob } of plan.items) {
    const r = ring.openCounted(blob, plan.label, hints);
    rsaOperations += r.rsaOperations;
    if (!r.plaintext) {
      failed.push(key);
      if (firstFailure) break;
      continue;
    }
    plaintexts.set(key, r.plaintext);
    openedBy.set(key, r.fingerprint);
    // Items of one object were almost always sealed by one key: try it first next.
    if (hints[0] !== r.fingerprint) hints = [r.fingerprint, ...hints.filter((h) => h !== r.fingerprint)];
  }
  if (failed.length) throw decryptError(failed);
  return { plaintexts, openedBy, rsaOperations };
}

/**
 * Merges a freshly sealed SealedSecret into an existing one (kubeseal --merge-into):
 * items are added or replaced, template annotations, labels and data merged; the
 * target keeps its name, namespace, scope and everything else.
 */
export function mergeSealedSecrets(target: SealedSecret, update: SealedSecret): SealedSecret {
  const t = target.spec?.template;
  if (t !== undefined && t !== null && (typeof t !== 'object' || Array.isArray(t))) {
    throw new SealedSecretsError('ERR_INVALID_INPUT', `SealedSecret ${objectRef(target.metadata)}: spec.template must be an object to merge into`);
  }
  if (t?.metadata !== undefined && t.metadata !== null) assertMetadataShape(t.metadata, 'spec.template.metadata');
  const out = structuredClone(target);
  if (out.spec.template === null) delete out.spec.template;
  if (out.spec.template && out.spec.template.metadata === null) delete out.spec.template.metadata;
  out.spec.encryptedData = sortedRecord({ ...(out.spec.encryptedData ?? {}), ...update.spec.encryptedData });
  const ut = update.spec.template ?? {};
  if (ut.metadata?.annotations || ut.metadata?.labels || ut.data) {
    out.spec.template ??= {};
    const tm = (out.spec.template.metadata ??= {});
    if (ut.metadata?.annotations) tm.annotations = { ...(tm.annotations ?? {}), ...ut.metadata.annotations };
    if (ut.metadata?.labels) tm.labels = { ...(tm.labels ?? {}), ...ut.metadata.labels };
    if (ut.data) out.spec.template.data = { ...(out.spec.template.data ?? {}), ...ut.data };
  }
  const hints = [...keyHints(update.metadata), ...keyHints(target.metadata)];
  if (hints.length) {
    out.metadata.annotations = { ...(out.metadata.annotations ?? {}), [ANNOTATION_KEY_HINT]: [...new Set(hints)].join(',') };
  }
  return out;
}

/**
 * Re-encrypts every item to the ring's newest key (the controller's /v1/rotate,
 * kubeseal --re-encrypt). Unlike upstream, which reseals the rendered Secret and
 * so loses spec.template.data, this keeps the SealedSecret as it is and replaces
 * only the ciphertexts and the key hint.
 */
export function reencryptSealedSecret(
  ss: SealedSecret,
  ring: KeyRing,
  options: UnsealOptions & { toFingerprint?: string } = {},
): { sealedSecret: SealedSecret; rsaOperations: number } {
  const plan = planUnseal(ss, options);
  if (plan.v1Blob) {
    throw new SealedSecretsError('ERR_DEPRECATED_V1', 'cannot re-encrypt the deprecated spec.data format', {
      hint: 'reseal the Secret with kubeseal, which writes encryptedData',
    });
  }
  // The key that seals now: the caller's choice (a newer key may not be active yet), else the newest.
  const newest = options.toFingerprint ? ring.get(options.toFingerprint) : ring.newest();
  if (!newest) throw new SealedSecretsError('ERR_NO_KEYS', 'the sealing key is not loaded yet; try again shortly');
  const out = structuredClone(ss);
  const { plaintexts, openedBy, rsaOperations } = openItems(plan, ring, true);
  const encryptedData: Record<string, string> = {};
  for (const [key, plaintext] of plaintexts) {
    // Items already sealed for the newest key are kept as they are.
    encryptedData[key] = openedBy.get(key) === newest.fingerprint ? (ss.spec.encryptedData[key] as string) : hybridEncrypt(newest.publicKey, plaintext, plan.label).toString('base64');
    plaintext.fill(0);
  }
  out.spec.encryptedData = sortedRecord(encryptedData);
  out.metadata.annotations = { ...(out.metadata.annotations ?? {}), [ANNOTATION_KEY_HINT]: newest.fingerprint };
  return { sealedSecret: out, rsaOperations };
}
