/**
 * `fc-nas-images`: the local runtime. It runs the two FC functions on one machine, with a folder as the NAS:
 * the image function's own custom-runtime server (functions/image/server.ts), and the crawler's handler called
 * with exactly the timer event FC would deliver.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, levelFromEnv, type Logger } from '../log';
import { parseInterval } from '../util/duration';
import { buildCrawlerContext, buildTimerEvent } from '../deploy/timer-event';
import { startScheduler } from './scheduler';
import type { DemoSite } from './demo-site';
import type { CrawlResult } from '../crawler/run';

export interface Io {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const defaultIo: Io = {
  stdout: (line) => process.stdout.write(line + '\n'),
  stderr: (line) => process.stderr.write(line + '\n'),
};

const USAGE = `usage: fc-nas-images <command> [flags]

  serve  --nas DIR [--port 9000] [--host 127.0.0.1]
         serve the image function over HTTP: the server FC's custom runtime runs
  crawl  --nas DIR --url URL [--pages N] [--cutoff KB] [--timeout SECONDS] [--payload JSON] [--debug]
         invoke the crawler once, as FC's timer trigger would; the result JSON is the last line of stdout
  start  [--nas DIR] [--port 9000] [--host 127.0.0.1] [--interval 5m] [--url URL] [--pages N] [--cutoff KB]
         [--timeout SECONDS] [--payload JSON] [--config FILE]
         serve, and invoke the crawler every interval; without a seed URL, crawl the built-in demo site
  sign   <path?query | URL> [--ttl 1h]
         print the URL signed with IMAGE_URL_SECRET (and an exp that far ahead, with --ttl)
  remote <invoke-crawler|status|set-seed> ...
         control the deployed functions through the FC API`;

class UsageError extends Error {}

type Flags = Record<string, string | boolean | undefined>;

function numberFlag(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function jsonObjectFlag(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Payload precedence: defaults < --config file < --payload < individual flags. */
function crawlPayload(flags: Flags, nas: string, defaults: Record<string, unknown>): Record<string, unknown> {
  const config = typeof flags.config === 'string' ? jsonObjectFlag(readText(flags.config), `--config ${flags.config}`) : {};
  const payload: Record<string, unknown> = { numberOfPages: 50, cutoffSize: 10, debug: false, ...defaults, ...config, ...jsonObjectFlag(flags.payload as string | undefined, '--payload') };
  payload.rootDir = nas;
  if (typeof flags.url === 'string') payload.url = flags.url;
  const pages = numberFlag(flags, 'pages');
  if (pages !== undefined) payload.numberOfPages = pages;
  const cutoff = numberFlag(flags, 'cutoff');
  if (cutoff !== undefined) payload.cutoffSize = cutoff;
  if (flags.debug === true) payload.debug = true;
  return payload;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

function nasDir(flags: Flags): string {
  const dir = path.resolve(typeof flags.nas === 'string' ? flags.nas : 'nas');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** The image function's custom-runtime server, with its Initializer's work done first, as FC does before the first request. */
async function imageServer(nas: string, logger: Logger): Promise<http.Server> {
  // The image function reads its root from the environment, exactly as on FC.
  process.env.NAS_ROOT = nas;
  const { warmUp } = loadModule<typeof import('../image/warm-up')>('../image/warm-up');
  await warmUp();
  return imageServerModule().createImageServer({ root: nas, logger });
}

function imageServerModule() {
  return loadModule<typeof import('../../functions/image/server')>('../../functions/image/server');
}

function crawlerHandler() {
  return loadModule<typeof import('../../functions/crawler/index')>('../../functions/crawler/index').handler;
}

/**
 * Loaded on first use, so `crawl` never pays for OpenCV, sharp's demo photos or YAML, and `serve` never for the
 * crawler. A plain require keeps
 * this working both under tsx's CommonJS hook (bin/) and as compiled JS (dist/).
 */
function loadModule<T>(id: string): T {
  return require(id) as T;
}

const FLAG_SPEC = {
  nas: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  url: { type: 'string' },
  pages: { type: 'string' },
  cutoff: { type: 'string' },
  timeout: { type: 'string' },
  payload: { type: 'string' },
  config: { type: 'string' },
  interval: { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function timeoutFlag(flags: Flags): number {
  const t = numberFlag(flags, 'timeout') ?? 300;
  if (t <= 0) throw new UsageError('--timeout must be a positive number of seconds');
  return t;
}

function portFlag(flags: Flags): number {
  const port = numberFlag(flags, 'port') ?? 9000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got ${port}`);
  return port;
}

async function serve(flags: Flags, io: Io): Promise<number> {
  const nas = nasDir(flags);
  const logger = createLogger({ component: 'serve' }, undefined, levelFromEnv());
  const server = await imageServer(nas, logger);
  const { url } = await imageServerModule().listen(server, portFlag(flags), typeof flags.host === 'string' ? flags.host : '127.0.0.1');
  io.stdout(`image function serving ${nas} at ${url}`);
  await new Promise<void>((resolve) => server.on('close', resolve));
  return 0;
}

async function crawl(flags: Flags, io: Io): Promise<number> {
  const payload = crawlPayload(flags, nasDir(flags), {});
  if (typeof payload.url !== 'string') throw new UsageError('crawl needs --url URL (or "url" in --payload)');
  const handler = crawlerHandler();
  const result = await handler(buildTimerEvent(payload), buildCrawlerContext(timeoutFlag(flags)));
  io.stdout(JSON.stringify(result));
  if (result.error) {
    io.stderr(`crawl failed: ${result.error}`);
    return 1;
  }
  return 0;
}

function progressLine(run: number, r: CrawlResult): string {
  if (r.error) return `crawl #${run}: failed: ${r.error}`;
  if (r.skipped) return `crawl #${run}: skipped (${r.skipped})`;
  const mb = (r.totalImageSize / 1e6).toFixed(1);
  const revisits = r.pagesRevisitedThisRun ? `, ${r.pagesRevisitedThisRun} revisited (${r.notModifiedThisRun} not modified, ${r.changedThisRun} changed)` : '';
  const state = r.idle ? (r.done ? ', done, idle' : ', idle') : r.done ? ', done' : '';
  const next = r.nextRevisitAt ? `; next revisit ${r.nextRevisitAt}` : '';
  return `crawl #${run}: +${r.pagesCrawledThisRun} pages, +${r.imagesDownloadedThisRun} images${revisits} in ${(r.durationMs / 1000).toFixed(1)}s; total ${r.totalCrawlCount} pages, ${r.totalImageDownloaded} images (${mb} MB); frontier ${r.frontierSize}, failed ${r.failedCount}${state}${next}`;
}

async function start(flags: Flags, io: Io): Promise<number> {
  const nas = nasDir(flags);
  // The timer interval and payload defaults come from s.yaml, so local runs behave like the deployment.
  const deploy = loadModule<typeof import('../deploy/deploy-defaults')>('../deploy/deploy-defaults').readDeployDefaults();
  const interval = typeof flags.interval === 'string' ? parseInterval(flags.interval) : { ok: true as const, value: deploy.intervalMs };
  if (!interval.ok) throw new UsageError(interval.error);
  const timeout = timeoutFlag(flags);
  const logger = createLogger({ component: 'start' }, undefined, levelFromEnv());

  const { url: deployUrl, ...deployPayload } = deploy.payload;
  const seedUrl = process.env.CRAWL_URL || (typeof deployUrl === 'string' && deployUrl ? deployUrl : undefined);
  const payload = crawlPayload(flags, nas, { ...deployPayload, ...(seedUrl ? { url: seedUrl } : {}) });
  let demo: DemoSite | undefined;
  if (typeof payload.url !== 'string') {
    demo = await loadModule<typeof import('./demo-site')>('./demo-site').startDemoSite();
    payload.url = demo.url;
    // Only the demo site itself may be a private address.
    payload.allowPrivateNetworks = ['127.0.0.1'];
    io.stdout(`no seed URL configured: crawling the built-in demo site at ${demo.url}`);
  }

  const server = await imageServer(nas, logger);
  const { url } = await imageServerModule().listen(server, portFlag(flags), typeof flags.host === 'string' ? flags.host : '127.0.0.1');
  io.stdout(`open ${url} (image function serving ${nas}, standing in for the NAS at ${deploy.mountDir})`);
  io.stdout(`crawler: ${payload.url} every ${Math.round(interval.value / 1000)}s, ${payload.numberOfPages} pages per run`);

  const handler = crawlerHandler();
  const scheduler = startScheduler({
    intervalMs: interval.value,
    invoke: () => handler(buildTimerEvent(payload), buildCrawlerContext(timeout)),
    onResult: (result, run) => io.stdout(progressLine(run, result)),
    onError: (error, run) => logger.error('crawler invocation threw', { run, error }),
    onSkippedTick: (run) => io.stdout(`crawl #${run} still running: timer tick skipped`),
  });

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.stdout('stopping: waiting for the crawler run in flight');
  await scheduler.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await demo?.close();
  return 0;
}

function sign(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({ args, options: { ttl: { type: 'string' } }, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('sign needs one path with its query, e.g. sign "/img/a.jpg?action=flip"');
  const { signingKeysFromEnv, signUrl } = loadModule<typeof import('../image/url-signature')>('../image/url-signature');
  const keys = signingKeysFromEnv(process.env);
  if (!keys) throw new UsageError('sign needs the secret in env IMAGE_URL_SECRET');
  const ttl = values.ttl === undefined ? undefined : parseInterval(values.ttl);
  if (ttl && !ttl.ok) throw new UsageError(`--ttl: ${ttl.error}`);
  io.stdout(signUrl(positionals[0], keys.current, ttl ? ttl.value / 1000 : undefined));
  return 0;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'remote') {
      const { runRemote } = loadModule<typeof import('../remote/cli')>('../remote/cli');
      return await runRemote(rest, { ...io, env: process.env });
    }
    if (command === 'sign') return sign(rest, io);
    const { values } = parseArgs({ args: rest, options: FLAG_SPEC, strict: true, allowPositionals: false });
    if (values.help || command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    }
    switch (command) {
      case 'serve':
        return await serve(values, io);
      case 'crawl':
        return await crawl(values, io);
      case 'start':
        return await start(values, io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    const error = e as Error & { code?: string };
    const usage = e instanceof UsageError || error.code?.startsWith('ERR_PARSE_ARGS');
    io.stderr(`fc-nas-images ${command ?? ''}: ${error.message.split('\n')[0]}${usage ? ' (see --help)' : ''}`);
    return usage ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
