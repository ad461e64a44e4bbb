import { describe, expect, it } from 'vitest';
import { namespaceFlag, parseGoDuration, parseRequestTimeout } from './kubeconfig.js';

describe('--request-timeout as client-go ParseTimeout reads it', () => {
  it.each([
    ['0', 0],
    ['30', 30_000],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1h2m3.5s', 3_723_500],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['-1s', 0], // Go accepts it; a negative timeout is no timeout
    ['2us', 0.002],
  ])('%s is %d ms', (v, ms) => expect(parseRequestTimeout(v)).toBe(ms));

  it.each(['', 'soon', '1x', '5 minutes', '1.2.3s', 's', '-', '1d'])('%j is refused with client-go\'s text', (v) => {
    expect(() => parseRequestTimeout(v)).toThrow(/^Invalid timeout value\. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit \(e\.g\. 1s \| 2m \| 3h\)$/);
  });

  it('parses Go durations with signs and fractions', () => {
    expect(parseGoDuration('+2m')).toBe(120_000);
    expect(parseGoDuration('-1.5s')).toBe(-1500);
    expect(parseGoDuration('.5s')).toBe(500);
    expect(parseGoDuration('1h')).toBe(3_600_000);
    expect(parseGoDuration('1')).toBeUndefined(); // Go: "missing unit in duration"
  });
});

describe('-n as client-go RemoveNamespacesPrefix transforms it', () => {
  it.each([
    ['prod', 'prod'],
    ['ns/prod', 'prod'],
    ['NS/prod', 'prod'],
    ['namespace/prod', 'prod'],
    ['namespaces/prod', 'prod'],
    ['ns/', 'ns/'],
    ['pods/prod', 'pods/prod'],
  ])('%s is %s', (v, want) => expect(namespaceFlag(v)).toBe(want));
});
