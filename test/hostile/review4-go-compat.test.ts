/**
 * Fourth adversarial review (template engine), compatibility: fmt rounds exact halves as JS does
 * (toFixed/toExponential pick the larger candidate), Go's strconv rounds them to even.
 * Expected strings are Go 1.19's fmt.Sprintf output.
 */
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../src/template.js';

const render = (tpl: string) => renderTemplate('out', tpl, new Map()).toString('utf8');

describe('review4: Go compatibility of fmt', () => {
  it.each([
    ['{{ printf "%.0f" 2.5 }}', '2'],
    ['{{ printf "%.0f" 3.5 }}', '4'],
    ['{{ printf "%.1f" 0.25 }}', '0.2'],
    ['{{ printf "%.2f" 1.125 }}', '1.12'],
    ['{{ printf "%.1e" 1.25 }}', '1.2e+00'],
    ['{{ printf "%.2g" 2.25 }}', '2.2'],
    ['{{ printf "%.0e" 2.5 }}', '2e+00'],
    // %#g keeps trailing zeros up to the precision (6 by default)
    ['{{ printf "%#.4g" 1.0 }}', '1.000'],
    ['{{ printf "%#g" 1.0 }}', '1.00000'],
  ])('%s renders %s', (tpl, want) => {
    expect(render(tpl)).toBe(want);
  });
});

describe('review4: Go compatibility of the parser', () => {
  it('an if / else if chain of 60 branches parses (Go nests else-if internally but has no depth limit)', () => {
    const tpl = '{{ if eq .v "0" }}0' + Array.from({ length: 59 }, (_, i) => `{{ else if eq .v "${i + 1}" }}${i + 1}`).join('') + '{{ else }}none{{ end }}';
    expect(renderTemplate('out', tpl, new Map([['v', Buffer.from('42')]])).toString()).toBe('42');
  });
});
