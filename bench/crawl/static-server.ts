/**
 * Serves the bench site on 127.0.0.1 with Debian's nginx, a real web server that answers in far less CPU than a
 * Node server (which, on a 2-core machine, takes CPU from whichever crawler runs the most connections). The
 * installed nginx when there is one, else a private copy unpacked from Debian's package: no service is started and
 * no system file is touched, so every machine benches against the same server. `BENCH_SERVER=node` (or an nginx
 * that apt cannot get) serves with a small Node static server instead.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, runCommand, startServer, type RunningServer } from '../lib/process';

interface Nginx {
  bin: string;
  mimeTypes: string;
}

const INSTALLED: Nginx = { bin: '/usr/sbin/nginx', mimeTypes: '/etc/nginx/mime.types' };
const UNPACKED_DIR = path.join(os.tmpdir(), 'fc-nas-images-bench-nginx');

export interface StaticServer extends Pick<RunningServer, 'url' | 'stop'> {
  kind: string;
}

function nginxConfig(nginx: Nginx, prefix: string, root: string, port: number): string {
  const temp = (name: string) => `${name}_temp_path ${path.join(prefix, name)};`;
  return `worker_processes 1;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
daemon off;
events { worker_connections 1024; }
http {
  include ${nginx.mimeTypes};
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

/** Debian's nginx and nginx-common unpacked (not installed) into UNPACKED_DIR once; null when apt cannot get them. */
function unpackedNginx(): Nginx | null {
  const nginx = { bin: path.join(UNPACKED_DIR, 'usr/sbin/nginx'), mimeTypes: path.join(UNPACKED_DIR, 'etc/nginx/mime.types') };
  if (fs.existsSync(nginx.bin)) return nginx;
  const debs = path.join(UNPACKED_DIR, 'debs');
  fs.mkdirSync(debs, { recursive: true });
  const quiet: ExecFileSyncOptions = { cwd: debs, stdio: ['ignore', 'ignore', 'pipe'] };
  // As root, apt would hand the download to its _apt user, which cannot write here.
  const download = () => execFileSync('apt-get', ['download', '-qq', '-o', 'APT::Sandbox::User=root', 'nginx', 'nginx-common'], quiet);
  try {
    try {
      download();
    } catch {
      // Package lists not fetched yet (a fresh machine): only root can fetch them.
      if (process.getuid?.() !== 0) throw new Error('apt has no package lists, and only root can fetch them');
      execFileSync('apt-get', ['update', '-qq'], quiet);
      download();
    }
    for (const deb of fs.readdirSync(debs).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg', ['-x', path.join(debs, deb), UNPACKED_DIR]);
    execFileSync(nginx.bin, ['-v'], quiet);
    return nginx;
  } catch (e) {
    process.stderr.write(`bench: no nginx (${(e as Error).message.split('\n')[0]}); serving with the Node static server\n`);
    fs.rmSync(UNPACKED_DIR, { recursive: true, force: true });
    return null;
  }
}

async function startNginx(nginx: Nginx, root: string, prefix: string): Promise<StaticServer> {
  const port = await freePort();
  fs.mkdirSync(prefix, { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig(nginx, prefix, root, port));
  const server = await startServer({ command: nginx.bin, args: ['-p', prefix, '-e', path.join(prefix, 'error.log'), '-c', conf], port });
  const version = (await runCommand(nginx.bin, ['-v'])).stderrTail.replace('nginx version:', '').trim();
  const how = nginx === INSTALLED ? 'installed' : 'unpacked from its Debian package';
  return { kind: `${version} (${how}), 1 worker`, url: server.url, stop: server.stop };
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
export async function startStaticServer(root: string, prefix: string): Promise<StaticServer> {
  if (process.env.BENCH_SERVER === 'node') return startNodeStatic(root);
  const nginx = fs.existsSync(INSTALLED.bin) ? INSTALLED : unpackedNginx();
  return nginx ? startNginx(nginx, root, prefix) : startNodeStatic(root);
}
