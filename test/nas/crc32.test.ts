import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { crc32Portable } from '../../src/nas/crc32';

test('the portable CRC-32 (for Node before 20.15, as on FC) equals zlib.crc32', () => {
  assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32Portable(Buffer.alloc(0)), 0);
  for (const size of [1, 7, 255, 4096, 100_003]) {
    const data = randomBytes(size);
    assert.equal(crc32Portable(data), zlib.crc32(data), `${size} bytes`);
  }
});
