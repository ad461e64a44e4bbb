/**
 * The shared core's public surface. Code outside src/ imports src/ only through
 * this file (a test enforces it).
 */
export {
  ERROR_CODES,
  SealedSecretsError,
  describeForeignError,
  fromErrorJSON,
  inContext,
  isSealedSecretsError,
  toErrorJSON,
  type ErrorCode,
  type ErrorJSON,
} from './errors.js';
export {
  ANNOTATION_CLUSTER_WIDE,
  ANNOTATION_KEY_HINT,
  ANNOTATION_MANAGED,
  ANNOTATION_NAMESPACE_WIDE,
  ANNOTATION_PATCH,
  ANNOTATION_SKIP_SET_OWNER_REFERENCES,
  API_VERSION,
  EVENT_ERR_UNSEAL_FAILED,
  EVENT_ERR_UPDATE_FAILED,
  EVENT_UNSEALED,
  GROUP,
  KIND,
  LABEL_SEALING_KEY,
  LIST_KIND,
  PLURAL,
  VERSION,
  objectRef,
  printable,
  type ObjectMeta,
  type OwnerReference,
  type SealedSecret,
  type SealedSecretCondition,
  type SealedSecretSpec,
  type SealedSecretStatus,
  type Secret,
  type SecretTemplateSpec,
} from './api/types.js';
export { DEFAULT_SCOPE, SCOPES, encryptionLabel, parseScope, scopeFromAnnotations, withScopeAnnotations, type Scope } from './scope.js';
export { hybridEncrypt, openWithKey } from './crypto/hybrid.js';
export {
  DEFAULT_KEY_SIZE,
  KEY_SIZES,
  assertCertificateValid,
  generateRsaKeyPair,
  isKeySize,
  modulusBytes,
  parseCertificatePem,
  parsePrivateKeyPem,
  privateKeyToPem,
  publicKeyFingerprint,
  type KeySize,
  type ParsedCertificate,
  type RsaKeyPair,
} from './crypto/keys.js';
export { DEFAULT_CERT_TTL_MS, buildSelfSignedCertificate, type CertificateOptions } from './crypto/certificate.js';
export { KeyRing, type AddKeyOptions, type KeyEntry, type OpenResult } from './keyring.js';
export { MAX_OUTPUT_BYTES, TEMPLATE_LIMITS, TemplateBudget, parseTemplate, renderParsed, renderTemplate, warmTemplateEngine, type ParsedTemplate } from './template.js';
export {
  NO_KEY_COULD_DECRYPT,
  buildSecret,
  decodeBase64Strict,
  decryptError,
  keyHints,
  mergeSealedSecrets,
  planUnseal,
  reencryptSealedSecret,
  sealSecret,
  unsealSealedSecret,
  verifySealedSecret,
  placeholderSecret,
  MAX_SECRET_DATA_BYTES,
  type SealOptions,
  type SealingKey,
  type UnsealOptions,
  type UnsealPlan,
  type UnsealResult,
} from './sealing.js';
export {
  DEFAULT_KEY_PREFIX,
  keyFromSecret,
  keyToSecret,
  keysFromObjects,
  keysFromPem,
  type KeySecretOptions,
  type LoadedKey,
} from './key-secrets.js';
export { argsFromEnv, type FlagSpec } from './flag-env.js';
export { writeOutputFile, writePrivateFile, type PrivateFileOptions, type WriteFileOptions } from './file-write.js';
