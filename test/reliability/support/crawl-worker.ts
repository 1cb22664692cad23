/**
 * A long-lived crawler invoker for the long-life test. It reads one command per stdin line,
 * `{"id":N,"payload":{...},"budgetMs":4000}`, runs one invocation of the real `runCrawl` in this process (as an FC
 * instance reuses its process between invocations) and prints `{"id":N,"result":…,"stateIo":…,"stateOps":…}`.
 * Thousands of invocations thus take minutes, while a SIGKILL still lands on a real process mid-run.
 * `stateOps` counts the file-system calls on the crawl-state folder (lease, load, commit; not the temp folder):
 * a measure of a run's state cost that load on the machine cannot blur.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { parseCrawlPayload } from '../../../src/crawler/payload';
import { runCrawl } from '../../../src/crawler/run';
import { createLogger } from '../../../src/log';

let stateOps = 0;
const onState = (arg: unknown) => {
  const p = typeof arg === 'string' ? arg : arg instanceof URL ? arg.pathname : '';
  return p.includes('/crawl-state/') && !p.includes('/crawl-state/tmp/');
};

function countCalls(target: Record<string, unknown>, names: string[]): void {
  for (const name of names) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (onState(args[0]) || onState(args[1])) stateOps++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
}
countCalls(fs.promises as unknown as Record<string, unknown>, Object.keys(fs.promises));
countCalls(fs as unknown as Record<string, unknown>, ['readFileSync', 'createReadStream', 'writeFileSync', 'appendFileSync', 'statSync', 'readdirSync', 'renameSync', 'openSync']);

interface Command {
  id: number;
  payload: Record<string, unknown>;
  budgetMs: number;
}

async function invoke(command: Command): Promise<Record<string, unknown>> {
  let stateIo: unknown = null;
  const errors: string[] = [];
  const logger = createLogger({ worker: process.pid }, (line) => {
    const entry = JSON.parse(line) as { msg: string; level: string; stateIo?: unknown };
    if (entry.msg === 'crawl run finished') stateIo = entry.stateIo;
    else if (entry.level === 'error' && errors.length < 5) errors.push(line.slice(0, 400));
  }, 'info');
  const parsed = parseCrawlPayload(command.payload, process.env);
  if (!parsed.ok) return { id: command.id, error: parsed.error };
  const opsBefore = stateOps;
  const started = performance.now();
  const result = await runCrawl(parsed.value.config, { requestId: `long-life-${command.id}`, deadline: Date.now() + command.budgetMs, logger });
  return { id: command.id, result, stateIo, stateOps: stateOps - opsBefore, ms: Math.round(performance.now() - started), errors };
}

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    process.stdout.write(JSON.stringify(await invoke(JSON.parse(line) as Command)) + '\n');
  });
});
lines.on('close', () => void queue.then(() => process.exit(0)));
process.stdout.write(JSON.stringify({ ready: process.pid }) + '\n');
