/** Shared by the crawler tests: a temp NAS, a test payload, and what ended up on it. */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCrawlPayload, type CrawlConfig } from '../../src/crawler/payload';
import { runCrawl, type CrawlResult, type RunContext } from '../../src/crawler/run';
import { createLogger } from '../../src/log';

/** Temp folders that play the NAS, removed together when a suite ends. */
export function tempNasFolders() {
  const roots: string[] = [];
  return {
    async make(): Promise<string> {
      const root = await fs.mkdtemp(path.join(os.tmpdir(), 'crawler-nas-'));
      roots.push(root);
      return root;
    },
    async removeAll(): Promise<void> {
      for (const root of roots.splice(0)) await fs.rm(root, { recursive: true, force: true });
    },
  };
}

/** The payload the tests send: short timeouts, one retry, and only the test site's loopback address allowed. */
export function testPayload(url: string, rootDir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { url, rootDir, numberOfPages: 100, allowPrivateNetworks: ['127.0.0.1'], requestTimeoutMs: 1000, retries: 1, maxPageBytes: 1024 * 1024, ...extra };
}

export function testConfig(url: string, rootDir: string, extra: Record<string, unknown> = {}): CrawlConfig {
  const parsed = parseCrawlPayload(testPayload(url, rootDir, extra), {});
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value.config;
}

/** Runs one invocation; the log lines are collected instead of printed. `ctx` may set the retry clock, env, deadline. */
export async function crawlOnce(config: CrawlConfig, logs: string[] = [], requestId = 'test', ctx: Partial<RunContext> = {}): Promise<CrawlResult> {
  const logger = createLogger({ requestId }, (line) => logs.push(line));
  return runCrawl(config, { requestId, deadline: Date.now() + 120_000, logger, ...ctx });
}

/** A retry clock this many hours ahead: every retry scheduled by earlier runs is due. */
export const hoursLater = (hours: number) => () => Date.now() + hours * 3_600_000;

/** sha256 of every file in img/, checking that each file is named by its own content (so none is partial). */
export async function savedImages(rootDir: string): Promise<Set<string>> {
  const dir = path.join(rootDir, 'img');
  const hashes = new Set<string>();
  const names = await fs.readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)));
  for (const name of names) {
    const hash = createHash('sha256').update(await fs.readFile(path.join(dir, name))).digest('hex');
    if (!name.startsWith(hash + '.')) throw new Error(`img/${name} does not hold the content its name promises (partial file?)`);
    hashes.add(hash);
  }
  return hashes;
}

export const sorted = (s: Iterable<string>) => [...s].sort();
