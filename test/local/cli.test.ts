/** End to end through the real CLI binary: real child processes, a real HTTP site, a real folder as the NAS. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { request } from 'undici';
import { startDemoSite } from '../../src/local/demo-site';

const BIN = path.join(__dirname, '../../bin/fc-nas-images.cjs');
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

function tmpNas(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fcnas-cli-'));
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts a long-running command and resolves with the first stdout line that matches. */
function startUntil(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; match: RegExpMatchArray; lines: string[] }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within 60 s; got:\n${lines.join('\n')}`)), 60_000);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const match = line.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, lines });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before ${pattern}; stdout:\n${lines.join('\n')}`)));
  });
}

test('crawl prints the result JSON as the last line of stdout', async () => {
  const site = await startDemoSite();
  try {
    const nas = tmpNas();
    const { code, stdout, stderr } = await run(['crawl', '--nas', nas, '--url', site.url, '--pages', '1', '--payload', '{"allowPrivateNetworks":true}']);
    assert.equal(code, 0, stderr);
    const last = stdout.trim().split('\n').pop()!;
    const result = JSON.parse(last);
    assert.equal(result.pagesCrawledThisRun, 1);
    assert.equal(result.totalCrawlCount, 1);
    for (const field of ['totalImageDownloaded', 'totalImageSize', 'errorStack', 'frontierSize', 'done', 'durationMs']) assert.ok(field in result, field);
  } finally {
    await site.close();
  }
});

test('crawl exits non-zero with a one-line reason on bad input', async () => {
  const missing = await run(['crawl', '--nas', tmpNas()]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr.trim(), /^fc-nas-images crawl: crawl needs --url/);
  const badPages = await run(['crawl', '--nas', tmpNas(), '--url', 'http://127.0.0.1:9/', '--pages', 'many']);
  assert.equal(badPages.code, 2);
  assert.match(badPages.stderr, /--pages must be a number/);
  const badPayload = await run(['crawl', '--nas', tmpNas(), '--url', 'http://127.0.0.1:9/', '--pages', '0']);
  assert.equal(badPayload.code, 1);
  assert.match(badPayload.stderr, /crawl failed: .*numberOfPages/);
  assert.ok(JSON.parse(badPayload.stdout.trim().split('\n').pop()!).error);
});

test('serve answers HTTP with the image function, FC\'s lifecycle calls in both forms, and /healthz', async () => {
  const nas = tmpNas();
  const { child, match } = await startUntil(['serve', '--nas', nas, '--port', '0'], /(http:\/\/127\.0\.0\.1:\d+\/)/);
  const res = await request(match[1]);
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /text\/html/);
  await res.body.text();
  const missing = await request(new URL('img/nope.jpg', match[1]));
  assert.equal(missing.statusCode, 404);
  await missing.body.text();
  // FC's Initializer in both documented forms, and PreStop likewise.
  for (const [url, init] of [
    ['initialize', { method: 'POST' as const }],
    ['', { method: 'GET' as const, headers: { 'x-fc-control-path': '/initialize' } }],
    ['pre-stop', { method: 'POST' as const }],
    ['', { method: 'GET' as const, headers: { 'x-fc-control-path': '/pre-stop' } }],
  ] as const) {
    const res = await request(new URL(url, match[1]), init);
    assert.equal(res.statusCode, 200, JSON.stringify([url, init]));
    assert.equal(await res.body.text(), 'OK');
  }
  const health = await request(new URL('healthz', match[1]));
  const report = (await health.body.json()) as { openCvLoaded: boolean; nas: { readable: boolean } };
  assert.equal(report.openCvLoaded, true, 'serve loads OpenCV before it listens, as FC runs the Initializer first');
  assert.equal(report.nas.readable, true);
  child.kill('SIGTERM');
});

test('start shows revisits in its progress line once the crawl is done and pages come due', async () => {
  const nas = tmpNas();
  const payload = JSON.stringify({ refresh: { minInterval: '1s', maxInterval: '2s' } });
  const { child, lines } = await startUntil(['start', '--nas', nas, '--port', '0', '--interval', '2s', '--pages', '500', '--payload', payload], /^open (http:\/\/127\.0\.0\.1:\d+\/)/);
  const revisitLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(lines.join('\n'))), 60_000);
    const check = () => {
      const line = lines.find((l) => /^crawl #\d+: .* revisited \(\d+ not modified, \d+ changed\)/.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      } else setTimeout(check, 200);
    };
    check();
  });
  assert.match(revisitLine, /; next revisit \d{4}-\d\d-\d\dT/);
  assert.ok(lines.some((l) => /^crawl #\d+: .*, done/.test(l)), lines.join('\n'));
  child.kill('SIGTERM');
  assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0);
});

test('start crawls the built-in demo site on its timer and the gallery fills', async () => {
  const nas = tmpNas();
  const { child, match, lines } = await startUntil(['start', '--nas', nas, '--port', '0', '--interval', '2s', '--pages', '10'], /^open (http:\/\/127\.0\.0\.1:\d+\/)/);
  const progress = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(lines.join('\n'))), 60_000);
    const check = () => {
      const line = lines.find((l) => /^crawl #1: \+\d+ pages/.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      } else setTimeout(check, 200);
    };
    check();
  });
  assert.match(progress, /\+10 pages, \+\d+ images/);
  assert.ok(lines.some((l) => /demo site/.test(l)));
  const files = fs.readdirSync(path.join(nas, 'img'));
  assert.ok(files.length > 0, 'images on the NAS');
  const gallery = await request(match[1]);
  const html = await gallery.body.text();
  assert.equal(gallery.statusCode, 200);
  assert.ok(files.some((f) => html.includes(f)), 'the gallery links a crawled image');
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
});
