import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReply, replyBody } from '../../src/fc/reply';

test('binary bodies are base64-encoded, text bodies are not', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
  const bin = buildReply({ status: 200, headers: { 'Content-Type': 'image/png' }, body: png });
  assert.equal(bin.isBase64Encoded, true);
  assert.deepEqual(replyBody(bin), png);
  const html = buildReply({ status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>é</p>' });
  assert.deepEqual(html, { statusCode: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>é</p>', isBase64Encoded: false });
  assert.equal(replyBody(html).toString(), '<p>é</p>');
});
