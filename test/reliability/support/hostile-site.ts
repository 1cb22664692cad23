/**
 * A hostile web site on 127.0.0.1: an endless link generator, a 1 GB response streamed on the fly, slow-loris
 * responses, gzip bombs, malformed HTML and redirect chains that end at private addresses. It records what it
 * was asked for and how much it sent, so the tests can prove the crawler's caps from the server's side.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { startSiteServer, type SiteServer } from './site-server';

export const GIB = 1024 ** 3;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Where redirect chains end: private, link-local, metadata, unspecified and IPv4-mapped forms. */
export const PRIVATE_TARGETS = [
  'http://10.0.0.1/secret.html',
  'http://167772161/decimal.html',
  'http://192.168.1.1/router.html',
  'http://172.16.0.1/internal.html',
  'http://169.254.169.254/latest/meta-data/',
  'http://100.100.100.200/latest/meta-data/',
  'http://0.0.0.0/unspecified.html',
  'http://[::ffff:10.0.0.1]/mapped.html',
  'http://[fd00::1]/ula.html',
];
export const REDIRECT_HOPS = 3;

/** One response the site streamed or held open: how many body bytes went out, and when the client hung up. */
export interface Streamed {
  path: string;
  bytesSent: number;
  openMs: number;
  closedByClient: boolean;
}

export interface HostileSite extends SiteServer {
  streams: Streamed[];
  maxEndlessDepth: () => number;
  endlessPages: () => number;
}

/** gzip of 1 GiB of zeros, about 1 MB: a gzip bomb. Built once, by streaming, so it never holds 1 GiB. */
async function gzipBomb(): Promise<Buffer> {
  const gzip = zlib.createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (d: Buffer) => out.push(d));
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < GIB / zeros.length; i++) {
    if (!gzip.write(zeros)) await new Promise((r) => gzip.once('drain', r));
  }
  await new Promise((r) => gzip.end(r));
  return Buffer.concat(out);
}

async function noisePng(): Promise<Buffer> {
  return sharp(randomBytes(100 * 100 * 3), { raw: { width: 100, height: 100, channels: 3 } }).png().toBuffer();
}

function html(body: string): string {
  return `<!doctype html><html><head><title>hostile</title></head><body>${body}</body></html>`;
}

const MALFORMED = [
  '<html><head><title>misnested</title><body><div><div><p>text <b><i></b></i><table><td>cell<tr></div>',
  '<a href="/ok/malformed-child.html">child</a>',
  '<img src="/ok/b.png"><img src="\u0000/nul.png"><img src=""><img><img src="data:image/png;base64,AAAA">',
  '<a href="javascript:alert(1)">js</a><a href="mailto:a@b">mail</a><a href="http://[::1">bad ipv6</a><a href="http://%zz/">bad host</a>',
  '<a href="//">empty</a><a href="http://">no host</a><a href=":::">colons</a><a href="\u00ff\u00fe">bytes</a>',
  '<!-- an unclosed comment <a href="/ok/hidden.html">',
  '<div>'.repeat(20000),
  '<script>document.write("<a href=/ok/script.html>")</script><style>a{}</style><',
  Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]).toString('latin1'),
].join('\n');

export async function startHostileSite(): Promise<HostileSite> {
  const [bomb, okA, okB] = await Promise.all([gzipBomb(), noisePng(), noisePng()]);
  // A second gzip member before the bomb: the decoded body starts like a PNG, so it is judged by size, not type.
  const pngBomb = Buffer.concat([zlib.gzipSync(PNG_SIGNATURE), bomb]);
  const streams: Streamed[] = [];
  let maxDepth = 0;
  let endless = 0;

  /** Sends `total` bytes of `head` then filler, chunk by chunk and only as fast as the client reads. */
  const stream = (req: http.IncomingMessage, res: http.ServerResponse, type: string, head: Buffer, total: number, every = 0) => {
    const record: Streamed = { path: req.url ?? '', bytesSent: 0, openMs: 0, closedByClient: false };
    streams.push(record);
    const started = Date.now();
    res.writeHead(200, { 'content-type': type });
    const filler = Buffer.alloc(every ? 1 : 64 * 1024, 'a');
    let done = false;
    res.on('close', () => {
      done = true;
      record.openMs = Date.now() - started;
      record.closedByClient = record.bytesSent < total;
    });
    const pump = () => {
      while (!done && record.bytesSent < total) {
        const chunk = record.bytesSent === 0 ? head : filler;
        record.bytesSent += chunk.length;
        const more = res.write(chunk);
        if (every) return void setTimeout(pump, every);
        if (!more) return void res.once('drain', pump);
      }
      if (!done) res.end();
    };
    pump();
  };

  const route = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const send = (status: number, type: string, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) => {
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(body);
    };
    if (p.startsWith('/endless/')) {
      const depth = p.split('/').filter(Boolean).length - 1;
      maxDepth = Math.max(maxDepth, depth);
      endless++;
      const links = Array.from({ length: 6 }, (_, k) => `<a href="${p.replace(/\/?$/, '/')}${k}?r=${randomBytes(4).toString('hex')}">${k}</a>`);
      return send(200, 'text/html', html(links.join(' ')));
    }
    const redirect = /^\/redirect\/(\d+)\/(\d+)$/.exec(p);
    if (redirect) {
      const [target, hop] = [Number(redirect[1]), Number(redirect[2])];
      const location = hop < REDIRECT_HOPS ? `/redirect/${target}/${hop + 1}` : PRIVATE_TARGETS[target];
      return send(hop % 2 ? 301 : 302, 'text/plain', '', { location });
    }
    switch (p) {
      case '/ok/page.html':
        return send(200, 'text/html', html('<img src="/ok/a.png"><a href="/ok/child.html">child</a>'));
      case '/ok/child.html':
      case '/ok/malformed-child.html':
        return send(200, 'text/html', html('<p>child</p><img src="/ok/a.png">'));
      case '/ok/a.png':
        return send(200, 'image/png', okA);
      case '/ok/b.png':
        return send(200, 'image/png', okB);
      case '/seed/huge.html':
        return send(200, 'text/html', html('<a href="/huge.html">huge</a><img src="/huge.png"><img src="/ok/a.png">'));
      case '/huge.html':
        return stream(req, res, 'text/html', Buffer.from('<!doctype html><html><body><p>'), GIB);
      case '/huge.png':
        return stream(req, res, 'image/png', PNG_SIGNATURE, GIB);
      case '/seed/slow.html':
        return send(200, 'text/html', html('<a href="/slow.html">slow</a><a href="/slow-headers.html">silent</a><img src="/slow.png"><img src="/ok/a.png">'));
      case '/slow.html':
        return stream(req, res, 'text/html', Buffer.from('<html>'), GIB, 1000);
      case '/slow.png':
        return stream(req, res, 'image/png', PNG_SIGNATURE, GIB, 1000);
      case '/slow-headers.html': {
        // Never answers at all: the request must time out on the crawler's side.
        const record: Streamed = { path: p, bytesSent: 0, openMs: 0, closedByClient: true };
        streams.push(record);
        const started = Date.now();
        return void res.on('close', () => (record.openMs = Date.now() - started));
      }
      case '/seed/bomb.html':
        return send(200, 'text/html', html('<a href="/bomb.html">bomb</a><img src="/bomb.png"><img src="/ok/a.png">'));
      case '/bomb.html':
        return send(200, 'text/html', bomb, { 'content-encoding': 'gzip' });
      case '/bomb.png':
        return send(200, 'image/png', pngBomb, { 'content-encoding': 'gzip' });
      case '/malformed.html':
        return send(200, 'text/html', MALFORMED);
      case '/seed/redirects.html': {
        const chains = PRIVATE_TARGETS.map((_, i) => `<a href="/redirect/${i}/1">chain ${i}</a>`);
        const direct = PRIVATE_TARGETS.map((t) => `<a href="${t}">direct</a><img src="${t.replace(/[^/]*$/, 'i.png')}">`);
        return send(200, 'text/html', html([...chains, ...direct, '<img src="/redirect-image.png">'].join('\n')));
      }
      case '/redirect-image.png':
        return send(302, 'text/plain', '', { location: 'http://10.0.0.1/image.png' });
      default:
        return send(404, 'text/plain', 'not found');
    }
  };
  const server = await startSiteServer(route);
  return { ...server, streams, maxEndlessDepth: () => maxDepth, endlessPages: () => endless };
}
