/**
 * Which proxy a request goes through, by Go's rules (net/http ProxyFromEnvironment,
 * golang.org/x/net/http/httpproxy), which upstream kubeseal follows for --cert URLs and,
 * through client-go, for the API server:
 *
 * - HTTPS_PROXY (else https_proxy) for https URLs, HTTP_PROXY (else http_proxy) for http;
 *   a value without a scheme ("proxy:3128") is taken as http://; under CGI (REQUEST_METHOD
 *   set) HTTP_PROXY is refused, as Go does.
 * - Never for `localhost` or a loopback address.
 * - NO_PROXY (else no_proxy): comma-separated; `*` matches everything; an IP or CIDR matches
 *   IP hosts; `name` matches the name and its subdomains, `.name` and `*.name` only the
 *   subdomains; an entry with `:port` matches only that port (the URL's default port when
 *   it names none).
 */
import { isIP } from 'node:net';
import { SealedSecretsError } from '../src/index.js';

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443', 'socks5:': '1080' };

function getEnvAny(env: Env, ...names: string[]): string {
  for (const n of names) {
    const v = env[n];
    if (v) return v;
  }
  return '';
}

/** A proxy URL as it may be shown: no user or password. */
export function shownProxy(u: URL): string {
  return `${u.protocol}//${u.host}`;
}

/** Go's parseProxy: a full URL, or host[:port] taken as http://. */
export function parseProxyUrl(value: string, source: string): URL {
  const tryParse = (s: string): URL | undefined => {
    try {
      return new URL(s);
    } catch {
      return undefined;
    }
  };
  let u = tryParse(value);
  if (!u || !['http:', 'https:', 'socks5:'].includes(u.protocol)) {
    const withScheme = tryParse(`http://${value}`);
    // "proxy:3128" parses as a URL with scheme "proxy:"; Go then prefers http://proxy:3128.
    if (withScheme && withScheme.hostname) u = withScheme;
  }
  if (!u || !u.hostname) {
    // The value may carry a password: name where it came from, never its content.
    throw new SealedSecretsError('ERR_UNAVAILABLE', `${source} is not a valid proxy address`, { hint: 'give a URL such as http://proxy.example.com:3128' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new SealedSecretsError('ERR_UNAVAILABLE', `${source} names a ${u.protocol.replace(/:$/, '')} proxy, which kubeseal does not support`, { hint: 'use an http:// or https:// proxy' });
  }
  return u;
}

interface Matcher {
  match(host: string, port: string, ip: boolean): boolean;
}

function ipToBigInt(ip: string): { v: bigint; bits: number } | undefined {
  const fam = isIP(ip);
  if (fam === 4) {
    const parts = ip.split('.').map(Number);
    return { v: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n), bits: 32 };
  }
  if (fam === 6) {
    let s = ip;
    // An IPv4 tail (::ffff:1.2.3.4) as two groups.
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (v4) {
      const p = v4[1]!.split('.').map(Number);
      s = s.slice(0, -v4[1]!.length) + `${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
    }
    const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return { v: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || '0', 16)), 0n), bits: 128 };
  }
  return undefined;
}

/** An IPv4-mapped IPv6 address compares as its IPv4 address, as Go's net.IP does. */
function normaliseIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

function parseCidr(p: string): Matcher | undefined {
  const m = /^(.+)\/(\d{1,3})$/.exec(p);
  if (!m) return undefined;
  const net = ipToBigInt(normaliseIp(m[1]!));
  const len = Number(m[2]);
  if (!net || len > net.bits) return undefined;
  const mask = ((1n << BigInt(len)) - 1n) << BigInt(net.bits - len);
  return {
    match: (host, _port, ip) => {
      if (!ip) return false;
      const a = ipToBigInt(normaliseIp(host));
      return a !== undefined && a.bits === net.bits && (a.v & mask) === (net.v & mask);
    },
  };
}

function isLoopbackIp(host: string): boolean {
  const h = normaliseIp(host);
  if (isIP(h) === 4) return h.startsWith('127.');
  return isIP(h) === 6 && ipToBigInt(h)!.v === 1n;
}

/** Splits host:port as Go's net.SplitHostPort does for the forms NO_PROXY entries take. */
function splitHostPort(s: string): [string, string] | undefined {
  const b = /^\[([^\]]*)\]:(\d*)$/.exec(s);
  if (b) return [b[1]!, b[2]!];
  const i = s.lastIndexOf(':');
  if (i < 0 || s.indexOf(':') !== i) return undefined;
  return [s.slice(0, i), s.slice(i + 1)];
}

function noProxyMatchers(noProxy: string): { all: boolean; ip: Matcher[]; domain: Matcher[] } {
  const ip: Matcher[] = [];
  const domain: Matcher[] = [];
  for (const raw of noProxy.split(',')) {
    const p = raw.trim().toLowerCase();
    if (!p) continue;
    if (p === '*') return { all: true, ip, domain };
    const cidr = parseCidr(p);
    if (cidr) {
      ip.push(cidr);
      continue;
    }
    let phost = p;
    let pport = '';
    const hp = splitHostPort(p);
    if (hp) {
      if (!hp[0]) continue;
      [phost, pport] = hp;
    }
    if (isIP(phost)) {
      const want = normaliseIp(phost);
      const wantV = ipToBigInt(want)!;
      ip.push({
        match: (host, port, isIp) => {
          if (!isIp) return false;
          const a = ipToBigInt(normaliseIp(host));
          return a !== undefined && a.bits === wantV.bits && a.v === wantV.v && (pport === '' || pport === port);
        },
      });
      continue;
    }
    if (phost.startsWith('*.')) phost = phost.slice(1);
    let matchHost = false;
    if (!phost.startsWith('.')) {
      matchHost = true;
      phost = `.${phost}`;
    }
    const suffix = phost;
    domain.push({ match: (host, port) => (host.endsWith(suffix) || (matchHost && host === suffix.slice(1))) && (pport === '' || pport === port) });
  }
  return { all: false, ip, domain };
}

/** Go's useProxy: whether a request to the URL's host and port goes through the proxy. */
function useProxy(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || DEFAULT_PORT[url.protocol] || '';
  if (host === 'localhost') return false;
  const ip = isIP(host) !== 0;
  if (ip && isLoopbackIp(host)) return false;
  const m = noProxyMatchers(noProxy);
  if (m.all) return false;
  if (ip && m.ip.some((x) => x.match(host, port, true))) return false;
  return !m.domain.some((x) => x.match(host, port, ip));
}

/**
 * The proxy for a request to `url` from the environment, or undefined for a direct connection.
 * `explicit` (a kubeconfig cluster's proxy-url, or --proxy-url) wins over the environment, as
 * client-go's http.ProxyURL does: then NO_PROXY does not apply.
 */
export function proxyFor(url: URL, env: Env, explicit?: string): URL | undefined {
  if (explicit) return parseProxyUrl(explicit, 'the proxy-url');
  let value: string;
  let source: string;
  if (url.protocol === 'https:') {
    value = getEnvAny(env, 'HTTPS_PROXY', 'https_proxy');
    source = env['HTTPS_PROXY'] ? 'HTTPS_PROXY' : 'https_proxy';
  } else if (url.protocol === 'http:') {
    value = getEnvAny(env, 'HTTP_PROXY', 'http_proxy');
    source = env['HTTP_PROXY'] ? 'HTTP_PROXY' : 'http_proxy';
    if (value && env['REQUEST_METHOD']) {
      throw new SealedSecretsError('ERR_UNAVAILABLE', 'refusing to use HTTP_PROXY value in CGI environment; see golang.org/s/cgihttpproxy');
    }
  } else {
    return undefined;
  }
  if (!value) return undefined;
  if (!useProxy(url, getEnvAny(env, 'NO_PROXY', 'no_proxy'))) return undefined;
  try {
    return parseProxyUrl(value, source);
  } catch (e) {
    // Go ignores a value it cannot parse at all (a direct connection); a scheme it cannot speak is an error.
    if (/not a valid proxy address/.test((e as Error).message)) return undefined;
    throw e;
  }
}
