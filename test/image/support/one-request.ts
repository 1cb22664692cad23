/**
 * One image request in a fresh process, as a new FC instance would serve it: prints the request's log line
 * ("image request") as JSON on stdout. Usage: tsx one-request.ts <nasRoot> <path> <query as a URL query string>
 */
import { handleImageRequest } from '../../../src/image/handler';
import { createLogger } from '../../../src/log';

async function main(): Promise<void> {
  const [root, requestPath, query] = process.argv.slice(2);
  const lines: string[] = [];
  const logger = createLogger({}, (line) => lines.push(line));
  const started = performance.now();
  const response = await handleImageRequest(
    { method: 'GET', path: requestPath, rawPath: requestPath, query: Object.fromEntries(new URLSearchParams(query)), headers: {}, body: Buffer.alloc(0), requestId: `pid-${process.pid}` },
    { root, logger },
  );
  const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'image request');
  process.stdout.write(JSON.stringify({ ...line, status: response.status, handlerMs: performance.now() - started }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
