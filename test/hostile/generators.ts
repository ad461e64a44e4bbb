/**
 * Generators of hostile and broken input, shared by the hostile-input tests. Every
 * generated value that could carry a secret carries a marker, so the tests can
 * check that no error message, log line, status or response ever echoes it.
 */
import fc from 'fast-check';

export const MARKER = 'TOPSECRET-7f3a';

/**
 * A fixed seed by default, so a CI run is reproducible; FUZZ_SEED=random explores (the seed is
 * printed, to replay a failure with FUZZ_SEED=<seed>).
 */
export const FUZZ_SEED = process.env['FUZZ_SEED'] === 'random' ? Date.now() % 2 ** 31 : Number(process.env['FUZZ_SEED'] ?? 20261128);
fc.configureGlobal({ seed: FUZZ_SEED });
console.log(`hostile-input generators: seed ${FUZZ_SEED}`);

/** Arbitrary JSON-ish values, sometimes deep, sometimes carrying the marker. */
export const junk: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.string(),
    fc.constant(MARKER),
    fc.constant(`${MARKER}\n${MARKER}`),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Junk for identifier positions (kind, names): echoing those is how errors name the object, so they carry no marker. */
export const idJunk: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.string(),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const name = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.string(), fc.constant(''), fc.integer(), fc.constant(null));

/** SealedSecret-shaped objects with broken fields: missing, wrong types, bad base64, truncated or oversized blobs. */
export function brokenSealedSecret(validBlob: string): fc.Arbitrary<unknown> {
  const blob = fc.oneof(
    fc.constant(validBlob),
    fc.nat({ max: validBlob.length }).map((n) => validBlob.slice(0, n)),
    fc.constant(validBlob + 'AAAA'),
    fc.constant(`${MARKER}!!`),
    fc.base64String({ maxLength: 200 }),
    fc.constant(''),
    fc.constant('A'.repeat(4000)),
    junk,
  );
  return fc.record(
    {
      apiVersion: fc.oneof(fc.constant('bitnami.com/v1alpha1'), idJunk),
      kind: fc.oneof(fc.constant('SealedSecret'), fc.constant('Secret'), idJunk),
      metadata: fc.oneof(
        fc.record({ name, namespace: name, annotations: fc.oneof(fc.constant(undefined), fc.dictionary(fc.constantFrom('sealedsecrets.bitnami.com/cluster-wide', 'sealedsecrets.bitnami.com/namespace-wide', 'x'), fc.oneof(fc.constant('true'), fc.constant('True'), idJunk))) }, { requiredKeys: [] }),
        idJunk,
      ),
      spec: fc.oneof(
        fc.record(
          {
            encryptedData: fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), blob, { maxKeys: 5 }), junk),
            template: fc.oneof(
              fc.record({ type: fc.oneof(fc.string(), idJunk), metadata: idJunk, data: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.constant('{{ .x }}'), fc.constant('{{ if }}'), fc.constant(`{{ "${MARKER}" | b64dec }}`), junk), { maxKeys: 3 }), junk) }, { requiredKeys: [] }),
              junk,
            ),
            data: fc.oneof(fc.constant(undefined), fc.base64String({ maxLength: 100 }), junk),
          },
          { requiredKeys: [] },
        ),
        junk,
      ),
    },
    { requiredKeys: [] },
  );
}

/** Text that is almost a Kubernetes object: broken YAML and JSON, binary garbage, huge and deep documents. */
export const brokenDocument: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.string(),
  fc.uint8Array({ maxLength: 300 }),
  junk.map((v) => JSON.stringify(v) ?? 'null'),
  idJunk.map((v) => `kind: Secret\nmetadata: ${JSON.stringify(v)}\nstringData: {pw: ${MARKER}}\n`),
  fc.constantFrom(
    `{"kind":"Secret","stringData":{"pw":${MARKER}}}`,
    `kind: Secret\nmetadata: [${MARKER}\n`,
    `kind: Secret\nmetadata: {name: a}\nstringData: {pw: *${MARKER}}\n`,
    `kind: Secret\nmetadata: {name: a, namespace: b}\ndata: {pw: "${MARKER}"}\n`,
    '{'.repeat(3000),
    '[' .repeat(3000) + ']'.repeat(3000),
    `---\n---\n--- ${MARKER}\n`,
    '\u0000\u0001\u0002',
  ),
  fc.tuple(fc.string(), fc.string()).map(([a, b]) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${a}\n  namespace: x\nstringData:\n  k: "${b}"\n`),
);
