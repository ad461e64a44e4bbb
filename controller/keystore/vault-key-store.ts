/**
 * Sealing keys in Vault's KV version 2 engine, one entry per key under
 * <mount>/data/<prefix><name>, holding the same fields as upstream's key Secret
 * (tls.crt, tls.key as PEM) plus metadata (fingerprint, size, created, state,
 * activateAt), so backups and imports move between stores unchanged.
 *
 * Rotation is race-free across replicas through a head entry
 * (<prefix>../head by default) updated only with check-and-set: a rotator first
 * claims the head at the version it read, so of two racing rotators exactly one
 * adds a key. Keys are never deleted here.
 *
 * Connection follows Vault's conventions (VAULT_ADDR, VAULT_TOKEN or a token file,
 * VAULT_CACERT, VAULT_NAMESPACE), read by main.ts; or Kubernetes auth with a
 * ServiceAccount JWT and a role. Renewable tokens are renewed at half their TTL.
 */
import { randomBytes } from 'node:crypto';
import nodeVault from 'node-vault';
import { SealedSecretsError, parseCertificatePem, parsePrivateKeyPem, privateKeyToPem, publicKeyFingerprint } from '../../src/index.js';
import { checkVaultAddress } from '../config.js';
import { checkCertificateBelongs, type KeyStore, type NewKey, type StoredKey } from './key-store.js';

export interface VaultConnection {
  /** https, or http on loopback only (checkVaultAddress). */
  address: string;
  /** VAULT_SKIP_VERIFY, parsed by the caller (parseEnvBool); node-vault's own reading of it is overridden. */
  skipVerify?: boolean;
  /** A token, or undefined with Kubernetes auth. Never from a flag: env or file. */
  token?: string;
  caCert?: string;
  namespace?: string;
  /** Kubernetes auth: role and the ServiceAccount JWT. */
  kubernetesRole?: string;
  kubernetesJwt?: () => string;
  kubernetesMount?: string;
  timeoutMs?: number;
}

export interface VaultKeyStoreOptions {
  mount: string;
  /** e.g. "sealed-secrets/keys/" */
  pathPrefix: string;
  now?: () => number;
}

interface Entry {
  'tls.crt': string;
  'tls.key': string;
  fingerprint: string;
  size: number;
  created: string;
  state: 'active' | 'retired';
  activateAt?: string;
}

interface VaultClient {
  read(path: string): Promise<{ data: { data: Record<string, unknown>; metadata: { version: number } } }>;
  write(path: string, data: unknown): Promise<{ data?: { version?: number } }>;
  list(path: string): Promise<{ data: { keys: string[] } }>;
  tokenLookupSelf(): Promise<{ data: { ttl: number; renewable: boolean } }>;
  tokenRenewSelf(args?: unknown): Promise<unknown>;
  kubernetesLogin(args: { role: string; jwt: string; mount_point?: string }): Promise<{ auth: { client_token: string; lease_duration: number; renewable: boolean } }>;
  health(): Promise<{ sealed?: boolean; initialized?: boolean }>;
  token?: string;
}

/** Vault's error, as node-vault raises it, reduced to what we need and safe to log. */
function vaultFailure(e: unknown, what: string, address: string): SealedSecretsError {
  const err = e as { response?: { statusCode?: number; body?: { errors?: string[] } }; code?: string; message?: string };
  const status = err.response?.statusCode;
  const reason = status ? `HTTP ${status}${err.response?.body?.errors?.[0] ? ` ${err.response.body.errors[0]}` : ''}` : (err.code ?? err.message ?? 'unknown error');
  const hint =
    status === 403 ? 'check the token or the Kubernetes auth role and its policy (read, create and list under the key path)' :
    status === 503 ? 'Vault is sealed or unavailable: unseal it' :
    !status && /CERT|SELF_SIGNED|SIGNATURE|ALTNAME/.test(err.code ?? '') ? `Vault's TLS certificate was not accepted: set VAULT_CACERT to the CA that signed it (and check that VAULT_ADDR (${address}) names the host it was issued for)` :
    !status ? `check VAULT_ADDR (${address}) and the network` : undefined;
  return new SealedSecretsError('ERR_KEY_STORE', `Vault ${what} failed: ${reason}`, hint ? { hint } : undefined);
}

const notFound = (e: unknown) => (e as { response?: { statusCode?: number } }).response?.statusCode === 404;

export class VaultKeyStore implements KeyStore {
  readonly kind = 'vault';
  readonly #client: VaultClient;
  readonly #conn: VaultConnection;
  readonly #o: VaultKeyStoreOptions;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #loggedIn = false;
  /** Failed calls, for the vault errors metric. */
  errors = 0;

  constructor(conn: VaultConnection, options: VaultKeyStoreOptions) {
    checkVaultAddress(conn.address);
    this.#conn = conn;
    this.#o = { ...options, pathPrefix: options.pathPrefix.endsWith('/') ? options.pathPrefix : `${options.pathPrefix}/` };
    const strictSSL = conn.skipVerify !== true;
    const vaultOptions: Record<string, unknown> = {
      // node-vault's debug output (DEBUG=node-vault) prints request bodies: private keys, the JWT.
      debug: () => undefined,
      apiVersion: 'v1',
      endpoint: conn.address,
      token: conn.token,
      namespace: conn.namespace,
      // Node's HTTP server (and some proxies) refuse LIST: list with GET ?list=true, which Vault accepts.
      noCustomHTTPVerbs: true,
      kubernetesPath: conn.kubernetesMount ?? 'kubernetes',
      // node-vault turns any non-empty VAULT_SKIP_VERIFY (even "false") into no verification: decide here.
      rpDefaults: { strictSSL },
      requestOptions: { timeout: conn.timeoutMs ?? 10_000, strictSSL, ...(conn.caCert ? { ca: conn.caCert } : {}) },
    };
    this.#client = nodeVault(vaultOptions as never) as unknown as VaultClient;
    // Nor do its other environment defaults (VAULT_PREFIX, VAULT_TOKEN with Kubernetes auth) apply.
    const c = this.#client as unknown as { pathPrefix: string; token: string | undefined };
    c.pathPrefix = '';
    c.token = conn.token;
  }

  #now(): number {
    return this.#o.now ? this.#o.now() : Date.now();
  }

  get #headPath(): string {
    const p = this.#o.pathPrefix.replace(/\/+$/, '');
    return `${this.#o.mount}/data/${p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : p}/head`;
  }

  async #call<T>(what: string, f: () => Promise<T>, allowNotFound = false): Promise<T | undefined> {
    await this.#ensureAuth();
    try {
      return await f();
    } catch (e) {
      if (allowNotFound && notFound(e)) return undefined;
      // An expired token with Kubernetes auth: log in again once.
      if ((e as { response?: { statusCode?: number } }).response?.statusCode === 403 && this.#conn.kubernetesRole) {
        this.#loggedIn = false;
        await this.#ensureAuth();
        try {
          return await f();
        } catch (e2) {
          if (allowNotFound && notFound(e2)) return undefined;
          this.errors++;
          throw vaultFailure(e2, what, this.#conn.address);
        }
      }
      this.errors++;
      throw vaultFailure(e, what, this.#conn.address);
    }
  }

  async #ensureAuth(): Promise<void> {
    if (this.#loggedIn) return;
    if (this.#conn.kubernetesRole) {
      let jwt: string;
      try {
        jwt = this.#conn.kubernetesJwt!().trim();
      } catch {
        throw new SealedSecretsError('ERR_KEY_STORE', 'cannot read the ServiceAccount token for Vault Kubernetes auth', { hint: 'run in a Pod with a ServiceAccount token, or give VAULT_TOKEN' });
      }
      try {
        const r = await this.#client.kubernetesLogin({ role: this.#conn.kubernetesRole, jwt, mount_point: this.#conn.kubernetesMount ?? 'kubernetes' });
        this.#scheduleRenewal(r.auth.lease_duration, r.auth.renewable);
      } catch (e) {
        this.errors++;
        throw vaultFailure(e, `Kubernetes login with role "${this.#conn.kubernetesRole}"`, this.#conn.address);
      }
    } else {
      if (!this.#conn.token) {
        throw new SealedSecretsError('ERR_KEY_STORE', 'no Vault token', { hint: 'set VAULT_TOKEN or --vault-token-file, or --vault-auth-role for Kubernetes auth' });
      }
      try {
        const self = await this.#client.tokenLookupSelf();
        this.#scheduleRenewal(self.data.ttl, self.data.renewable);
      } catch (e) {
        this.errors++;
        throw vaultFailure(e, 'token lookup', this.#conn.address);
      }
    }
    this.#loggedIn = true;
  }

  #scheduleRenewal(ttlSeconds: number, renewable: boolean): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    if (!renewable || !ttlSeconds) return;
    this.#renewTimer = setTimeout(() => {
      this.#client.tokenRenewSelf().then(
        () => this.#scheduleRenewal(ttlSeconds, renewable),
        () => {
          this.errors++;
          this.#loggedIn = false;
        },
      );
    }, Math.max(1000, (ttlSeconds * 1000) / 2));
    this.#renewTimer.unref?.();
  }

  close(): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
  }

  async health(): Promise<{ sealed: boolean }> {
    try {
      const h = await this.#client.health();
      return { sealed: Boolean(h.sealed) };
    } catch (e) {
      this.errors++;
      throw vaultFailure(e, 'health check', this.#conn.address);
    }
  }

  #toStored(name: string, e: Entry): StoredKey {
    const id = `vault:${this.#o.mount}/${this.#o.pathPrefix}${name}`;
    const { privateKey, publicKey } = parsePrivateKeyPem(e['tls.key'], id);
    const cert = parseCertificatePem(e['tls.crt'], id);
    const fingerprint = publicKeyFingerprint(publicKey);
    if (publicKeyFingerprint(cert.publicKey) !== fingerprint) throw new Error('tls.crt does not belong to tls.key');
    const notBefore = Date.parse(cert.certificate.validFrom);
    return {
      id,
      fingerprint,
      privateKey,
      publicKey,
      certificatePem: cert.pem,
      notBefore,
      createdAt: Date.parse(e.created) || notBefore,
      ...(e.activateAt ? { activateAt: Date.parse(e.activateAt) } : {}),
    };
  }

  async load(onInvalid?: (id: string, reason: string) => void, onRetired?: (fingerprint: string, id: string) => void): Promise<StoredKey[]> {
    const base = `${this.#o.mount}/metadata/${this.#o.pathPrefix.replace(/\/+$/, '')}`;
    const listed = await this.#call('list of keys', () => this.#client.list(base), true);
    const names = (listed?.data.keys ?? []).filter((n) => !n.endsWith('/'));
    const out: StoredKey[] = [];
    for (const name of names) {
      const r = await this.#call(`read of key ${name}`, () => this.#client.read(`${this.#o.mount}/data/${this.#o.pathPrefix}${name}`), true);
      if (!r) continue;
      const e = r.data.data as unknown as Entry;
      if (e.state === 'retired') {
        // By its certificate's key (what a holder knows it by), else by its fingerprint field.
        try {
          onRetired?.(publicKeyFingerprint(parseCertificatePem(e['tls.crt'], name).publicKey), `vault:${this.#o.pathPrefix}${name}`);
        } catch {
          if (typeof e.fingerprint === 'string' && e.fingerprint) onRetired?.(e.fingerprint, `vault:${this.#o.pathPrefix}${name}`);
        }
        continue;
      }
      try {
        out.push(this.#toStored(name, e));
      } catch (err) {
        onInvalid?.(`vault:${this.#o.pathPrefix}${name}`, (err as Error).message);
      }
    }
    return out;
  }

  #entry(key: NewKey): Entry {
    return {
      'tls.crt': key.certificatePem,
      'tls.key': privateKeyToPem(key.privateKey),
      fingerprint: publicKeyFingerprint(key.publicKey),
      size: key.publicKey.asymmetricKeyDetails?.modulusLength ?? 0,
      created: new Date(this.#now()).toISOString(),
      state: 'active',
      ...(key.activateAt ? { activateAt: new Date(key.activateAt).toISOString() } : {}),
    };
  }

  #newName(): string {
    const t = new Date(this.#now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'z').toLowerCase();
    return `key-${t}-${randomBytes(3).toString('hex')}`;
  }

  async #writeNew(name: string, entry: Entry): Promise<void> {
    await this.#call(`write of key ${name}`, () => this.#client.write(`${this.#o.mount}/data/${this.#o.pathPrefix}${name}`, { options: { cas: 0 }, data: entry }));
  }

  /**
   * The head serializes rotators by its version alone: read it, check that no key unknown to the
   * caller is stored, then claim it with check-and-set at the version read. A key stored before the
   * head was read is seen by the check; one stored after moved the head, and the claim fails. What
   * the head says is informational: a head left dangling (a rotator that died after its claim, or
   * after writing its key but before moving the head; a head naming a key that is gone after a wipe
   * and restore; keys imported without it) never blocks a rotation, and the next one rewrites it.
   */
  async createIfNoNewKey(known: Iterable<string>, key: NewKey): Promise<StoredKey | undefined> {
    const head = await this.#call('read of the rotation head', () => this.#client.read(this.#headPath), true);
    const version = head?.data.metadata.version ?? 0;
    const k = new Set(known);
    if ((await this.load()).some((x) => !k.has(x.fingerprint))) return undefined;
    const name = this.#newName();
    // Claim first: of racing rotators, only the one whose check-and-set lands goes on.
    try {
      await this.#call('claim of the rotation head', () => this.#client.write(this.#headPath, { options: { cas: version }, data: { newest: String(head?.data.data['newest'] ?? ''), claim: name, claimedAt: new Date(this.#now()).toISOString() } }));
    } catch (e) {
      if (e instanceof SealedSecretsError && /check-and-set/.test(e.message)) return undefined;
      throw e;
    }
    const entry = this.#entry(key);
    await this.#writeNew(name, entry);
    await this.#call('update of the rotation head', () => this.#client.write(this.#headPath, { options: { cas: version + 1 }, data: { newest: entry.fingerprint, key: name } }));
    return this.#toStored(name, entry);
  }

  async retire(fingerprint: string): Promise<void> {
    const base = `${this.#o.mount}/metadata/${this.#o.pathPrefix.replace(/\/+$/, '')}`;
    const listed = await this.#call('list of keys', () => this.#client.list(base), true);
    let retired = 0;
    // Every entry holding it (a key imported twice has two): one left active would keep it loaded.
    for (const name of (listed?.data.keys ?? []).filter((n) => !n.endsWith('/'))) {
      const path = `${this.#o.mount}/data/${this.#o.pathPrefix}${name}`;
      const r = await this.#call(`read of key ${name}`, () => this.#client.read(path), true);
      const e = r?.data.data as unknown as Entry | undefined;
      if (!r || !e || e.fingerprint !== fingerprint || e.state === 'retired') continue;
      await this.#call(`retire of key ${name}`, () => this.#client.write(path, { options: { cas: r.data.metadata.version }, data: { ...e, state: 'retired', retired: new Date(this.#now()).toISOString() } }));
      retired++;
    }
    if (retired) return;
    throw new SealedSecretsError('ERR_KEY_STORE', `no active key ${fingerprint} in Vault under ${this.#o.pathPrefix}`);
  }

  async importKey(key: NewKey): Promise<StoredKey | 'exists'> {
    checkCertificateBelongs(key.publicKey, key.certificatePem, 'key to import');
    const fp = publicKeyFingerprint(key.publicKey);
    if ((await this.load()).some((k) => k.fingerprint === fp)) return 'exists';
    const name = this.#newName();
    const entry = this.#entry(key);
    await this.#writeNew(name, entry);
    return this.#toStored(name, entry);
  }
}
