/**
 * Sprig's urlParse and urlJoin over Go 1.19's net/url: Parse (scheme, opaque, authority with
 * userinfo and host checks, path and fragment unescaping, Go's error texts) and URL.String
 * (re-escaping by component). Byte strings throughout, as Go's are.
 */
import { goQuote } from '../fmt.js';
import { kindOrPanic } from '../sprig-core/go.js';
import { type FuncContext, FuncError, type GoString, type GoValue, GoMap } from '../values.js';

type Mode = 'path' | 'pathSegment' | 'host' | 'zone' | 'userPassword' | 'queryComponent' | 'fragment';

const isAlnum = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);

function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === 'host' || mode === 'zone') && "!$&'()*+,;=:[]<>\"".includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    switch (mode) {
      case 'path':
        return ch === '?';
      case 'pathSegment':
        return '/;,?'.includes(ch);
      case 'userPassword':
        return '@/?:'.includes(ch);
      case 'queryComponent':
        return true;
      case 'fragment':
        return false;
      default:
        break;
    }
  }
  if (mode === 'fragment' && '!()*'.includes(ch)) return false;
  return true;
}

const ishex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);

class UrlError extends Error {}

function unescape(s: string, mode: Mode): string {
  let n = 0;
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '%') {
      n++;
      if (i + 2 >= s.length || !ishex(s[i + 1]) || !ishex(s[i + 2])) {
        throw new UrlError('invalid URL escape ' + goQuote(s.slice(i, i + 3)));
      }
      const v = parseInt(s.slice(i + 1, i + 3), 16);
      if (mode === 'host' && v >> 4 < 8 && s.slice(i, i + 3) !== '%25') throw new UrlError('invalid URL escape ' + goQuote(s.slice(i, i + 3)));
      if (mode === 'zone' && s.slice(i, i + 3) !== '%25' && v !== 0x20 && shouldEscape(v, 'host')) throw new UrlError('invalid URL escape ' + goQuote(s.slice(i, i + 3)));
      i += 3;
    } else {
      const code = s.charCodeAt(i);
      if ((mode === 'host' || mode === 'zone') && code < 0x80 && shouldEscape(code, mode)) throw new UrlError('invalid character ' + goQuote(c) + ' in host name');
      i++;
    }
  }
  if (n === 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += s[i];
  }
  return out;
}

function escape(s: string, mode: Mode): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 && mode === 'queryComponent') out += '+';
    else if (shouldEscape(c, mode)) out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
    else out += s[i];
  }
  return out;
}

function validEncoded(s: string, mode: Mode): boolean {
  for (let i = 0; i < s.length; i++) {
    if ("!$&'()*+,;=:@[]%".includes(s[i]!)) continue;
    if (shouldEscape(s.charCodeAt(i), mode)) return false;
  }
  return true;
}

const validOptionalPort = (port: string) => port === '' || /^:[0-9]*$/.test(port);

interface Url {
  scheme: string;
  opaque: string;
  user?: { username: string; password?: string };
  host: string;
  path: string;
  rawPath: string;
  forceQuery: boolean;
  rawQuery: string;
  fragment: string;
  rawFragment: string;
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) throw new UrlError("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) throw new UrlError(`invalid port ${goQuote(colonPort)} after host`);
    const zone = host.slice(0, i).indexOf('%25');
    if (zone >= 0) return unescape(host.slice(0, zone), 'host') + unescape(host.slice(zone, i), 'zone') + unescape(host.slice(i), 'host');
  } else {
    const i = host.lastIndexOf(':');
    if (i !== -1) {
      const colonPort = host.slice(i);
      if (!validOptionalPort(colonPort)) throw new UrlError(`invalid port ${goQuote(colonPort)} after host`);
    }
  }
  return unescape(host, 'host');
}

function validUserinfo(s: string): boolean {
  // Go ranges over runes: any byte outside ASCII is part of a rune that is not allowed.
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseAuthority(authority: string): { user?: Url['user']; host: string } {
  const i = authority.lastIndexOf('@');
  const host = parseHost(i < 0 ? authority : authority.slice(i + 1));
  if (i < 0) return { host };
  const userinfo = authority.slice(0, i);
  if (!validUserinfo(userinfo)) throw new UrlError('net/url: invalid userinfo');
  const colon = userinfo.indexOf(':');
  if (colon < 0) return { user: { username: unescape(userinfo, 'userPassword') }, host };
  return { user: { username: unescape(userinfo.slice(0, colon), 'userPassword'), password: unescape(userinfo.slice(colon + 1), 'userPassword') }, host };
}

function parseInner(raw: string): Url {
  const u: Url = { scheme: '', opaque: '', host: '', path: '', rawPath: '', forceQuery: false, rawQuery: '', fragment: '', rawFragment: '' };
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new UrlError('net/url: invalid control character in URL');
  }
  if (raw === '*') {
    u.path = '*';
    return u;
  }
  let rest = raw;
  // getScheme
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new UrlError('missing protocol scheme');
      u.scheme = raw.slice(0, i).toLowerCase();
      rest = raw.slice(i + 1);
    }
    break;
  }
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') {
      u.opaque = rest;
      return u;
    }
    const slash = rest.indexOf('/');
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) throw new UrlError('first path segment in URL cannot contain colon');
  }
  if ((u.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const i = authority.indexOf('/');
    if (i >= 0) {
      rest = authority.slice(i);
      authority = authority.slice(0, i);
    }
    const a = parseAuthority(authority);
    if (a.user) u.user = a.user;
    u.host = a.host;
  }
  u.path = unescape(rest, 'path');
  u.rawPath = escape(u.path, 'path') === rest ? '' : rest;
  return u;
}

/** url.Parse, with Go's *url.Error text. */
export function parseUrl(raw: GoString): Url {
  const hash = raw.indexOf('#');
  const head = hash < 0 ? raw : raw.slice(0, hash);
  let u: Url;
  try {
    u = parseInner(head);
  } catch (e) {
    if (e instanceof UrlError) throw new UrlError(`parse ${goQuote(head)}: ${e.message}`);
    throw e;
  }
  if (hash < 0) return u;
  const frag = raw.slice(hash + 1);
  try {
    u.fragment = unescape(frag, 'fragment');
  } catch (e) {
    if (e instanceof UrlError) throw new UrlError(`parse ${goQuote(raw)}: ${e.message}`);
    throw e;
  }
  u.rawFragment = escape(u.fragment, 'fragment') === frag ? '' : frag;
  return u;
}

function userString(user: NonNullable<Url['user']>): string {
  return escape(user.username, 'userPassword') + (user.password !== undefined ? ':' + escape(user.password, 'userPassword') : '');
}

function escapedPath(u: Url): string {
  if (u.rawPath !== '' && validEncoded(u.rawPath, 'path')) {
    try {
      if (unescape(u.rawPath, 'path') === u.path) return u.rawPath;
    } catch {
      // fall through
    }
  }
  if (u.path === '*') return '*';
  return escape(u.path, 'path');
}

/** URL.String. */
export function urlString(u: Url): string {
  let out = '';
  if (u.scheme !== '') out += u.scheme + ':';
  if (u.opaque !== '') out += u.opaque;
  else {
    if (u.scheme !== '' || u.host !== '' || u.user) {
      if (u.host !== '' || u.path !== '' || u.user) out += '//';
      if (u.user) out += userString(u.user) + '@';
      if (u.host !== '') out += escape(u.host, 'host');
    }
    const path = escapedPath(u);
    if (path !== '' && path[0] !== '/' && u.host !== '') out += '/';
    if (out === '') {
      const slash = path.indexOf('/');
      if ((slash < 0 ? path : path.slice(0, slash)).includes(':')) out += './';
    }
    out += path;
  }
  if (u.forceQuery || u.rawQuery !== '') out += '?' + u.rawQuery;
  if (u.fragment !== '') {
    let f = '';
    if (u.rawFragment !== '' && validEncoded(u.rawFragment, 'fragment')) {
      try {
        if (unescape(u.rawFragment, 'fragment') === u.fragment) f = u.rawFragment;
      } catch {
        // fall through
      }
    }
    out += '#' + (f || escape(u.fragment, 'fragment'));
  }
  return out;
}

function hostname(host: string): string {
  let h = host;
  const colon = h.lastIndexOf(':');
  if (colon !== -1 && validOptionalPort(h.slice(colon))) h = h.slice(0, colon);
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h;
}

export function urlParse(ctx: FuncContext, v: GoString): GoMap {
  ctx.budget.scan(v.length);
  ctx.budget.produce(2 * v.length + 64);
  let u: Url;
  try {
    u = parseUrl(v);
  } catch (e) {
    if (e instanceof UrlError) throw new FuncError(`unable to parse url: ${e.message}`);
    throw e;
  }
  const m = new Map<GoString, GoValue>([
    ['scheme', u.scheme],
    ['host', u.host],
    ['hostname', hostname(u.host)],
    ['path', u.path],
    ['query', u.rawQuery],
    ['opaque', u.opaque],
    ['fragment', u.fragment],
    ['userinfo', u.user ? userString(u.user) : ''],
  ]);
  return new GoMap(m, 'map[string]interface {}', null);
}

export function urlJoin(ctx: FuncContext, d: GoValue): GoString {
  const dict = d instanceof GoMap ? d.entries : new Map<GoString, GoValue>();
  const get = (key: string): string => {
    if (!dict.has(key)) return '';
    const v = dict.get(key)!;
    const kind = kindOrPanic(v);
    if (typeof v !== 'string') throw new FuncError(`unable to parse ${key} key, must be of type string, but ${kind} found`);
    ctx.budget.scan(v.length);
    return v;
  };
  const u: Url = { scheme: get('scheme'), host: get('host'), path: get('path'), rawPath: '', rawQuery: get('query'), opaque: get('opaque'), fragment: get('fragment'), rawFragment: '', forceQuery: false };
  const userinfo = get('userinfo');
  if (userinfo !== '') {
    try {
      const t = parseUrl(`proto://${userinfo}@host`);
      if (t.user) u.user = t.user;
    } catch (e) {
      if (e instanceof UrlError) throw new FuncError(`unable to parse userinfo in dict: ${e.message}`);
      throw e;
    }
  }
  // Every byte can become three (%XX).
  let size = 16;
  for (const k of ['scheme', 'host', 'path', 'query', 'opaque', 'fragment', 'userinfo']) size += 3 * (typeof dict.get(k) === 'string' ? (dict.get(k) as string).length : 0);
  ctx.budget.reserve(size);
  const out = urlString(u);
  ctx.budget.produce(out.length);
  return out;
}
