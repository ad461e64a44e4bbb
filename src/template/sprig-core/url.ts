/**
 * Sprig's urlParse and urlJoin over Go 1.19's net/url (Parse, URL.String, Hostname,
 * Userinfo), byte for byte: the same escaping modes, the same error texts.
 */
import { goQuote } from '../fmt.js';
import { type FuncContext, FuncError, type FuncSpec, GoMap, type GoString, type GoValue } from '../values.js';
import { asStr, kindName } from './go.js';

const enum Mode {
  path = 1,
  pathSegment,
  host,
  zone,
  userPassword,
  queryComponent,
  fragment,
}

class UrlErr extends Error {}

const isAlnum = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);

function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === Mode.host || mode === Mode.zone) && `!$&'()*+,;=:[]<>"`.includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    switch (mode) {
      case Mode.path:
        return ch === '?';
      case Mode.pathSegment:
        return ch === '/' || ch === ';' || ch === ',' || ch === '?';
      case Mode.userPassword:
        return ch === '@' || ch === '/' || ch === '?' || ch === ':';
      case Mode.queryComponent:
        return true;
      case Mode.fragment:
        return false;
      default:
    }
  }
  if (mode === Mode.fragment && '!()*'.includes(ch)) return false;
  return true;
}

const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const unhex = (c: string) => parseInt(c, 16);

function unescape(s: string, mode: Mode): string {
  let n = 0;
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '%') {
      n++;
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
        throw new UrlErr(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      if (mode === Mode.host && unhex(s[i + 1]!) < 8 && s.slice(i, i + 3) !== '%25') throw new UrlErr(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      if (mode === Mode.zone) {
        const v = (unhex(s[i + 1]!) << 4) | unhex(s[i + 2]!);
        if (s.slice(i, i + 3) !== '%25' && v !== 32 && shouldEscape(v, Mode.host)) throw new UrlErr(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      i += 3;
    } else {
      const b = s.charCodeAt(i);
      if ((mode === Mode.host || mode === Mode.zone) && b < 0x80 && shouldEscape(b, mode)) throw new UrlErr(`invalid character ${goQuote(c)} in host name`);
      i++;
    }
  }
  if (n === 0) return s;
  let t = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      t += String.fromCharCode((unhex(s[i + 1]!) << 4) | unhex(s[i + 2]!));
      i += 2;
    } else t += s[i];
  }
  return t;
}

function escape(s: string, mode: Mode): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (shouldEscape(c, mode)) out += '%' + c.toString(16).toUpperCase().padStart(2, '0');
    else out += s[i];
  }
  return out;
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true;
  if (port[0] !== ':') return false;
  return /^[0-9]*$/.test(port.slice(1));
}

function validUserinfo(s: string): boolean {
  // Rune-wise: any non-ASCII byte starts a rune outside the allowed set.
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) throw new UrlErr("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) throw new UrlErr(`invalid port ${goQuote(colonPort)} after host`);
    const zone = host.slice(0, i).indexOf('%25');
    if (zone >= 0) return unescape(host.slice(0, zone), Mode.host) + unescape(host.slice(zone, i), Mode.zone) + unescape(host.slice(i), Mode.host);
  } else {
    const i = host.lastIndexOf(':');
    if (i !== -1) {
      const colonPort = host.slice(i);
      if (!validOptionalPort(colonPort)) throw new UrlErr(`invalid port ${goQuote(colonPort)} after host`);
    }
  }
  return unescape(host, Mode.host);
}

interface User {
  username: string;
  password: string;
  passwordSet: boolean;
}
interface URL {
  scheme: string;
  opaque: string;
  user?: User;
  host: string;
  path: string;
  rawPath: string;
  omitHost: boolean;
  forceQuery: boolean;
  rawQuery: string;
  fragment: string;
  rawFragment: string;
}

function parseAuthority(authority: string): { user?: User; host: string } {
  const i = authority.lastIndexOf('@');
  const host = parseHost(i < 0 ? authority : authority.slice(i + 1));
  if (i < 0) return { host };
  const userinfo = authority.slice(0, i);
  if (!validUserinfo(userinfo)) throw new UrlErr('net/url: invalid userinfo');
  if (!userinfo.includes(':')) return { host, user: { username: unescape(userinfo, Mode.userPassword), password: '', passwordSet: false } };
  const c = userinfo.indexOf(':');
  return { host, user: { username: unescape(userinfo.slice(0, c), Mode.userPassword), password: unescape(userinfo.slice(c + 1), Mode.userPassword), passwordSet: true } };
}

function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new UrlErr('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

function parseNoFrag(raw: string): URL {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new UrlErr('net/url: invalid control character in URL');
  const u: URL = { scheme: '', opaque: '', host: '', path: '', rawPath: '', omitHost: false, forceQuery: false, rawQuery: '', fragment: '', rawFragment: '' };
  if (raw === '*') {
    u.path = '*';
    return u;
  }
  let rest: string;
  [u.scheme, rest] = getScheme(raw);
  u.scheme = u.scheme.toLowerCase();
  if (rest.endsWith('?') && rest.split('?').length === 2) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) [rest, u.rawQuery] = [rest.slice(0, q), rest.slice(q + 1)];
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') {
      u.opaque = rest;
      return u;
    }
    const seg = rest.split('/')[0]!;
    if (seg.includes(':')) throw new UrlErr('first path segment in URL cannot contain colon');
  }
  if ((u.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const i = authority.indexOf('/');
    if (i >= 0) [authority, rest] = [authority.slice(0, i), authority.slice(i)];
    const a = parseAuthority(authority);
    u.user = a.user;
    u.host = a.host;
  } else if (u.scheme !== '' && rest.startsWith('/')) {
    u.omitHost = true;
  }
  u.path = unescape(rest, Mode.path);
  u.rawPath = escape(u.path, Mode.path) === rest ? '' : rest;
  return u;
}

function parseURL(raw: string): URL {
  const h = raw.indexOf('#');
  const [base, frag] = h < 0 ? [raw, ''] : [raw.slice(0, h), raw.slice(h + 1)];
  let u: URL;
  try {
    u = parseNoFrag(base);
  } catch (e) {
    if (e instanceof UrlErr) throw new UrlErr(`parse ${goQuote(base)}: ${e.message}`);
    throw e;
  }
  if (frag === '') return u;
  try {
    u.fragment = unescape(frag, Mode.fragment);
  } catch (e) {
    if (e instanceof UrlErr) throw new UrlErr(`parse ${goQuote(raw)}: ${e.message}`);
    throw e;
  }
  u.rawFragment = escape(u.fragment, Mode.fragment) === frag ? '' : frag;
  return u;
}

function validEncoded(s: string, mode: Mode): boolean {
  for (let i = 0; i < s.length; i++) {
    if ("!$&'()*+,;=:@[]%".includes(s[i]!)) continue;
    if (shouldEscape(s.charCodeAt(i), mode)) return false;
  }
  return true;
}

function escapedPath(u: URL): string {
  if (u.rawPath !== '' && validEncoded(u.rawPath, Mode.path)) {
    try {
      if (unescape(u.rawPath, Mode.path) === u.path) return u.rawPath;
    } catch {
      /* fall through */
    }
  }
  if (u.path === '*') return '*';
  return escape(u.path, Mode.path);
}
function escapedFragment(u: URL): string {
  if (u.rawFragment !== '' && validEncoded(u.rawFragment, Mode.fragment)) {
    try {
      if (unescape(u.rawFragment, Mode.fragment) === u.fragment) return u.rawFragment;
    } catch {
      /* fall through */
    }
  }
  return escape(u.fragment, Mode.fragment);
}
function userString(u: User): string {
  return escape(u.username, Mode.userPassword) + (u.passwordSet ? ':' + escape(u.password, Mode.userPassword) : '');
}

function urlString(u: URL): string {
  let buf = '';
  if (u.scheme !== '') buf += u.scheme + ':';
  if (u.opaque !== '') buf += u.opaque;
  else {
    if (u.scheme !== '' || u.host !== '' || u.user) {
      if (!(u.omitHost && u.host === '' && !u.user)) {
        if (u.host !== '' || u.path !== '' || u.user) buf += '//';
        if (u.user) buf += userString(u.user) + '@';
        if (u.host !== '') buf += escape(u.host, Mode.host);
      }
    }
    const path = escapedPath(u);
    if (path !== '' && path[0] !== '/' && u.host !== '') buf += '/';
    if (buf.length === 0 && path.split('/')[0]!.includes(':')) buf += './';
    buf += path;
  }
  if (u.forceQuery || u.rawQuery !== '') buf += '?' + u.rawQuery;
  if (u.fragment !== '') buf += '#' + escapedFragment(u);
  return buf;
}

function hostname(host: string): string {
  let h = host;
  const colon = h.lastIndexOf(':');
  if (colon !== -1 && validOptionalPort(h.slice(colon))) h = h.slice(0, colon);
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h;
}

function dictGetOrEmpty(d: GoMap, key: string): string {
  if (!d.entries.has(key)) return '';
  const v = d.entries.get(key)!;
  if (typeof v !== 'string') {
    if (v === null) throw new FuncError('runtime error: invalid memory address or nil pointer dereference');
    throw new FuncError(`unable to parse ${key} key, must be of type string, but ${kindName(v)} found`);
  }
  return v;
}

function charge(ctx: FuncContext, n: number): void {
  ctx.budget.scan(n * 8);
  ctx.budget.produce(n * 6 + 64);
}

export const URL_FUNCS: Record<string, FuncSpec> = {
  urlParse: {
    params: ['string'],
    fn: (ctx, [s]) => {
      const raw = asStr(s);
      charge(ctx, raw.length);
      let u: URL;
      try {
        u = parseURL(raw);
      } catch (e) {
        if (e instanceof UrlErr) throw new FuncError(`unable to parse url: ${e.message}`);
        throw e;
      }
      const d = new Map<GoString, GoValue>([
        ['scheme', u.scheme],
        ['host', u.host],
        ['hostname', hostname(u.host)],
        ['path', u.path],
        ['query', u.rawQuery],
        ['opaque', u.opaque],
        ['fragment', u.fragment],
        ['userinfo', u.user ? userString(u.user) : ''],
      ]);
      return new GoMap(d);
    },
  },
  urlJoin: {
    params: ['map[string]interface {}'],
    fn: (ctx, [dv]) => {
      const d = dv as GoMap;
      const u: URL = {
        scheme: dictGetOrEmpty(d, 'scheme'),
        host: dictGetOrEmpty(d, 'host'),
        path: dictGetOrEmpty(d, 'path'),
        rawQuery: dictGetOrEmpty(d, 'query'),
        opaque: dictGetOrEmpty(d, 'opaque'),
        fragment: dictGetOrEmpty(d, 'fragment'),
        rawPath: '',
        rawFragment: '',
        omitHost: false,
        forceQuery: false,
      };
      let n = 0;
      for (const v of Object.values(u)) if (typeof v === 'string') n += v.length;
      const userinfo = dictGetOrEmpty(d, 'userinfo');
      charge(ctx, n + userinfo.length);
      if (userinfo !== '') {
        try {
          u.user = parseURL(`proto://${userinfo}@host`).user;
        } catch (e) {
          if (e instanceof UrlErr) throw new FuncError(`unable to parse userinfo in dict: ${e.message}`);
          throw e;
        }
      }
      return urlString(u);
    },
  },
};
