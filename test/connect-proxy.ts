/**
 * A real forward proxy for tests: CONNECT tunnels (https) and absolute-form requests (plain
 * http), as corporate proxies serve them. It records each request line, its headers and every
 * byte the client sent through a tunnel, so a test can assert what a proxy gets to see.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';

export interface ConnectProxy {
  port: number;
  /** One entry a request: `CONNECT host:port` or `GET http://...`, and all the proxy saw of it. */
  seen: { line: string; head: string }[];
  /** The status CONNECT answers with (200 tunnels). */
  answer: number;
  close(): void;
}

/** `resolve` maps the requested host to where the proxy really connects (names that do not resolve here). */
export async function startConnectProxy(resolve: (host: string) => string = (h) => h): Promise<ConnectProxy> {
  const seen: ConnectProxy['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ line: `${req.method} ${req.url}`, head: JSON.stringify(req.headers) });
    const target = new URL(req.url!);
    const up = httpRequest({ host: resolve(target.hostname), port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const proxy: ConnectProxy = {
    port: 0,
    seen,
    answer: 200,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const entry = { line: `CONNECT ${req.url}`, head: JSON.stringify(req.headers) + head.toString('latin1') };
    seen.push(entry);
    if (proxy.answer !== 200) {
      client.end(`HTTP/1.1 ${proxy.answer} No\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const i = req.url!.lastIndexOf(':');
    const upstream = netConnect({ host: resolve(req.url!.slice(0, i).replace(/^\[|\]$/g, '')), port: Number(req.url!.slice(i + 1)) }, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      client.on('data', (c: Buffer) => (entry.head += c.toString('latin1')));
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.port = (server.address() as AddressInfo).port;
  return proxy;
}
