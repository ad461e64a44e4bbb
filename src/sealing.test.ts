import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealedSecretCases, vectorKeys } from '../test/vectors.js';
import { ANNOTATION_CLUSTER_WIDE, ANNOTATION_KEY_HINT, ANNOTATION_NAMESPACE_WIDE, type Secret } from './api/types.js';
import { parsePrivateKeyPem, publicKeyFingerprint } from './crypto/keys.js';
import { SealedSecretsError } from './errors.js';
import { KeyRing } from './keyring.js';
import { mergeSealedSecrets, sealSecret, unsealSealedSecret } from './sealing.js';

const keys = vectorKeys();
const ringFor = (pem: string) => {
  const ring = new KeyRing();
  const { privateKey, publicKey } = parsePrivateKeyPem(pem, 'test key');
  ring.add(privateKey, publicKey);
  return ring;
};
function thrown(f: () => unknown): SealedSecretsError {
  try {
    f();
  } catch (e) {
    if (e instanceof SealedSecretsError) return e;
    throw e;
  }
  throw new Error('expected a SealedSecretsError');
}

describe('upstream SealedSecret vectors', () => {
  it.each(sealedSecretCases().map((c) => [c.id, c.description, c]))('%s: %s', (_id, _d, c) => {
    const ring = ringFor(c.privateKeyPem);
    if (c.expected.ok) {
      const { secret } = unsealSealedSecret(c.sealedSecret, ring);
      expect(secret).toEqual(c.expected.secret);
    } else {
      const e = thrown(() => unsealSealedSecret(c.sealedSecret, ring));
      expect(e.message.startsWith(c.expected.errorPrefix!)).toBe(true);
      for (const k of c.expected.errorMentions ?? []) expect(e.message).toContain(k);
      expect(e.message).not.toMatch(/[A-Za-z0-9+/]{40,}/); // no blob or plaintext echoed
    }
  });
});

describe('sealSecret', () => {
  const k = keys.find((k) => k.id === 'dev-rsa2048')!;
  const cert = createPublicKey(k.certPem);
  const ring = ringFor(k.privateKeyPem);
  const fingerprint = publicKeyFingerprint(cert);
  const secret = (): Secret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: 'db',
      namespace: 'prod',
      labels: { app: 'db' },
      annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      uid: 'abc',
      resourceVersion: '12',
      creationTimestamp: '2024-01-01T00:00:00Z',
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'y' }],
    },
    type: 'kubernetes.io/basic-auth',
    immutable: true,
    data: { username: Buffer.from('admin').toString('base64') },
    stringData: { password: 'p@ss w0rd\n' },
  });

  it('builds the SealedSecret kubeseal builds, and unseals back to the same data', () => {
    const ss = sealSecret(secret(), { publicKey: cert, fingerprint });
    expect(ss.kind).toBe('SealedSecret');
    expect(ss.apiVersion).toBe('bitnami.com/v1alpha1');
    expect(ss.metadata).toEqual({ name: 'db', namespace: 'prod', annotations: { [ANNOTATION_KEY_HINT]: fingerprint } });
    expect(ss.spec.template).toEqual({
      metadata: { name: 'db', namespace: 'prod', labels: { app: 'db' }, annotations: { note: 'x' } },
      type: 'kubernetes.io/basic-auth',
      immutable: true,
    });
    expect(Object.keys(ss.spec.encryptedData)).toEqual(['password', 'username']);
    expect(ss.spec.encryptedData['password']).toMatch(/^AQ[A-D]/); // 2048-bit blobs start AQA..AQD
    const { secret: out, rsaOperations } = unsealSealedSecret(ss, ring);
    expect(out.data).toEqual({ password: Buffer.from('p@ss w0rd\n').toString('base64'), username: Buffer.from('admin').toString('base64') });
    expect(out.type).toBe('kubernetes.io/basic-auth');
    expect(out.immutable).toBe(true);
    expect(rsaOperations).toBe(2);
  });

  it('writes the scope annotation at the top level and in the template, and an explicit scope wins', () => {
    const s = secret();
    s.metadata.annotations![ANNOTATION_CLUSTER_WIDE] = 'true';
    const byAnnotation = sealSecret(s, { publicKey: cert });
    expect(byAnnotation.metadata.annotations).toEqual({ [ANNOTATION_CLUSTER_WIDE]: 'true' });
    const byFlag = sealSecret(s, { publicKey: cert }, { scope: 'namespace-wide' });
    expect(byFlag.metadata.annotations).toEqual({ [ANNOTATION_NAMESPACE_WIDE]: 'true' });
    expect(byFlag.spec.template!.metadata!.annotations).toEqual({ note: 'x', [ANNOTATION_NAMESPACE_WIDE]: 'true' });
    const strict = sealSecret(s, { publicKey: cert }, { scope: 'strict' });
    expect(strict.metadata.annotations).toBeUndefined();
  });

  it('a namespace-wide SealedSecret may be renamed, a strict one may not', () => {
    const nsWide = sealSecret(secret(), { publicKey: cert }, { scope: 'namespace-wide' });
    nsWide.metadata.name = 'renamed';
    expect(unsealSealedSecret(nsWide, ring).secret.metadata.name).toBe('renamed');
    const strict = sealSecret(secret(), { publicKey: cert });
    strict.metadata.name = 'renamed';
    const e = thrown(() => unsealSealedSecret(strict, ring));
    expect(e.code).toBe('ERR_DECRYPT');
    expect(e.message).toBe('no key could decrypt secret (password, username)');
    expect(e.hint).toContain('another namespace, name or scope');
  });

  it('fills a missing namespace and refuses a contradicting one', () => {
    const s = secret();
    delete s.metadata.namespace;
    expect(sealSecret(s, { publicKey: cert }, { namespace: 'dev' }).metadata.namespace).toBe('dev');
    expect(sealSecret(s, { publicKey: cert }, {}).metadata.namespace).toBe('default');
    expect(sealSecret(s, { publicKey: cert }, { scope: 'cluster-wide' }).metadata.namespace).toBeUndefined();
    const e = thrown(() => sealSecret(secret(), { publicKey: cert }, { namespace: 'dev' }));
    expect(e.code).toBe('ERR_NAME');
    expect(e.message).toBe('namespace mismatch: input secret is in namespace "prod" but "dev" was specified');
  });

  it('refuses empty data unless allowed, other kinds, bad base64 and a missing name', () => {
    const empty = { ...secret(), data: {}, stringData: {} };
    expect(thrown(() => sealSecret(empty, { publicKey: cert })).code).toBe('ERR_EMPTY_DATA');
    expect(sealSecret(empty, { publicKey: cert }, { allowEmptyData: true }).spec.encryptedData).toEqual({});
    expect(thrown(() => sealSecret({ ...secret(), kind: 'ConfigMap' }, { publicKey: cert })).message).toBe('ConfigMap prod/db is not a Secret');
    const bad = thrown(() => sealSecret({ ...secret(), data: { k: 'not base64!' } }, { publicKey: cert }));
    expect(bad.code).toBe('ERR_BAD_BASE64');
    expect(bad.message).toBe('Secret prod/db: data["k"] is not valid base64');
    const noName = secret();
    delete noName.metadata.name;
    expect(thrown(() => sealSecret(noName, { publicKey: cert })).code).toBe('ERR_NAME');
    expect(sealSecret(noName, { publicKey: cert }, { name: 'given' }).metadata.name).toBe('given');
  });

  it('merges new items into an existing SealedSecret, keeping its identity and template', () => {
    const base = sealSecret(secret(), { publicKey: cert });
    base.spec.template!.data = { url: 'postgres://{{ .username }}@db' };
    const update = sealSecret(
      { metadata: { name: 'db', namespace: 'prod', labels: { tier: 'backend' } }, stringData: { password: 'new', token: 't' } },
      { publicKey: cert, fingerprint },
    );
    const merged = mergeSealedSecrets(base, update);
    expect(Object.keys(merged.spec.encryptedData)).toEqual(['password', 'token', 'username']);
    expect(merged.spec.encryptedData['username']).toBe(base.spec.encryptedData['username']);
    expect(merged.spec.template!.metadata!.labels).toEqual({ app: 'db', tier: 'backend' });
    expect(merged.spec.template!.data).toEqual({ url: 'postgres://{{ .username }}@db' });
    expect(merged.metadata.annotations![ANNOTATION_KEY_HINT]).toBe(fingerprint);
    const out = unsealSealedSecret(merged, ring).secret;
    expect(Buffer.from(out.data!['password']!, 'base64').toString()).toBe('new');
    expect(Buffer.from(out.data!['url']!, 'base64').toString()).toBe('postgres://admin@db');
  });
});

describe('template.data edge cases', () => {
  it('a null template deletes the item, as upstream does', () => {
    const k = keys.find((k) => k.id === 'dev-rsa2048')!;
    const ss = sealSecret({ metadata: { name: 'n', namespace: 'ns' }, stringData: { keep: 'a', drop: 'b' } }, { publicKey: createPublicKey(k.certPem) });
    ss.spec.template!.data = { drop: null as unknown as string };
    expect(Object.keys(unsealSealedSecret(ss, ringFor(k.privateKeyPem)).secret.data!)).toEqual(['keep']);
  });

  it('refuses metadata that Kubernetes would refuse, naming the field', () => {
    const k = keys.find((k) => k.id === 'dev-rsa2048')!;
    const bad = { metadata: { name: 'n', namespace: 'ns', annotations: { 'sealedsecrets.bitnami.com/cluster-wide': true } }, stringData: { a: 'b' } } as unknown as Secret;
    expect(thrown(() => sealSecret(bad, { publicKey: createPublicKey(k.certPem) })).message).toBe(
      'Secret ns/n: metadata.annotations["sealedsecrets.bitnami.com/cluster-wide"] must be a string, not boolean',
    );
  });
});

describe('key hints', () => {
  it('a hinted key is tried first: an old-key SealedSecret costs one RSA operation per item in a ring of 3', () => {
    const [a, b, c] = keys.filter((k) => k.bits === 2048 || k.bits === 3072).map((k) => parsePrivateKeyPem(k.privateKeyPem, k.id));
    const ring = new KeyRing();
    ring.add(a!.privateKey, a!.publicKey, { orderingTime: 1 });
    ring.add(b!.privateKey, b!.publicKey, { orderingTime: 2 });
    ring.add(c!.privateKey, c!.publicKey, { orderingTime: 3 });
    const s: Secret = { metadata: { name: 'n', namespace: 'ns' }, stringData: { a: '1', b: '2', c: '3' } };
    // a and c are 2048-bit keys, b is 3072-bit; c is the newest. Sealed for b with a hint: one operation per item.
    const hinted = sealSecret(s, { publicKey: b!.publicKey, fingerprint: publicKeyFingerprint(b!.publicKey) });
    expect(unsealSealedSecret(hinted, ring).rsaOperations).toBe(3);
    const unhinted = sealSecret(s, { publicKey: a!.publicKey });
    // Sealed for a without a hint: the first item tries c (newest, wrong), skips b (3072-bit: no RSA
    // operation), then opens with a; the other two items try a first. 2 + 1 + 1.
    expect(unsealSealedSecret(unhinted, ring).rsaOperations).toBe(4);
  });
});

describe('found by the hostile-input tests', () => {
  it('a template.data value that is not a string is a template error, not a crash', () => {
    const k = keys.find((k) => k.id === 'dev-rsa2048')!;
    const ss = sealSecret({ metadata: { name: 'n', namespace: 'ns' }, stringData: { a: 'b' } }, { publicKey: createPublicKey(k.certPem) });
    ss.spec.template!.data = { weird: Object.create(null) as string };
    const e = thrown(() => unsealSealedSecret(ss, ringFor(k.privateKeyPem)));
    expect(e.code).toBe('ERR_TEMPLATE');
    expect(e.message).toBe('template.data["weird"] must be a string (a template), not object');
  });
});
