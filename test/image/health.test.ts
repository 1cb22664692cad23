import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { healthReport, resultStoreHealth } from '../../src/image/health';

test('an unreadable or missing NAS root is reported, not thrown', async () => {
  const report = await healthReport('/nonexistent/nas', {});
  assert.equal(report.ok, false);
  assert.deepEqual(report.nas, { root: '/nonexistent/nas', readable: false, error: 'ENOENT' });
  assert.equal(report.resultStore.writable, false);
});

test('IMAGE_RESULT_STORE_MB: 0 turns the store off, a bad value falls back to 1024; an existing store dir is checked itself', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'health-'));
  try {
    assert.equal((await resultStoreHealth(root, { IMAGE_RESULT_STORE_MB: '0' })).enabled, false);
    assert.equal((await resultStoreHealth(root, { IMAGE_RESULT_STORE_MB: 'lots' })).maxMb, 1024);
    fs.mkdirSync(path.join(root, '.results'), { mode: 0o500 });
    const store = await resultStoreHealth(root, { IMAGE_RESULT_STORE_MB: '256' });
    assert.equal(store.maxMb, 256);
    // root ignores permission bits; only a non-root user sees the read-only dir.
    assert.equal(store.writable, process.getuid?.() === 0);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
