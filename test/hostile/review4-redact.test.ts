/**
 * Fourth adversarial review (template engine): the ERR_VALUE message redaction (template.ts
 * redact(), "values of 4+ bytes redacted, messages cut at 2 KiB") is cosmetic.
 *
 * The message goes to the Secret's annotation `sealed-secrets-ts.io/unseal-error`, which tools that
 * mask data but show metadata (Argo CD's UI) show; SECURITY.md treats metadata access as access to
 * the Secret's *shape*, and commit a7ab300 promises "messages name values, never quote them". But
 * redact() only replaces the exact bytes of each whole value:
 * - any transform survives: `fail (b64enc .password)`, `printf "%x"`, `upper`, `splitList ""`
 *   + `join`, `substr 0 3`;
 * - the message is cut to 2048 bytes BEFORE redaction, so a value that straddles the cut is no
 *   longer whole and its head stays: `fail (print (repeat 1935 "x") .password)` keeps 12 bytes,
 *   and shifting the padding reads the value piece by piece.
 * Whoever can create a SealedSecret in the namespace (copying an encryptedData item) and read the
 * annotation gets the plaintext. Fix: do not put a function's free-form error text (fail's argument,
 * anything formatted from a value) in the annotation at all: keep Go's position and context (which
 * come from the template text) and a fixed reason ("error calling fail", "wrong type for value; ..."),
 * or redact after cutting AND drop fail's message; and say in SECURITY.md what the annotation carries.
 */
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../src/template.js';

const secret = 'correct-horse-battery-staple';
const data = new Map([['password', Buffer.from(secret)]]);

function messageOf(tpl: string): string {
  try {
    renderTemplate('out', tpl, data);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

describe('review4: ERR_VALUE messages still carry the values', () => {
  const forms: Record<string, string> = {
    b64: Buffer.from(secret).toString('base64'),
    hex: Buffer.from(secret).toString('hex'),
    upper: secret.toUpperCase(),
    spaced: [...secret].join(' '),
  };
  it.each([
    ['b64', '{{ fail (b64enc .password) }}'],
    ['hex', '{{ fail (printf "%x" .password) }}'],
    ['upper', '{{ fail (upper .password) }}'],
    ['spaced', '{{ fail (join " " (splitList "" .password)) }}'],
  ])('a transformed value (%s) is not redacted', (form, tpl) => {
    expect(messageOf(tpl)).not.toContain(forms[form]!);
  });

  it('the 2 KiB cut comes before redaction: the head of a straddling value stays', () => {
    const msg = messageOf('{{ fail (print (repeat 1935 "x") .password) }}');
    // Whatever the prefix length of the message, some padding puts the cut inside the value.
    const head = /x+([^x.]+)\.\.\.$/.exec(msg)?.[1] ?? '';
    expect(secret.startsWith(head) && head.length >= 4).toBe(false);
  });
});
