/**
 * Serves the bench site on 127.0.0.1: Debian's nginx with a private prefix and config (no system config is touched)
 * when it is installed, else a small Node static server, so the crawl bench runs anywhere.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, runCommand, startServer, type RunningServer } from '../lib/process';

const NGINX = '/usr/sbin/nginx';

export interface StaticServer extends Pick<RunningServer, 'url' | 'stop'> {
  kind: string;
}

function nginxConfig(prefix: string, root: string, port: number): string {
  const temp = (name: string) => `${name}_temp_path ${path.join(prefix, name)};`;
  return `worker_processes 1;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
daemon off;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
}

async function startNginx(root: string, prefix: string): Promise<StaticServer> {
  const port = await freePort();
  fs.mkdirSync(prefix, { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig(prefix, root, port));
  const server = await startServer({ command: NGINX, args: ['-p', prefix, '-e', path.join(prefix, 'error.log'), '-c', conf], port });
  const version = (await runCommand(NGINX, ['-v'])).stderrTail.replace('nginx version:', '').trim();
  return { kind: `${version}, 1 worker`, url: server.url, stop: server.stop };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.txt': 'text/plain; charset=utf-8',
};

async function startNodeStatic(root: string): Promise<StaticServer> {
  const server = http.createServer((req, res) => {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      // A real site's broken link may carry a malformed %-sequence.
      res.writeHead(400).end();
      return;
    }
    const file = path.join(root, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    fs.stat(file, (error, stat) => {
      if (error || !stat.isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': stat.size });
      fs.createReadStream(file).pipe(res);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { kind: 'Node static server', url: `http://127.0.0.1:${port}`, stop };
}

/** `prefix` is a scratch folder for nginx's config, pid and logs. */
export function startStaticServer(root: string, prefix: string): Promise<StaticServer> {
  return fs.existsSync(NGINX) ? startNginx(root, prefix) : startNodeStatic(root);
}
