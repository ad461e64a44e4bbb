/**
 * Reconcile one SealedSecret into its Secret (upstream pkg/controller/controller.go
 * `unseal`), with what upstream lacks:
 * - zero RSA work when the Secret is already up to date: the Secret records a hash
 *   of what it was built from and a keyed MAC of its content, so a restart or a
 *   resync costs no decryption, and a hand-edited Secret is noticed and restored;
 * - no writes when nothing changed: no Secret update, no status update, no Event;
 * - one retry policy keyed by error code.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  ANNOTATION_MANAGED,
  ANNOTATION_PATCH,
  EVENT_ERR_UNSEAL_FAILED,
  EVENT_ERR_UPDATE_FAILED,
  EVENT_UNSEALED,
  KIND,
  SealedSecretsError,
  isSealedSecretsError,
  objectRef,
  placeholderSecret,
  type ErrorCode,
  type SealedSecret,
  type SealedSecretCondition,
  type SealedSecretStatus,
  type Secret,
} from '../src/index.js';
import { ApiError, paths, type KubeApi } from './kube/client.js';
import { keyOf } from './kube/informer.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { UnsealPool } from './unseal-pool.js';

/** Our annotations on the Secrets we write (upstream ignores them and drops them on takeover). */
export const ANNOTATION_SOURCE_HASH = 'sealed-secrets-ts.io/source-hash';
export const ANNOTATION_CONTENT_MAC = 'sealed-secrets-ts.io/content-mac';
export const ANNOTATION_OPENED_BY = 'sealed-secrets-ts.io/key-fingerprints';
/**
 * Why the values could not make the Secret (a template failed on them, the data is too
 * large, an immutable Secret's data would change). Whether that happens can depend on the
 * plaintext, so it is said here, on the Secret, where only its readers look; status,
 * Events, metrics and logs say "unsealed", exactly as on success (SECURITY.md).
 */
export const ANNOTATION_UNSEAL_ERROR = 'sealed-secrets-ts.io/unseal-error';
/**
 * Which SealedSecret made this Secret: a keyed MAC of its namespace, name and uid (public data).
 * Only the controller can compute it, and it verifies only on the Secret of that name made for
 * that SealedSecret object, so a Secret written with skip-set-owner-references (no
 * ownerReference to tell) stays the controller's across updates of the SealedSecret (the uid
 * stays), restarts and key rotations, and a Secret the controller did not make is never taken
 * (docs/design-notes.md).
 */
export const ANNOTATION_OWNER = 'sealed-secrets-ts.io/owner';
const OURS = [ANNOTATION_SOURCE_HASH, ANNOTATION_CONTENT_MAC, ANNOTATION_OPENED_BY, ANNOTATION_UNSEAL_ERROR, ANNOTATION_OWNER];

/** retry: transient, always retried with backoff; retry-limited: up to --max-unseal-retries; failed: until something changes. */
export type Outcome = 'synced' | 'unchanged' | 'retry' | 'retry-limited' | 'failed' | 'gone';

/** What to do after a failure, by code: retry (transient), or wait for a change (permanent). */
const RETRY: Partial<Record<ErrorCode, 'retry' | 'limited'>> = {
  ERR_UNAVAILABLE: 'retry',
  ERR_WORKER: 'retry',
  ERR_TIMEOUT: 'retry',
  ERR_NO_KEYS: 'retry',
  ERR_UPDATE_FAILED: 'limited',
  ERR_UNMANAGED: 'limited',
};

export interface ReconcilerConfig {
  updateStatus: boolean;
  maxUnsealRetries: number;
  oldGcBehavior: boolean;
}

export interface EventSink {
  emit(ss: SealedSecret, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface ReconcilerDeps {
  client: KubeApi;
  getSealedSecret(key: string): SealedSecret | undefined;
  /** From the Secret informer's cache; with --skip-recreate (no Secret informer), read with a get. */
  getSecret(key: string): Secret | undefined | Promise<Secret | undefined>;
  pool: UnsealPool;
  events: EventSink;
  metrics: Metrics;
  log: Logger;
  config: ReconcilerConfig;
  /** The key of the content MAC, derived from the sealing keys. */
  macKey(): Buffer;
  now(): Date;
}

/**
 * How deep canonical() goes. A SealedSecret is about 8 levels deep (managedFields in a
 * template a few more); the API server admits JSON nested 10,000 deep, which would
 * overflow the stack of a recursive walk (and of JSON.stringify and structuredClone).
 */
export const MAX_CANONICAL_DEPTH = 100;

/**
 * JSON with object keys sorted and undefined members left out, so equal content always
 * gives the same text (hashed for the source hash and the content MAC). Written as one
 * string builder: it runs several times per object on the controller's main thread.
 * Throws ERR_INVALID_INPUT beyond MAX_CANONICAL_DEPTH levels, naming `what`.
 */
export function canonical(v: unknown, what = 'the object'): string {
  return appendCanonical('', v, 0, what);
}

function appendCanonical(out: string, v: unknown, depth: number, what: string): string {
  if (v === null || v === undefined) return out + 'null';
  if (typeof v !== 'object') return out + JSON.stringify(v);
  if (depth >= MAX_CANONICAL_DEPTH) {
    throw new SealedSecretsError('ERR_INVALID_INPUT', `${what} is nested more than ${MAX_CANONICAL_DEPTH} levels deep`, { hint: 'a Secret needs only a few: check spec.template.metadata' });
  }
  if (Array.isArray(v)) {
    out += '[';
    for (let i = 0; i < v.length; i++) out = appendCanonical(i ? out + ',' : out, v[i], depth + 1, what);
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  out += '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':';
    first = false;
    out = appendCanonical(out, x, depth + 1, what);
  }
  return out + '}';
}

/**
 * Hashes by object: the informer's cached objects are replaced, never changed, on
 * update, so one SealedSecret version is hashed once however often it is looked at.
 */
const sourceHashes = new WeakMap<SealedSecret, string>();

/** What the Secret is built from: public data only (ciphertexts, template, identity, scope). */
export function sourceHash(ss: SealedSecret): string {
  let h = sourceHashes.get(ss);
  if (h === undefined) {
    h = computeSourceHash(ss);
    sourceHashes.set(ss, h);
  }
  return h;
}

/** The annotations that change what a SealedSecret builds: upstream's scope annotations. */
export function scopeAnnotations(ss: SealedSecret): Record<string, string> {
  return Object.fromEntries(Object.entries(ss.metadata.annotations ?? {}).filter(([k]) => k.startsWith('sealedsecrets.bitnami.com/')));
}

function computeSourceHash(ss: SealedSecret): string {
  return createHash('sha256')
    .update(canonical({ v: 1, ns: ss.metadata.namespace, name: ss.metadata.name, uid: ss.metadata.uid, a: scopeAnnotations(ss), spec: { ...ss.spec, status: undefined } }, `SealedSecret ${objectRef(ss.metadata)}`))
    .digest('base64url');
}

const without = (r: Record<string, string> | undefined, keys: string[]) =>
  Object.fromEntries(Object.entries(r ?? {}).filter(([k]) => !keys.includes(k)));

/** The part of a Secret this SealedSecret manages: data keys, labels and annotations its template names. */
function managedContent(secret: Secret, ss: SealedSecret, patch: boolean): unknown {
  const t = ss.spec.template ?? {};
  const dataKeys = new Set([...Object.keys(ss.spec.encryptedData ?? {}), ...Object.keys(t.data ?? {})]);
  const pick = (r: Record<string, string> | undefined, keys: Set<string> | undefined) =>
    Object.fromEntries(Object.entries(r ?? {}).filter(([k]) => !keys || keys.has(k)));
  return {
    type: secret.type ?? 'Opaque',
    data: pick(secret.data, patch ? dataKeys : undefined),
    labels: pick(secret.metadata.labels, patch ? new Set(Object.keys(t.metadata?.labels ?? {})) : undefined),
    annotations: pick(without(secret.metadata.annotations, OURS), patch ? new Set(Object.keys(t.metadata?.annotations ?? {})) : undefined),
  };
}

/**
 * The keyed MAC of the managed content, bound to this SealedSecret version (namespace, name,
 * uid and source hash): equal content in two Secrets never gives equal MACs, so a reader of
 * annotations (an Argo CD UI) cannot test a guess by sealing it elsewhere and comparing MACs.
 * One SealedSecret version builds one content, so the MAC says nothing the spec does not.
 */
export function contentMac(macKey: Buffer, secret: Secret, ss: SealedSecret, patch: boolean): string {
  const bound = { v: 2, ns: ss.metadata.namespace ?? '', name: ss.metadata.name ?? '', uid: ss.metadata.uid ?? '', source: sourceHash(ss) };
  return createHmac('sha256', macKey).update(canonical(bound)).update('\n').update(canonical(managedContent(secret, ss, patch))).digest('base64url');
}

/** The value of ANNOTATION_OWNER for the Secret of this SealedSecret object. */
export function ownerMac(macKey: Buffer, ss: SealedSecret): string {
  return createHmac('sha256', macKey).update(canonical({ v: 1, purpose: 'owner', ns: ss.metadata.namespace ?? '', name: ss.metadata.name ?? '', uid: ss.metadata.uid ?? '' })).digest('base64url');
}

function macEquals(a: string | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function isControlledBy(secret: Secret, ss: SealedSecret): boolean {
  return (secret.metadata.ownerReferences ?? []).some((o) => o.controller === true && o.kind === KIND && o.apiVersion.startsWith('bitnami.com/') && o.uid === ss.metadata.uid);
}

const isPatch = (s: Secret) => s.metadata.annotations?.[ANNOTATION_PATCH] === 'true';
const isManaged = (s: Secret) => s.metadata.annotations?.[ANNOTATION_MANAGED] === 'true';

type ConditionLabels = { namespace: string; name: string; condition: string; ss_app_kubernetes_io_instance: string };

/** What #setStatus records: the condition, whether the Secret was just written, and the Event's text. */
interface StatusUpdate {
  ok: boolean;
  message: string;
  reason: string;
  wroteSecret: boolean;
  eventMessage?: string;
  /** A new or changed object: its status write goes ahead of bulk work at the rate limiter. */
  urgent?: boolean;
  /** A failure that waits for a change (Stalled=True) rather than one retried (Reconciling=True). */
  stalled?: boolean;
}

/** Conflicts retried on a status write before giving up (the next reconcile writes it). */
const STATUS_WRITE_ATTEMPTS = 4;

/** What a reconcile concluded, as the conditions say it. */
export interface ConditionOutcome {
  ok: boolean;
  reason: string;
  message: string;
  /** For a failure: waits for a change (Stalled) rather than being retried (Reconciling). */
  stalled: boolean;
}

/** The condition types this controller owns; others found in status are kept as they are. */
export const OWN_CONDITIONS = ['Synced', 'Ready', 'Stalled', 'Reconciling'] as const;

/**
 * The conditions for an outcome, Synced first (upstream's printer columns read conditions[0]):
 * - Synced: as upstream writes it (status, message on failure) plus its reason;
 * - Ready: the same status, reason and message, for Flux and other kstatus readers;
 * - Stalled=True: a failure that waits for a change (no key could decrypt, a template error,
 *   an unmanaged Secret): kstatus reports Failed;
 * - Reconciling=True: a failure that is retried: kstatus reports InProgress.
 * Stalled and Reconciling are abnormal-true conditions: left out when False (kstatus reads
 * absence as False). Reconciling is not written at the start of a reconcile: an
 * observedGeneration behind metadata.generation already reads as InProgress. Times are kept
 * from the previous condition of the same type and status. Nothing here depends on the
 * values: a value error is reported as success (ok), as for Synced.
 */
export function desiredConditions(prev: readonly SealedSecretCondition[] | undefined, o: ConditionOutcome, now: string): SealedSecretCondition[] {
  const status: SealedSecretCondition['status'] = o.ok ? 'True' : 'False';
  const make = (type: string, st: SealedSecretCondition['status']): SealedSecretCondition => {
    const p = prev?.find((c) => c.type === type);
    const c: SealedSecretCondition = { type, status: st, lastUpdateTime: now, lastTransitionTime: p && p.status === st ? (p.lastTransitionTime ?? now) : now, reason: o.reason };
    // Omitted when empty, like upstream's omitempty.
    if (o.message) c.message = o.message;
    return c;
  };
  const out = [make('Synced', status), make('Ready', status)];
  if (!o.ok) out.push(make(o.stalled ? 'Stalled' : 'Reconciling', 'True'));
  for (const c of prev ?? []) if (!(OWN_CONDITIONS as readonly string[]).includes(c.type)) out.push(c);
  return out;
}

/** Whether the status of `ss` differs from what `o` makes it (times aside), or describes another generation. */
export function statusChanged(ss: SealedSecret, o: ConditionOutcome): boolean {
  if (ss.status?.observedGeneration !== ss.metadata.generation) return true;
  const want = desiredConditions(undefined, o, '');
  const have = (ss.status?.conditions ?? []).filter((c) => (OWN_CONDITIONS as readonly string[]).includes(c.type));
  if (have.length !== want.length) return true;
  return want.some((w) => {
    const h = have.find((c) => c.type === w.type);
    return !h || h.status !== w.status || (h.reason ?? '') !== (w.reason ?? '') || (h.message ?? '') !== (w.message ?? '');
  });
}

export class Reconciler {
  /** Which key opened each SealedSecret last (ns/name -> fingerprints), used as a hint. */
  readonly openedBy = new Map<string, string[]>();
  /**
   * The resourceVersion of the Secret each reconcile last wrote (ns/name -> rv): the watch
   * event of our own write is recognised without hashing the Secret again. Any other
   * version (a hand edit, another writer) gets the full check.
   */
  readonly #written = new Map<string, string>();

  /**
   * The uid of each SealedSecret seen deleted and not yet reconciled as gone (ns/name -> uid):
   * with --old-gc-behavior only a Secret controlled by exactly that SealedSecret is deleted.
   */
  readonly #deletedUids = new Map<string, string>();
  /** The condition_info labels last set for each SealedSecret, removed when it is gone. */
  readonly #conditionLabels = new Map<string, ConditionLabels>();

  /** The MAC keys this process used, newest last (a few: each key change adds one). */
  readonly #macKeysSeen: Buffer[] = [];

  constructor(private readonly d: ReconcilerDeps) {}

  #rememberMacKey(k: Buffer): void {
    const last = this.#macKeysSeen[this.#macKeysSeen.length - 1];
    if (last && last.equals(k)) return;
    const i = this.#macKeysSeen.findIndex((x) => x.equals(k));
    if (i >= 0) this.#macKeysSeen.splice(i, 1);
    this.#macKeysSeen.push(k);
    if (this.#macKeysSeen.length > 8) this.#macKeysSeen.shift();
  }

  /** The informer saw this SealedSecret deleted (its key is queued; the reconcile finds it gone). */
  sealedSecretDeleted(ss: SealedSecret): void {
    if (ss.metadata?.uid) this.#deletedUids.set(keyOf(ss), ss.metadata.uid);
  }

  /** Is `secret` exactly the version this controller wrote last? */
  wroteVersion(key: string, secret: Secret): boolean {
    const rv = secret.metadata.resourceVersion;
    return rv !== undefined && this.#written.get(key) === rv;
  }

  /**
   * Did this controller make `secret` for this SealedSecret object? Its owner MAC says so; a
   * Secret written before that annotation existed is recognised by its content MAC while the
   * SealedSecret has not changed since. Either is bound to this namespace, name and uid.
   */
  madeBy(secret: Secret, ss: SealedSecret): boolean {
    const a = secret.metadata.annotations;
    if (!a || !ss.metadata.uid) return false;
    const macKey = this.d.macKey();
    if (macKey.length === 0) return false;
    this.#rememberMacKey(macKey);
    // The owner MAC also verifies under a MAC key this process used before (the oldest sealing
    // key was retired or a key with an older certificate came in): the requeue that follows a
    // key change rewrites it under the new key. Without that, every skip-set-owner-references
    // Secret would be "not managed" after such a change, frozen at its old values. Forging one
    // with an old key gives no more than the managed annotation already gives a Secret editor.
    if (this.#macKeysSeen.some((k) => macEquals(a[ANNOTATION_OWNER], ownerMac(k, ss)))) return true;
    return a[ANNOTATION_SOURCE_HASH] === sourceHash(ss) && macEquals(a[ANNOTATION_CONTENT_MAC], contentMac(macKey, secret, ss, isPatch(secret)));
  }

  /** May the controller write `secret` for `ss`: controlled by it, annotated managed or patch, or made by this controller for it. */
  #mayWrite(secret: Secret, ss: SealedSecret): boolean {
    return isControlledBy(secret, ss) || isManaged(secret) || isPatch(secret) || this.madeBy(secret, ss);
  }

  /** Is this Secret exactly what the SealedSecret would produce now? Costs no RSA operation. */
  upToDate(ss: SealedSecret, secret: Secret | undefined): boolean {
    if (!secret || !this.#mayWrite(secret, ss)) return false;
    const a = secret.metadata.annotations ?? {};
    if (a[ANNOTATION_SOURCE_HASH] !== sourceHash(ss)) return false;
    return macEquals(a[ANNOTATION_CONTENT_MAC], contentMac(this.d.macKey(), secret, ss, isPatch(secret)));
  }

  /** `urgent`: a new or changed object (the queue's high lane), unsealed ahead of resync work. */
  async reconcile(key: string, urgent = false): Promise<Outcome> {
    const ss = this.d.getSealedSecret(key);
    if (!ss) {
      this.openedBy.delete(key);
      this.#written.delete(key);
      // As upstream's delete handler does: no condition_info series outlives its SealedSecret.
      const labels = this.#conditionLabels.get(key);
      if (labels) this.d.metrics.conditionInfo.remove(labels);
      this.#conditionLabels.delete(key);
      const uid = this.#deletedUids.get(key);
      if (this.d.config.oldGcBehavior && uid) await this.#deleteSecret(key, uid);
      this.#deletedUids.delete(key);
      return 'gone';
    }
    const ns = ss.metadata.namespace!;
    const name = ss.metadata.name!;
    try {
      // Hashed once per version (cached); an object it cannot take (nested too deep) fails here, before any work.
      sourceHash(ss);
    } catch (e) {
      this.d.metrics.unsealErrors.inc({ reason: 'unseal', namespace: ns });
      return this.#fail(ss, e, EVENT_ERR_UNSEAL_FAILED, 'Failed to unseal: ');
    }
    let existing: Secret | undefined;
    try {
      existing = await this.d.getSecret(key);
    } catch (e) {
      // Only with --skip-recreate (a get per reconcile): an outage is retried, a refusal (RBAC) is said in status.
      if (e instanceof ApiError && (e.status === 0 || e.status >= 500 || e.status === 429)) {
        this.d.log.warn('Secret read deferred', { sealedSecret: key, status: e.status, error: e.message });
        return 'retry';
      }
      this.d.metrics.unsealErrors.inc({ reason: 'fetch', namespace: ns });
      return this.#fail(ss, e, EVENT_ERR_UPDATE_FAILED);
    }
    if (this.upToDate(ss, existing)) {
      const fps = existing!.metadata.annotations?.[ANNOTATION_OPENED_BY];
      if (fps && !this.openedBy.has(key)) this.openedBy.set(key, fps.split(','));
      await this.#setStatus(ss, { ok: true, message: '', reason: EVENT_UNSEALED, wroteSecret: false, urgent });
      return 'unchanged';
    }

    this.d.metrics.unsealRequests.inc();
    if (existing && !this.#mayWrite(existing, ss)) {
      const msg = `Resource "${name}" already exists and is not managed by SealedSecret`;
      this.d.metrics.unsealErrors.inc({ reason: 'unmanaged', namespace: ns });
      // Upstream's texts: the Event says msg, the status `failed update: ${msg}`; our hint follows.
      return this.#fail(ss, new SealedSecretsError('ERR_UNMANAGED', msg, {
        hint: `add the annotation ${ANNOTATION_MANAGED}=true to Secret ${ns}/${name} to let the controller take it over`,
      }), EVENT_ERR_UPDATE_FAILED, '', 'failed update: ');
    }

    let unsealed: Secret;
    let valueError: SealedSecretsError | undefined;
    try {
      const r = await this.d.pool.unseal(ss, this.openedBy.get(key) ?? [], urgent);
      unsealed = r.secret;
      valueError = r.valueError;
      // The decryption alone: how long templates took to render may depend on the values.
      this.d.metrics.unsealDuration.observe((r.decryptMs ?? 0) / 1000);
      this.d.metrics.rsaOperations.inc(r.rsaOperations);
      const fps = [...new Set(r.openedBy.values())];
      if (fps.length) this.openedBy.set(key, fps);
    } catch (e) {
      if (isSealedSecretsError(e, 'ERR_WORKER') && Object.keys(ss.spec.template?.data ?? {}).length > 0) {
        // A worker that died rendering templates may have died of what the values made them do:
        // answered like any value error, never as a retry that logs (the budget makes this a backstop).
        unsealed = placeholderSecret(ss);
        valueError = new SealedSecretsError('ERR_VALUE', 'the unseal worker stopped while rendering the templates', { hint: 'simplify the templates; the controller tries again when the SealedSecret or the keys change' });
        this.d.metrics.rsaOperations.inc(Object.keys(ss.spec.encryptedData ?? {}).length);
        this.d.metrics.unsealDuration.observe(0);
      } else if (isSealedSecretsError(e) && RETRY[e.code] === 'retry') {
        this.d.log.warn('unseal deferred', { sealedSecret: key, code: e.code, error: e.message });
        return 'retry';
      } else {
        this.d.metrics.unsealErrors.inc({ reason: 'unseal', namespace: ns });
        return this.#fail(ss, e, EVENT_ERR_UNSEAL_FAILED, 'Failed to unseal: ');
      }
    }

    // Whether an immutable Secret's data would change depends on the values: never a status error.
    if (!valueError && existing?.immutable === true && canonical(existing.data ?? {}) !== canonical(this.#desired(ss, unsealed, existing).data ?? {})) {
      valueError = new SealedSecretsError('ERR_VALUE', `Secret ${ns}/${name} is immutable and its data changed`, { hint: 'delete the Secret so the controller can create it again' });
    }
    const desired = this.#desired(ss, unsealed, existing, valueError);
    // Both objects that may be written (below) must fit the API server's metadata limits whatever the values.
    const metadataBytes = publicMetadataBytes(desired);
    if (metadataBytes + OWN_ANNOTATIONS_RESERVE > MAX_PUBLIC_METADATA_BYTES) {
      this.d.metrics.unsealErrors.inc({ reason: 'update', namespace: ns });
      return this.#fail(ss, new SealedSecretsError('ERR_INVALID_INPUT', `the template's labels and annotations take ${metadataBytes} bytes, over the ${MAX_PUBLIC_METADATA_BYTES - OWN_ANNOTATIONS_RESERVE} this controller allows`, { hint: 'move large metadata out of spec.template.metadata' }), EVENT_ERR_UPDATE_FAILED);
    }
    const write = async (body: Secret) => {
      let written: Secret | undefined;
      if (!existing) {
        written = await this.d.client.request<Secret>({ method: 'POST', path: paths.secrets(ns), body, urgent });
      } else if (canonical(strip(existing)) !== canonical(strip(body))) {
        written = await this.d.client.request<Secret>({ method: 'PUT', path: paths.secret(ns, name), body, urgent });
      }
      const rv = written?.metadata?.resourceVersion;
      if (rv) this.#written.set(key, rv);
    };
    try {
      try {
        await write(desired);
      } catch (e) {
        if (valueError || !refusedAsInvalid(e)) throw e;
        // The API server refused the Secret the values made. The placeholder has the same public
        // shape (type, required keys, metadata) and values chosen to pass: if it is refused too,
        // the refusal is public and its message (about the placeholder) goes to status; if it is
        // accepted, the values were refused, which only the Secret's readers may learn.
        // Its status and reason only: its message may quote the value, and annotations are seen by metadata readers.
        valueError = new SealedSecretsError('ERR_VALUE', `the API server refused the Secret the values made (HTTP ${(e as ApiError).status} ${(e as ApiError).reason || 'refused'})`, { hint: 'check that the sealed values are what the Secret type needs' });
        await write(this.#desired(ss, placeholderSecret(ss), existing, valueError));
      }
    } catch (e) {
      if (e instanceof ApiError && (e.status === 0 || e.status >= 500 || e.status === 429)) {
        this.d.log.warn('Secret write deferred', { sealedSecret: key, status: e.status, error: e.message });
        return 'retry';
      }
      if (e instanceof ApiError && e.conflict) {
        // Our cache was behind (the Secret was created or changed meanwhile): look again soon.
        return 'retry-limited';
      }
      this.d.metrics.unsealErrors.inc({ reason: 'update', namespace: ns });
      // The API server's text for a refused value quotes its parser ("invalid character ..."): never in status.
      const quotesValue = e instanceof ApiError && /secret contents redacted/i.test(e.message);
      const err = quotesValue
        ? new SealedSecretsError('ERR_UPDATE_FAILED', `the API server refused the data of Secret ${ns}/${name} as invalid`, { hint: 'check that the sealed values are what the Secret type needs' })
        : e;
      return this.#fail(ss, err, EVENT_ERR_UPDATE_FAILED);
    }
    await this.#setStatus(ss, { ok: true, message: '', reason: EVENT_UNSEALED, wroteSecret: true, urgent });
    return 'synced';
  }

  /**
   * The Secret to write: the unsealed one, merged into the existing one as upstream does.
   * With a value error the existing data is kept as it is (or the placeholder is created),
   * and the error is recorded on the Secret.
   */
  #desired(ss: SealedSecret, unsealed: Secret, existing: Secret | undefined, valueError?: SealedSecretsError): Secret {
    if (valueError && existing) unsealed = { ...unsealed, data: isPatch(existing) ? {} : { ...(existing.data ?? {}) } };
    const macKey = this.d.macKey();
    let out: Secret;
    if (!existing) {
      out = unsealed;
    } else {
      out = structuredClone(existing);
      delete out.metadata.managedFields;
      if (isPatch(existing)) {
        out.data = { ...(existing.data ?? {}), ...(unsealed.data ?? {}) };
        out.metadata.labels = { ...(existing.metadata.labels ?? {}), ...(unsealed.metadata.labels ?? {}) };
        out.metadata.annotations = { ...(existing.metadata.annotations ?? {}), ...(unsealed.metadata.annotations ?? {}) };
        if (isManaged(existing)) out.metadata.ownerReferences = unsealed.metadata.ownerReferences;
      } else {
        out.data = unsealed.data ?? {};
        out.metadata.labels = unsealed.metadata.labels;
        out.metadata.annotations = { ...(unsealed.metadata.annotations ?? {}) };
        out.metadata.ownerReferences = unsealed.metadata.ownerReferences;
      }
      if (unsealed.type) out.type = unsealed.type;
    }
    out.apiVersion = 'v1';
    out.kind = 'Secret';
    const ann = { ...(out.metadata.annotations ?? {}) };
    for (const k of OURS) delete ann[k];
    ann[ANNOTATION_SOURCE_HASH] = sourceHash(ss);
    // Never on a Secret only merged into (patch): it is its owner's, and an owner MAC left on it
    // would make it the controller's (whole data replaced) once the patch annotation goes.
    if (ss.metadata.uid && macKey.length > 0 && !(existing && isPatch(existing))) {
      this.#rememberMacKey(macKey);
      ann[ANNOTATION_OWNER] = ownerMac(macKey, ss);
    }
    const fps = this.openedBy.get(objectRef(ss.metadata));
    if (fps?.length) ann[ANNOTATION_OPENED_BY] = fps.slice(0, 16).join(',');
    if (valueError) ann[ANNOTATION_UNSEAL_ERROR] = valueError.detail.length > MAX_UNSEAL_ERROR_CHARS ? `${valueError.detail.slice(0, MAX_UNSEAL_ERROR_CHARS - 3)}...` : valueError.detail;
    out.metadata.annotations = ann;
    const patch = existing ? isPatch(existing) : false;
    out.metadata.annotations[ANNOTATION_CONTENT_MAC] = contentMac(macKey, out, ss, patch);
    return out;
  }

  async #fail(ss: SealedSecret, e: unknown, reason: string, eventPrefix = '', statusPrefix = ''): Promise<Outcome> {
    const err = isSealedSecretsError(e) ? e : new SealedSecretsError('ERR_UPDATE_FAILED', 'internal error');
    const message = `${statusPrefix}${err.message}`;
    const policy = RETRY[err.code];
    const changed = await this.#setStatus(ss, { ok: false, message, reason, wroteSecret: false, eventMessage: `${eventPrefix}${err.detail}`, stalled: policy !== 'retry' });
    this.d.log.warn('SealedSecret not synced', { sealedSecret: objectRef(ss.metadata), code: err.code, error: message, statusChanged: changed });
    return policy === 'retry' ? 'retry' : policy === 'limited' ? 'retry-limited' : 'failed';
  }

  /**
   * Sets the conditions and observedGeneration; writes only on a change, and emits the Event
   * only then (or when the Secret was written). Returns whether it changed.
   *
   * Status is written with `update` on the status subresource (the verb upstream's RBAC
   * grants), conditioned on the cached resourceVersion; on a conflict the SealedSecret is read
   * again and, if it is still the generation this reconcile worked on, the write is retried on
   * top of what is there now (a newer generation is queued and writes its own status).
   */
  async #setStatus(ss: SealedSecret, { ok, message, reason, wroteSecret, eventMessage, urgent = false, stalled = true }: StatusUpdate): Promise<boolean> {
    // Whole seconds, as upstream's metav1.Time: finer times would time the reconcile for anyone who can read status.
    const now = new Date(Math.floor(this.d.now().getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const outcome: ConditionOutcome = { ok, reason: ok ? EVENT_UNSEALED : reason, message, stalled };
    const changed = statusChanged(ss, outcome);
    this.d.metrics.conditionInfo.set(this.#conditionSeries(ss), ok ? 1 : -1);
    if (changed || wroteSecret) {
      const type = ok ? 'Normal' : 'Warning';
      this.d.events.emit(ss, type, reason, ok ? 'SealedSecret unsealed successfully' : (eventMessage ?? message));
    }
    if (!changed || !this.d.config.updateStatus) return changed;
    let current = ss;
    for (let attempt = 1; ; attempt++) {
      const body: SealedSecretStatus = { conditions: desiredConditions(current.status?.conditions, outcome, now) };
      if (ss.metadata.generation !== undefined) body.observedGeneration = ss.metadata.generation;
      try {
        await this.d.client.request({
          method: 'PUT',
          path: paths.sealedSecretStatus(ss.metadata.namespace!, ss.metadata.name!),
          // The status subresource takes status only; uid and resourceVersion make it refuse another object or version.
          body: { apiVersion: 'bitnami.com/v1alpha1', kind: KIND, metadata: { name: ss.metadata.name, namespace: ss.metadata.namespace, uid: ss.metadata.uid, resourceVersion: current.metadata.resourceVersion }, status: body },
          discardBody: true,
          urgent,
        });
        return changed;
      } catch (e) {
        if (e instanceof ApiError && e.conflict && attempt < STATUS_WRITE_ATTEMPTS) {
          let fresh: SealedSecret;
          try {
            fresh = await this.d.client.request<SealedSecret>({ method: 'GET', path: paths.sealedSecret(ss.metadata.namespace!, ss.metadata.name!), urgent });
          } catch (e2) {
            if (e2 instanceof ApiError && e2.notFound) return changed;
            e = e2;
            this.#statusWriteFailed(ss, e);
            return changed;
          }
          // Another object or a newer generation: its own reconcile (queued by the informer) writes its status.
          if (fresh.metadata.uid !== ss.metadata.uid || fresh.metadata.generation !== ss.metadata.generation) return changed;
          if (!statusChanged(fresh, outcome)) return changed;
          current = fresh;
          continue;
        }
        this.#statusWriteFailed(ss, e);
        return changed;
      }
    }
  }

  #statusWriteFailed(ss: SealedSecret, e: unknown): void {
    this.d.metrics.unsealErrors.inc({ reason: 'status', namespace: ss.metadata.namespace ?? '' });
    const forbidden = e instanceof ApiError && e.status === 403;
    this.d.log.warn('status update failed', {
      sealedSecret: objectRef(ss.metadata),
      error: (e as Error).message,
      ...(forbidden ? { hint: 'grant update on sealedsecrets/status (group bitnami.com) to the controller, or run it with --update-status=false' } : {}),
    });
  }

  /** This SealedSecret's condition_info labels; a series left under old labels (an edited instance label) is removed. */
  #conditionSeries(ss: SealedSecret): ConditionLabels {
    const key = keyOf(ss);
    const labels: ConditionLabels = { namespace: ss.metadata.namespace ?? '', name: ss.metadata.name ?? '', condition: 'Synced', ss_app_kubernetes_io_instance: ss.metadata.labels?.['app.kubernetes.io/instance'] ?? '' };
    const prev = this.#conditionLabels.get(key);
    if (prev && prev.ss_app_kubernetes_io_instance !== labels.ss_app_kubernetes_io_instance) this.d.metrics.conditionInfo.remove(prev);
    this.#conditionLabels.set(key, labels);
    return labels;
  }

  /**
   * --old-gc-behavior: deletes the Secret only if the deleted SealedSecret (uid) controls it.
   * A same-named Secret that is someone else's, a patch-only Secret (its ownerReferences are
   * left alone) and one written with skip-set-owner-references are kept; a managed Secret
   * taken over carries our ownerReference and goes. The uid precondition makes the API server
   * refuse if the Secret was replaced since the cache saw it.
   */
  async #deleteSecret(key: string, ownerUid: string): Promise<void> {
    const [ns, name] = key.split('/');
    const secret = await this.d.getSecret(key);
    const controlled = (secret?.metadata.ownerReferences ?? []).some((o) => o.controller === true && o.kind === KIND && o.apiVersion.startsWith('bitnami.com/') && o.uid === ownerUid);
    if (!secret || !controlled) {
      if (secret) this.d.log.info('Secret kept: not controlled by the deleted SealedSecret', { secret: key });
      return;
    }
    try {
      await this.d.client.request({ method: 'DELETE', path: paths.secret(ns!, name!), body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: secret.metadata.uid } }, discardBody: true });
    } catch (e) {
      if (!(e instanceof ApiError && e.notFound)) throw e;
    }
  }
}

/**
 * A refusal of the Secret write that may be a verdict on its content, which the placeholder
 * may not share: any 4xx but a conflict (our cache was behind) or a rate limit. Admission
 * webhooks that inspect data (policy engines) deny with 400 or 403 and may quote values.
 * 5xx and network failures stay transient (retried), since falling back on an outage would
 * freeze the old data.
 */
function refusedAsInvalid(e: unknown): boolean {
  return e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 409 && e.status !== 429;
}

/**
 * Labels and annotations the template (and, with `patch`, the existing Secret) bring: public.
 * Kept with room for this controller's own annotations under Kubernetes' 256 KiB for
 * annotations, so that neither the Secret nor its placeholder (which carries the unseal-error
 * annotation) can be refused for metadata size, and the whole object stays far below etcd's
 * 1.5 MiB whatever its data (at most 1 MiB).
 */
const MAX_PUBLIC_METADATA_BYTES = 256 * 1024;
const OWN_ANNOTATIONS_RESERVE = 8 * 1024;
const MAX_UNSEAL_ERROR_CHARS = 1024;
function publicMetadataBytes(s: Secret): number {
  let n = 0;
  for (const r of [s.metadata.labels ?? {}, s.metadata.annotations ?? {}]) for (const [k, v] of Object.entries(r)) if (!OURS.includes(k)) n += k.length + String(v).length;
  return n;
}

/** The fields compared to decide whether an update is needed. */
function strip(s: Secret): unknown {
  return { type: s.type ?? 'Opaque', data: s.data ?? {}, labels: s.metadata.labels ?? {}, annotations: s.metadata.annotations ?? {}, ownerReferences: s.metadata.ownerReferences ?? [] };
}
