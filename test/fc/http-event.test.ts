import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseHttpEvent } from '../../src/fc/http-event';

const sample = fs.readFileSync(path.join(__dirname, '../fixtures/fc-events/http-trigger-event.json'));

test('parses the reference HTTP trigger event from a Buffer', () => {
  const r = parseHttpEvent(sample);
  assert.ok(r.ok, !r.ok ? r.error : '');
  assert.equal(r.value.method, 'GET');
  assert.equal(r.value.path, '/img/0a1b2c3d.jpg');
  assert.deepEqual(r.value.query, { action: 'rotate', angle: '90' });
  assert.equal(r.value.requestId, '1-6543a1b2-0123456789abcdef');
  assert.equal(r.value.sourceIp, '203.0.113.7');
  assert.equal(r.value.body.length, 0);
});

test('accepts a string or an object as well as a Buffer', () => {
  for (const event of [sample.toString(), JSON.parse(sample.toString())]) {
    const r = parseHttpEvent(event);
    assert.ok(r.ok);
    assert.equal(r.value.path, '/img/0a1b2c3d.jpg');
  }
});

test('header lookup is case-insensitive through lower-cased names', () => {
  const r = parseHttpEvent(sample);
  assert.ok(r.ok);
  assert.equal(r.value.headers['user-agent'], 'Mozilla/5.0');
  assert.equal(r.value.headers['accept'], 'text/html,application/xhtml+xml');
  assert.equal(r.value.headers['User-Agent'], undefined);
});

test('decodes the raw path exactly once', () => {
  const event = { ...JSON.parse(sample.toString()), rawPath: '/img/a%20b%252e.jpg' };
  const r = parseHttpEvent(event);
  assert.ok(r.ok);
  assert.equal(r.value.path, '/img/a b%2e.jpg');
  assert.equal(r.value.rawPath, '/img/a%20b%252e.jpg');
});

test('decodes a base64 body and keeps a plain one', () => {
  const base = JSON.parse(sample.toString());
  const bin = parseHttpEvent({ ...base, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true });
  assert.ok(bin.ok);
  assert.deepEqual([...bin.value.body], [0, 1, 2, 255]);
  const text = parseHttpEvent({ ...base, body: 'action=flip', isBase64Encoded: false });
  assert.ok(text.ok);
  assert.equal(text.value.body.toString(), 'action=flip');
});

test('malformed events give a clear error, not an exception', () => {
  const cases: Array<[unknown, RegExp]> = [
    [Buffer.from('{not json'), /not valid JSON/],
    [42, /must be a Buffer, string or object/],
    [null, /got null/],
    [{ headers: {} }, /rawPath/],
    [{ rawPath: '/x', headers: { a: 1 } }, /headers\.a/],
    [{ rawPath: '/%E0%A4%A' }, /percent-encoding/],
  ];
  for (const [event, message] of cases) {
    const r = parseHttpEvent(event);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, message);
  }
});
