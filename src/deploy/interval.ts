import { err, ok, type Result } from '../result';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "30s", "5m", "1h", "250ms" or FC's "@every 5m" into milliseconds. */
export function parseInterval(text: string): Result<number> {
  const match = /^(?:@every\s+)?(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(text.trim());
  if (!match) return err(`bad interval ${JSON.stringify(text)}: use e.g. 30s, 5m, 1h or "@every 5m"`);
  const ms = Number(match[1]) * UNITS[match[2]];
  if (ms < 1000) return err(`interval ${JSON.stringify(text)} is shorter than 1s`);
  return ok(ms);
}
