/**
 * Entry wrapper of every bench script. A bench never fails CI: it prints what it measured, reports misses as
 * MISSED, and exits 0 even when something broke; the failure goes to stderr as a structured log line.
 */
import { createLogger } from '../../src/log';

export function runBench(name: string, body: () => Promise<void>): void {
  const logger = createLogger({ bench: name });
  body()
    .catch((error: unknown) => logger.error('bench failed', { error }))
    .finally(() => process.exit(0));
}
