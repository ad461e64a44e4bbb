/**
 * Keys as upstream stores them: kubernetes.io/tls Secrets in the controller
 * namespace, generateName <key-prefix>, label
 * sealedsecrets.bitnami.com/sealed-secrets-key=active, plus the legacy Secret
 * named exactly <key-prefix> (upstream pkg/controller/keys.go, main.go
 * initKeyRegistry). A malformed key Secret is skipped and reported (upstream
 * panics on one).
 */
import { LABEL_SEALING_KEY, SealedSecretsError, isSealedSecretsError, keyFromSecret, keyToSecret, parseCertificatePem, publicKeyFingerprint, type Secret } from '../../src/index.js';
import { ApiError, paths, type KubeApi } from '../kube/client.js';
import { checkCertificateBelongs, type KeyStore, type NewKey, type StoredKey } from './key-store.js';

/** Ours, ignored by upstream (which uses every active key at once). */
export const ANNOTATION_ACTIVATE_AT = 'sealed-secrets-ts.io/activate-at';

export interface KubernetesKeyStoreOptions {
  namespace: string;
  keyPrefix: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export class KubernetesKeyStore implements KeyStore {
  readonly kind = 'kubernetes';

  constructor(
    private readonly client: KubeApi,
    private readonly o: KubernetesKeyStoreOptions,
  ) {}

  #toStored(secret: Secret): StoredKey {
    const id = `${secret.metadata.namespace}/${secret.metadata.name}`;
    const k = keyFromSecret(secret, 'key store');
    if (!k.certificatePem || k.notBefore === undefined) throw new Error('has no tls.crt');
    if (publicKeyFingerprint(parseCertificatePem(k.certificatePem, id).publicKey) !== publicKeyFingerprint(k.publicKey)) throw new Error('tls.crt does not belong to tls.key');
    const activate = secret.metadata.annotations?.[ANNOTATION_ACTIVATE_AT];
    return {
      id,
      ...(activate && Number.isFinite(Date.parse(activate)) ? { activateAt: Date.parse(activate) } : {}),
      fingerprint: publicKeyFingerprint(k.publicKey),
      privateKey: k.privateKey,
      publicKey: k.publicKey,
      certificatePem: k.certificatePem,
      notBefore: k.notBefore,
      createdAt: secret.metadata.creationTimestamp ? Date.parse(secret.metadata.creationTimestamp) : k.notBefore,
    };
  }

  async load(onInvalid?: (id: string, reason: string) => void, onRetired?: (fingerprint: string, id: string) => void): Promise<StoredKey[]> {
    const list = await this.client.request<{ items: Secret[] }>({
      method: 'GET',
      path: paths.secrets(this.o.namespace),
      query: { labelSelector: `${LABEL_SEALING_KEY} in (active,retired)` },
    });
    const secrets = list.items.filter((s) => s.metadata.labels?.[LABEL_SEALING_KEY] === 'active');
    try {
      const legacy = await this.client.request<Secret>({ method: 'GET', path: paths.secret(this.o.namespace, this.o.keyPrefix) });
      if (!secrets.some((s) => s.metadata.name === legacy.metadata.name)) secrets.push(legacy);
    } catch (e) {
      if (!(e instanceof ApiError && e.notFound)) throw e;
    }
    const retired = [...list.items, ...secrets].filter((s) => s.metadata.labels?.[LABEL_SEALING_KEY] === 'retired');
    const out: StoredKey[] = [];
    for (const s of secrets) {
      if (s.metadata.labels?.[LABEL_SEALING_KEY] === 'retired') continue; // the legacy Secret, retired
      try {
        out.push(this.#toStored(s));
      } catch (e) {
        onInvalid?.(`${s.metadata.namespace}/${s.metadata.name}`, isSealedSecretsError(e) ? e.message : (e as Error).message);
      }
    }
    for (const s of new Set(retired)) {
      // A retired key Secret that cannot be read names no key: nothing is dropped for it.
      try {
        onRetired?.(publicKeyFingerprint(keyFromSecret(s, 'key store').publicKey), `${s.metadata.namespace}/${s.metadata.name}`);
      } catch {
        // ignored
      }
    }
    return out;
  }

  /** Only the leader (the Lease) rotates with this store; the check below narrows the window further. */
  async createIfNoNewKey(known: Iterable<string>, key: NewKey): Promise<StoredKey | undefined> {
    const k = new Set(known);
    if ((await this.load()).some((x) => !k.has(x.fingerprint))) return undefined;
    return this.#create(key);
  }

  async importKey(key: NewKey): Promise<StoredKey | 'exists'> {
    checkCertificateBelongs(key.publicKey, key.certificatePem, 'key to import');
    const fp = publicKeyFingerprint(key.publicKey);
    if ((await this.load()).some((k) => k.fingerprint === fp)) return 'exists';
    return this.#create(key);
  }

  async retire(fingerprint: string): Promise<void> {
    const ks = (await this.load()).filter((x) => x.fingerprint === fingerprint);
    if (!ks.length) throw new SealedSecretsError('ERR_KEY_STORE', `no active key ${fingerprint} in ${this.o.namespace}`);
    // Every Secret holding it (a key restored twice has two): one left active would keep it loaded.
    for (const k of ks) {
      await this.client.request({
        method: 'PATCH',
        path: paths.secret(this.o.namespace, k.id.slice(k.id.indexOf('/') + 1)),
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { [LABEL_SEALING_KEY]: 'retired' } } },
      });
    }
  }

  async #create(key: NewKey): Promise<StoredKey> {
    const body = keyToSecret(key.privateKey, key.certificatePem, {
      namespace: this.o.namespace,
      keyPrefix: this.o.keyPrefix,
      labels: this.o.labels,
      annotations: { ...(this.o.annotations ?? {}), ...(key.activateAt ? { [ANNOTATION_ACTIVATE_AT]: new Date(key.activateAt).toISOString() } : {}) },
    });
    const created = await this.client.request<Secret>({ method: 'POST', path: paths.secrets(this.o.namespace), body });
    return this.#toStored(created);
  }
}
