/**
 * A crawler invocation in its own process, as FC runs it: builds a timer event and calls the function's handler.
 * Usage: node --import tsx test/crawler/crawl-child.ts '<payload JSON>'. Prints the result JSON as the last stdout line.
 */
import { handler } from '../../functions/crawler/index';

const event = Buffer.from(JSON.stringify({ triggerTime: new Date().toISOString(), triggerName: 'test-timer', payload: process.argv[2] }));
handler(event, { requestId: `child-${process.pid}`, function: { name: 'crawler', timeout: 120 } }).then((result) => {
  process.stdout.write(JSON.stringify(result) + '\n');
});
