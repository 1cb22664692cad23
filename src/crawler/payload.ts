/** The timer payload: validated with a schema at the edge, so the crawl core can trust its config. */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { durationMs } from '../util/duration';
import type { RefreshPolicy } from './revisit-policy';
import { describeZodError } from '../util/zod-error';
import { nasRootFromEnv } from '../nas/root';
import { err, ok, type Result } from '../result';

const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL');

const addressOrCidr = z.string().refine((s) => ipaddr.isValid(s) || isCidr(s), 'must be an IP address or CIDR range');

function isCidr(s: string): boolean {
  try {
    ipaddr.parseCIDR(s);
    return true;
  } catch {
    return false;
  }
}

const MB = 1024 * 1024;

/** A revisit interval: a duration of at least 1 s, kept in whole seconds. */
const intervalS = durationMs.refine((ms) => ms >= 1000, 'must be at least 1s').transform((ms) => Math.round(ms / 1000));

const refreshObject = z
  .strictObject({
    minInterval: intervalS.prefault('1h'),
    maxInterval: intervalS.prefault('7d'),
    share: z.number().min(0).max(1).default(0.2),
    images: z.boolean().default(false),
  })
  .refine((r) => r.minInterval <= r.maxInterval, { message: 'must not be longer than maxInterval', path: ['minInterval'] })
  .transform((r): RefreshPolicy => ({ minIntervalS: r.minInterval, maxIntervalS: r.maxInterval, share: r.share, images: r.images }));

/** `false` turns revisits off; an object (or true: every default) sets them up. */
const refreshSchema = z.union([z.literal(false), z.literal(true).transform(() => refreshObject.parse({})), refreshObject]).prefault({});

const payloadSchema = z.object({
  url: httpUrl,
  rootDir: z.string().min(1).optional(),
  numberOfPages: z.number().int().positive().default(50),
  cutoffSize: z.number().nonnegative().default(10),
  debug: z.boolean().default(false),
  order: z.enum(['dfs', 'bfs']).default('dfs'),
  maxDepth: z.number().int().nonnegative().optional(),
  scope: z.enum(['host', 'domain', 'any']).default('host'),
  concurrency: z.number().int().min(1).max(64).default(4),
  respectRobots: z.boolean().default(true),
  userAgent: z.string().min(1).default('fc-nas-images-crawler/0.1 (+https://github.com/fc-nas-images)'),
  maxImageBytes: z.number().int().positive().default(20 * MB),
  /** true/false, or a list of IPs/CIDRs that alone are allowed although private (e.g. a local demo site). */
  allowPrivateNetworks: z.union([z.boolean(), z.array(addressOrCidr)]).default(false),
  reset: z.boolean().default(false),
  maxPageBytes: z.number().int().positive().default(5 * MB),
  requestTimeoutMs: z.number().int().positive().default(15_000),
  retries: z.number().int().nonnegative().max(10).default(2),
  /** Attempts at a page or image across runs before it is failed (transient failures, runs it did not finish in). */
  maxAttempts: z.number().int().min(1).max(100).default(5),
  /** Links kept per page, in document order; the rest are dropped (counted in the debug log). */
  maxLinksPerPage: z.number().int().positive().default(5000),
  /** Longer links and image URLs are dropped. */
  maxUrlLength: z.number().int().min(64).default(2048),
  /** Cap on a robots.txt Crawl-delay: seconds, or a duration such as "10s"; parsed to ms. */
  maxCrawlDelay: durationMs.default(10_000),
  /** Minimum gap between two requests to one host, ms. */
  hostDelayMs: z.number().int().nonnegative().default(0),
  /** Seed the frontier from the seed host's sitemaps (robots.txt `Sitemap:` lines and /sitemap.xml), once per crawl. */
  sitemaps: z.boolean().default(true),
  /** Revisits of visited pages (docs/freshness.md): false, or {minInterval, maxInterval, share, images}. */
  refresh: refreshSchema,
});

export type CrawlConfig = Omit<z.output<typeof payloadSchema>, 'rootDir'> & { rootDir: string };

const KNOWN_FIELDS = new Set(Object.keys(payloadSchema.shape));

export function parseCrawlPayload(payload: unknown, env: NodeJS.ProcessEnv): Result<{ config: CrawlConfig; warnings: string[] }> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return err('crawler payload must be a JSON object with at least "url"');
  }
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) return err(`invalid crawler payload: ${describeZodError(parsed.error)}`);
  const warnings = Object.keys(payload)
    .filter((k) => !KNOWN_FIELDS.has(k))
    .map((k) => `unknown payload field "${k}" is ignored`);
  const config: CrawlConfig = { ...parsed.data, rootDir: parsed.data.rootDir ?? nasRootFromEnv(env) };
  return ok({ config, warnings });
}
