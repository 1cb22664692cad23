import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromContext } from '../../src/fc/context';
import { createLogger } from '../../src/log';

test('deadline is now + function.timeout, and the request id is kept', () => {
  const now = 1_700_000_000_000;
  const ctx = fromContext({ requestId: 'req-1', function: { name: 'crawler', timeout: 300, memory: 2048 } }, now);
  assert.equal(ctx.requestId, 'req-1');
  assert.equal(ctx.deadline, now + 300_000);
  assert.equal(ctx.functionName, 'crawler');
});

test('a missing or malformed context still yields a usable context', () => {
  const now = 1_000;
  for (const context of [undefined, null, 'x', {}, { function: { timeout: -5 } }, { function: { timeout: 'soon' } }]) {
    const ctx = fromContext(context, now);
    assert.equal(ctx.deadline, now + 300_000);
    assert.match(ctx.requestId, /^[0-9a-f-]{36}$/);
  }
});

test('log lines are JSON with the request id and serialised errors', () => {
  const lines: string[] = [];
  const logger = createLogger({ requestId: 'r-9' }, (l) => lines.push(l)).child({ path: '/img/a.jpg' });
  logger.error('boom', { error: new Error('disk full') });
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.requestId, 'r-9');
  assert.equal(entry.path, '/img/a.jpg');
  assert.equal(entry.level, 'error');
  assert.equal(entry.error.message, 'disk full');
});
