/**
 * Reading and writing Kubernetes objects as JSON or YAML, one or many documents.
 * The YAML library is loaded only when YAML is read or written, so JSON in and
 * out never pays for it.
 */
import { SealedSecretsError } from '../src/index.js';

export type Format = 'json' | 'yaml';

export interface Documents {
  format: Format;
  objects: unknown[];
}

/** JSON when the first non-blank character opens an object or array; YAML otherwise. */
export function detectFormat(text: string): Format {
  const m = /^\s*(.)/.exec(text);
  return m && (m[1] === '{' || m[1] === '[') ? 'json' : 'yaml';
}

/** Splits a stream of concatenated JSON values ({..}{..} or one per line), as Go's decoder reads them. */
function parseJsonStream(text: string, source: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const c = text[i]!;
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      } else if (depth === 0) {
        throw new SealedSecretsError('ERR_INVALID_INPUT', `${source}: invalid JSON near byte ${start}: expected an object`);
      }
    }
    try {
      out.push(JSON.parse(text.slice(start, i)));
    } catch {
      // The parser's own message quotes the input, which may be a secret: give the place only.
      throw new SealedSecretsError('ERR_INVALID_INPUT', `${source}: invalid JSON in the object starting at byte ${start}`, {
        hint: 'check the input is a complete Kubernetes object in JSON or YAML',
      });
    }
  }
  return out;
}

/** Fixed texts for the yaml library's error codes (others are said by their code). */
const YAML_ERRORS: Record<string, string> = {
  BAD_DQ_ESCAPE: 'an invalid escape sequence in a double-quoted string',
  TAG_RESOLVE_FAILED: 'a tag that cannot be resolved',
  DUPLICATE_KEY: 'map keys must be unique',
  BAD_INDENT: 'bad indentation',
  MISSING_CHAR: 'a missing closing character',
  MULTILINE_IMPLICIT_KEY: 'an implicit key that spans lines',
  UNEXPECTED_TOKEN: 'an unexpected token',
  BLOCK_AS_IMPLICIT_KEY: 'a block used as an implicit key',
  ALIAS_PROPS: 'an alias with properties',
};

async function parseYamlStream(text: string, source: string): Promise<unknown[]> {
  const { parseAllDocuments } = await import('yaml');
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  for (const [n, doc] of list.entries()) {
    const err = doc.errors[0];
    if (err) {
      // The position only: the library's pretty errors quote the source, which may be secret.
      const before = text.slice(0, err.pos[0]);
      const line = before.split('\n').length;
      const where = ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
      // The library's messages quote what they stumbled on (an escape, a tag), which may be a
      // secret value: the error's code says what is wrong in fixed words.
      const what = YAML_ERRORS[err.code] ?? err.code.toLowerCase().replaceAll('_', ' ');
      throw new SealedSecretsError('ERR_INVALID_INPUT', `${source}: invalid YAML in document ${n + 1}${where}: ${what}`, {
        hint: 'check the input is a Kubernetes object in JSON or YAML',
      });
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch {
      throw new SealedSecretsError('ERR_INVALID_INPUT', `${source}: document ${n + 1} uses YAML aliases that are undefined or expand too much`, {
        hint: 'write the values out instead of using anchors and aliases',
      });
    }
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

const MAX_DEPTH = 64;

function depthOver(v: unknown, max: number): boolean {
  if (max < 0) return true;
  if (!v || typeof v !== 'object') return false;
  for (const c of Array.isArray(v) ? v : Object.values(v)) if (depthOver(c, max - 1)) return true;
  return false;
}

/** Parses every document of a JSON or YAML stream; empty documents are dropped. */
export async function parseDocuments(input: Buffer | string, source: string): Promise<Documents> {
  const text = typeof input === 'string' ? input : decodeUtf8(input, source);
  const format = detectFormat(text);
  const raw = format === 'json' ? parseJsonStream(text, source) : await parseYamlStream(text, source);
  const objects: unknown[] = [];
  for (const o of raw) {
    // A kubectl List of objects counts as its items.
    if (o && typeof o === 'object' && !Array.isArray(o) && (o as { kind?: unknown }).kind === 'List' && Array.isArray((o as { items?: unknown }).items)) {
      objects.push(...((o as { items: unknown[] }).items));
    } else if (Array.isArray(o)) {
      objects.push(...o);
    } else {
      objects.push(o);
    }
  }
  for (const [n, o] of objects.entries()) {
    if (depthOver(o, MAX_DEPTH)) {
      throw new SealedSecretsError('ERR_INVALID_INPUT', `${source}: document ${n + 1} is nested deeper than ${MAX_DEPTH} levels`, {
        hint: 'Kubernetes objects are shallow; check the input',
      });
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) {
      throw new SealedSecretsError('ERR_INVALID_INPUT', `${source}: document ${n + 1} is not a Kubernetes object (found ${o === null ? 'null' : typeof o})`, {
        hint: 'the input must be Kubernetes objects with apiVersion, kind and metadata',
      });
    }
  }
  return { format, objects };
}

function decodeUtf8(buf: Buffer, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new SealedSecretsError('ERR_INVALID_INPUT', `${source} is not UTF-8 text`, {
      hint: 'the input must be Kubernetes objects in JSON or YAML, UTF-8 encoded',
    });
  }
}

// Field order of the Go structs, so JSON output reads as upstream's does; maps are sorted.
const ORDER: Record<string, string[]> = {
  '': ['kind', 'apiVersion', 'metadata', 'spec', 'immutable', 'data', 'stringData', 'type', 'status', 'items'],
  metadata: ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
    'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'],
  spec: ['template', 'data', 'encryptedData'],
  template: ['metadata', 'type', 'immutable', 'data'],
  ownerReference: ['apiVersion', 'kind', 'name', 'uid', 'controller', 'blockOwnerDeletion'],
};
const MAPS = new Set(['labels', 'annotations', 'data', 'stringData', 'encryptedData']);

function ordered(value: unknown, role: string, sortAll: boolean): unknown {
  if (Array.isArray(value)) {
    const itemRole = role === 'ownerReferences' ? 'ownerReference' : role === 'items' ? '' : '*';
    return value.map((v) => ordered(v, itemRole, sortAll));
  }
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  const order = ORDER[role];
  let sorted: string[];
  if (sortAll || MAPS.has(role) || !order) sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  else sorted = [...order.filter((k) => k in obj), ...keys.filter((k) => !order.includes(k)).sort()];
  const out: Record<string, unknown> = {};
  for (const k of sorted) {
    if (obj[k] === undefined) continue;
    out[k] = ordered(obj[k], k, sortAll);
  }
  return out;
}

/** Formats objects like upstream kubeseal: pretty JSON objects each ending in a newline, or `---` YAML documents. */
export async function formatDocuments(objects: readonly unknown[], format: Format): Promise<string> {
  if (format === 'json') return objects.map((o) => JSON.stringify(ordered(o, '', false), null, 2) + '\n').join('');
  const { stringify } = await import('yaml');
  return objects
    // YAML 1.1 quoting (yes, on, 12:30 ... in quotes), as sigs.k8s.io/yaml writes, so kubectl,
    // Flux and Argo CD, which read YAML 1.1, see strings; the result is valid YAML 1.2 too.
    .map((o) => '---\n' + stringify(ordered(o, '', true), { version: '1.1', lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false, indentSeq: false }))
    .join('');
}
