/**
 * Go's unicode predicates and simple case mappings for single runes (Go uses the
 * UnicodeData simple mappings: one rune to one rune, never "ß" -> "SS").
 */

const reUpper = /^\p{Lu}$/u;
const reLower = /^\p{Ll}$/u;
const reTitle = /^\p{Lt}$/u;
const reLetter = /^\p{L}$/u;
const reNumber = /^\p{N}$/u;
const reDigit = /^\p{Nd}$/u;
const rePunct = /^\p{P}$/u;
const reSpace = /^\p{White_Space}$/u;

const ch = (r: number) => String.fromCodePoint(r);

/** Per-rune answers cached (Unicode property regexes cost ~1 us a test); bounded so no input can grow it past 8192 runes. */
function cached(f: (r: number) => number): (r: number) => number {
  const memo = new Map<number, number>();
  return (r) => {
    let v = memo.get(r);
    if (v === undefined) {
      v = f(r);
      if (memo.size < 8192) memo.set(r, v);
    }
    return v;
  };
}
const pred = (re: RegExp) => {
  const c = cached((r) => (re.test(ch(r)) ? 1 : 0));
  return (r: number) => c(r) === 1;
};

const spaceU = pred(reSpace);
const upperU = pred(reUpper);
const lowerU = pred(reLower);
const titleU = pred(reTitle);
const letterU = pred(reLetter);
const numberU = pred(reNumber);
const digitU = pred(reDigit);
const punctU = pred(rePunct);
export function isSpace(r: number): boolean {
  if (r < 0x100) return r === 32 || (r >= 9 && r <= 13) || r === 0x85 || r === 0xa0;
  return spaceU(r);
}
export const isUpper = (r: number): boolean => (r < 0x80 ? r >= 65 && r <= 90 : upperU(r));
export const isLower = (r: number): boolean => (r < 0x80 ? r >= 97 && r <= 122 : lowerU(r));
export const isTitle = (r: number): boolean => r >= 0x80 && titleU(r);
export const isLetter = (r: number): boolean => (r < 0x80 ? (r | 32) >= 97 && (r | 32) <= 122 : letterU(r));
export const isNumber = (r: number): boolean => (r < 0x80 ? r >= 48 && r <= 57 : numberU(r));
export const isDigit = (r: number): boolean => (r < 0x80 ? r >= 48 && r <= 57 : digitU(r));
export const isPunct = (r: number): boolean => (r < 0x80 ? rePunct.test(ch(r)) : r !== 0xfffd && punctU(r));

function single(s: string, r: number): number {
  const cp = s.codePointAt(0)!;
  return s.length === ch(cp).length ? cp : r;
}

const upperMap = cached((r) => single(ch(r).toUpperCase(), r));
const lowerMap = cached((r) => (r === 0x130 ? 0x69 /* İ: Go's simple lowercase is 'i' */ : single(ch(r).toLowerCase(), r)));
export function toUpper(r: number): number {
  if (r < 0x80) return r >= 97 && r <= 122 ? r - 32 : r;
  return upperMap(r);
}
export function toLower(r: number): number {
  if (r < 0x80) return r >= 65 && r <= 90 ? r + 32 : r;
  return lowerMap(r);
}
/** unicode.ToTitle: upper case, except the Latin digraphs whose title form is their middle letter. */
export function toTitle(r: number): number {
  const digraph: Record<number, number> = { 0x1c4: 0x1c5, 0x1c5: 0x1c5, 0x1c6: 0x1c5, 0x1c7: 0x1c8, 0x1c8: 0x1c8, 0x1c9: 0x1c8, 0x1ca: 0x1cb, 0x1cb: 0x1cb, 0x1cc: 0x1cb, 0x1f1: 0x1f2, 0x1f2: 0x1f2, 0x1f3: 0x1f2 };
  return digraph[r] ?? toUpper(r);
}
