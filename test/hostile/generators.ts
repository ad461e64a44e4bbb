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

/** The template programs below, for generators defined before them. */
const templateProgramLazy = (): fc.Arbitrary<string> => fc.constant(null).chain(() => templateProgram);

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
              fc.record({ type: fc.oneof(fc.string(), idJunk), metadata: idJunk, data: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.constant('{{ .x }}'), fc.constant('{{ if }}'), fc.constant(`{{ "${MARKER}" | b64dec }}`), templateProgramLazy(), junk), { maxKeys: 3 }), junk) }, { requiredKeys: [] }),
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

const TEMPLATE_FUNCS = ['index', 'print', 'printf', 'len', 'upper', 'lower', 'trim', 'trimPrefix', 'trimSuffix', 'quote', 'squote', 'b64enc', 'b64dec', 'replace', 'default', 'indent', 'nindent'];

/**
 * Template programs in the supported language and around it: nested calls and pipelines over
 * the values, literals that make results grow, and names that must not resolve (Object.prototype
 * members, upstream functions we refuse). Used to check that whether a template fails in public
 * never depends on the values, and that no program gets past the rendering budget.
 */
export const templateProgram: fc.Arbitrary<string> = (() => {
  const lit = fc.oneof(
    fc.constantFrom('"a"', '"aaaaaaaaaaaaaaaa"', '"§"', '""', '"YWJj"', '"%s%d%q%x"', '`raw`', '"\\n"', `"${MARKER}"`),
    fc.constantFrom('0', '1', '5', '-1', '2000', '1024', 'true', 'false'),
    fc.nat({ max: 64 }).map((n) => `"${'x'.repeat(n * 16)}"`),
  );
  const leaf = fc.oneof(fc.constantFrom('.password', '.user', '.bin', '.missing', '.', '(index . "password")'), lit);
  const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.tuple(fc.constantFrom(...TEMPLATE_FUNCS, 'constructor', 'toString', 'env', 'if'), fc.array(tie('e'), { maxLength: 3 })).map(([f, args]) => `(${[f, ...args].join(' ')})`),
      fc.tuple(tie('e'), fc.constantFrom(...TEMPLATE_FUNCS), fc.array(tie('e'), { maxLength: 2 })).map(([x, f, args]) => `(${x} | ${[f, ...args].join(' ')})`),
    ),
  })).e;
  const part = fc.oneof(fc.constantFrom('text ', '\n', ''), expr.map((e) => `{{ ${e} }}`), expr.map((e) => `{{- ${e} -}}`));
  return fc.array(part, { minLength: 1, maxLength: 4 }).map((ps) => ps.join(''));
})();

/** Two sets of values with the same keys and lengths (what the ciphertexts reveal), different bytes. */
export const twinValues: fc.Arbitrary<[Map<string, Buffer>, Map<string, Buffer>]> = fc
  .tuple(fc.nat({ max: 24 }), fc.nat({ max: 24 }), fc.nat({ max: 8 }))
  .chain(([p, u, b]) =>
    fc.tuple(
      ...[p, u, b].map((n) => fc.oneof(fc.uint8Array({ minLength: n, maxLength: n }), fc.constant(new Uint8Array(n).fill(0x61)), fc.constant(Buffer.from('YWJjZA=='.repeat(4).slice(0, n))))),
      ...[p, u, b].map((n) => fc.oneof(fc.uint8Array({ minLength: n, maxLength: n }), fc.constant(new Uint8Array(n).fill(0x61)), fc.constant(Buffer.from('YWJjZA=='.repeat(4).slice(0, n))))),
    ),
  )
  .map(([p1, u1, b1, p2, u2, b2]) => [
    new Map([['password', Buffer.from(p1!)], ['user', Buffer.from(u1!)], ['bin', Buffer.from(b1!)]]),
    new Map([['password', Buffer.from(p2!)], ['user', Buffer.from(u2!)], ['bin', Buffer.from(b2!)]]),
  ]);
