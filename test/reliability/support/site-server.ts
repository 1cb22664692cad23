/** A loopback HTTP server for generated sites, counting the requests it receives per path. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SiteServer {
  url: string;
  /** Requests received, per path (query included). */
  hits: Map<string, number>;
  close: () => Promise<void>;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export async function startSiteServer(route: Route): Promise<SiteServer> {
  const hits = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const key = req.url ?? '/';
    hits.set(key, (hits.get(key) ?? 0) + 1);
    route(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        // Hostile routes keep connections open on purpose; end them so the test process can exit.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sum of hits over the paths that match. */
export function countHits(hits: Map<string, number>, match: RegExp): number {
  let n = 0;
  for (const [p, c] of hits) if (match.test(p)) n += c;
  return n;
}
