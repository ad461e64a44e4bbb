/**
 * One error type for every failure a user, a cluster or Vault can cause.
 *
 * The code is stable and machine-readable (callers branch on it, the controller
 * picks retry-or-drop from it); the message is for people: it states the fact,
 * names the object and says what to do. Pattern: panva/jose src/util/errors.ts.
 *
 * Messages and causes never carry plaintext, private or session keys, or tokens.
 */

export const ERROR_CODES = [
  /** No retained key opened a value (wrong key, label, tampering, truncation: one uniform failure). */
  'ERR_DECRYPT',
  /** An encryptedData value (or other base64 field) is not valid standard base64. */
  'ERR_BAD_BASE64',
  /** The input is not parseable JSON/YAML, or has the wrong shape. */
  'ERR_INVALID_INPUT',
  /** The object is of the wrong kind for the operation (e.g. a ConfigMap given to seal). */
  'ERR_WRONG_KIND',
  /** A Secret with neither data nor stringData, without --allow-empty-data. */
  'ERR_EMPTY_DATA',
  /** A name or namespace is missing or contradicts another input. */
  'ERR_NAME',
  /** An unknown sealing scope. */
  'ERR_SCOPE',
  /** A certificate that cannot be parsed or does not hold an RSA key. */
  'ERR_CERT_INVALID',
  /** A certificate past its notAfter (or not yet valid). */
  'ERR_CERT_EXPIRED',
  /** A certificate that could not be fetched. */
  'ERR_CERT_FETCH',
  /** A private key that cannot be parsed or is not RSA. */
  'ERR_KEY_INVALID',
  /** A key ring with no key where one is needed. */
  'ERR_NO_KEYS',
  /** spec.template.data that uses unsupported template syntax or fails to render. */
  'ERR_TEMPLATE',
  /**
   * The decrypted values cannot make the Secret: a template fails while rendering over them,
   * the data is over Kubernetes' size limit, or it is not what the Secret's type needs.
   * Whether it happens may depend on the plaintext: report it only where readers of the
   * Secret look, never in status, Events, metrics, logs or HTTP answers (SECURITY.md).
   */
  'ERR_VALUE',
  /** The deprecated v1 spec.data blob where it is not accepted, or together with encryptedData. */
  'ERR_DEPRECATED_V1',
  /** Bad command-line usage (exit code 2). */
  'ERR_USAGE',
  /** A file or stream could not be read or written. */
  'ERR_IO',
  /** An existing Secret is not owned by the SealedSecret and may not be taken over. */
  'ERR_UNMANAGED',
  /** The Kubernetes API refused or failed a write. */
  'ERR_UPDATE_FAILED',
  /** The Kubernetes API or another remote dependency is unreachable or failing. */
  'ERR_UNAVAILABLE',
  /** The key store (Kubernetes Secrets, Vault) failed. */
  'ERR_KEY_STORE',
  /** A request was refused by a rate limit. */
  'ERR_RATE_LIMITED',
  /** A request body or input over the allowed size. */
  'ERR_TOO_LARGE',
  /** A worker thread died or a job could not be run. */
  'ERR_WORKER',
  /** An operation was given up after a timeout. */
  'ERR_TIMEOUT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorJSON {
  code: ErrorCode;
  message: string;
  hint?: string;
}

export class SealedSecretsError extends Error {
  readonly code: ErrorCode;
  /** The likely causes and what to do, said separately so callers may show or drop it. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SealedSecretsError';
    this.code = code;
    this.hint = options?.hint;
  }

  /** The message with its hint, on one line, as people should read it. */
  get detail(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

/** The same error with the object it concerns named in front: "SealedSecret prod/db: ...". */
export function inContext(e: SealedSecretsError, context: string): SealedSecretsError {
  return new SealedSecretsError(e.code, `${context}: ${e.message}`, e.hint === undefined ? undefined : { hint: e.hint });
}

export function isSealedSecretsError(e: unknown, code?: ErrorCode): e is SealedSecretsError {
  return e instanceof SealedSecretsError && (code === undefined || e.code === code);
}

/** Structured clone drops subclasses and own fields: errors cross threads as plain data. */
export function toErrorJSON(e: unknown): ErrorJSON {
  if (e instanceof SealedSecretsError) {
    return e.hint === undefined
      ? { code: e.code, message: e.message }
      : { code: e.code, message: e.message, hint: e.hint };
  }
  // An unexpected failure: never forward its text, which may quote data it was handling.
  return { code: 'ERR_WORKER', message: 'internal error while processing the request' };
}

export function fromErrorJSON(j: ErrorJSON): SealedSecretsError {
  const code = (ERROR_CODES as readonly string[]).includes(j.code) ? j.code : 'ERR_WORKER';
  return new SealedSecretsError(code, String(j.message), j.hint === undefined ? undefined : { hint: j.hint });
}

/**
 * A description of a foreign error (a library's, a parser's, a plugin's) that quotes none of
 * the input it was handling: YAML and JSON parsers put a snippet of the source in their
 * message (a kubeconfig's token, a Secret's value), exec plugins their stderr. Gives the
 * error's code, or a parser's reason with its line and column, or its type: never its message.
 */
export function describeForeignError(e: unknown): string {
  if (e instanceof SealedSecretsError) return e.message;
  const x = e as { code?: unknown; name?: unknown; reason?: unknown; mark?: { line?: unknown; column?: unknown }; status?: unknown };
  if (x && typeof x === 'object') {
    if (typeof x.code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(x.code)) return x.code;
    if (x.mark && typeof x.mark.line === 'number') {
      const reason = typeof x.reason === 'string' && /^[\w ,.'()-]{1,80}$/.test(x.reason) ? x.reason : 'invalid YAML';
      return `${reason} at line ${x.mark.line + 1}, column ${Number(x.mark.column ?? 0) + 1}`;
    }
    if (typeof x.status === 'number') return `HTTP ${x.status}`;
    if (typeof x.name === 'string' && /^\w{1,40}$/.test(x.name)) return x.name;
  }
  return 'unknown error';
}

