/**
 * Durations as people write them: "250ms", "30s", "5m", "1h", "7d". Shared by the CLI's `--interval` (which also
 * takes FC's "@every 5m") and by payload fields that take a duration (a string like these, or a number of seconds).
 */
import { z } from 'zod';
import { err, ok, type Result } from '../result';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Parses "250ms", "30s", "5m", "1h" or "7d" into milliseconds. */
export function parseDuration(text: string): Result<number> {
  const match = DURATION.exec(text.trim());
  if (!match) return err(`bad duration ${JSON.stringify(text)}: use e.g. 30s, 5m, 1h or 7d`);
  return ok(Number(match[1]) * UNITS[match[2]]);
}

/** Parses a timer interval: a duration of at least 1 s, or FC's "@every 5m", into milliseconds. */
export function parseInterval(text: string): Result<number> {
  const parsed = parseDuration(text.trim().replace(/^@every\s+/, ''));
  if (!parsed.ok) return err(`bad interval ${JSON.stringify(text)}: use e.g. 30s, 5m, 1h or "@every 5m"`);
  if (parsed.value < 1000) return err(`interval ${JSON.stringify(text)} is shorter than 1s`);
  return ok(parsed.value);
}

/** A payload duration: a number of seconds, or a string such as "30s" or "5m"; the output is milliseconds. */
export const durationMs = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value * 1000;
  const parsed = parseDuration(value);
  if (parsed.ok) return parsed.value;
  ctx.addIssue({ code: 'custom', message: parsed.error });
  return z.NEVER;
});
