import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathSegments, resolveNasPath } from '../../src/nas/safe-path';
import { PHOTOS, send, tempNas } from './nas-fixture';

describe('safe paths inside the NAS root', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let outside: string;

  before(async () => {
    ({ root, cleanup } = await tempNas());
    outside = await mkdtemp(path.join(os.tmpdir(), 'fc-nas-outside-'));
    await copyFile(path.join(PHOTOS, 'coffee.png'), path.join(outside, 'secret.png'));
    await mkdir(path.join(root, 'img'));
    await mkdir(path.join(root, '.state'));
    await copyFile(path.join(PHOTOS, 'coffee.png'), path.join(root, 'img', 'coffee.png'));
    await copyFile(path.join(PHOTOS, 'coffee.png'), path.join(root, '.state', 'hidden.png'));
    await symlink(path.join(outside, 'secret.png'), path.join(root, 'img', 'escape.png'));
    await symlink(outside, path.join(root, 'img', 'escape-dir'));
    await symlink(path.join(root, 'img', 'coffee.png'), path.join(root, 'img', 'alias.png'));
    await symlink(path.join(root, '.state'), path.join(root, 'img', 'to-hidden'));
    await symlink(path.join(root, 'img', 'loop.png'), path.join(root, 'img', 'loop.png'));
    execFileSync('mkfifo', [path.join(root, 'img', 'pipe.png')]);
  });
  after(async () => {
    await cleanup();
    await rm(outside, { recursive: true, force: true });
  });

  it('serves a plain image and a symlink that stays inside the root', async () => {
    assert.equal((await send(root, '/img/coffee.png', { query: { raw: '1' } })).status, 200);
    const alias = await resolveNasPath(root, '/img/alias.png');
    assert.ok(alias.ok);
    assert.equal(alias.value.relative, 'img/coffee.png');
  });

  const refusals: Array<[string, string, number[]]> = [
    ['plain ..', '/../../etc/passwd', [403]],
    ['.. inside the path', '/img/../../etc/passwd', [403]],
    ['encoded ..', '/%2e%2e/%2e%2e/etc/passwd', [403]],
    ['encoded slash', '/img%2f..%2f..%2fetc%2fpasswd', [403]],
    ['double-encoded ..', '/%252e%252e/%252e%252e/etc/passwd', [400]],
    ['double-encoded slash', '/img%252f..%252fx', [400]],
    ['backslash', '/img\\..\\..\\etc\\passwd', [400]],
    ['encoded backslash', '/img%5c..%5cetc', [400]],
    ['NUL byte', '/img/coffee.png%00.jpg', [400]],
    ['absolute path', '//etc/passwd', [400]],
    ['drive letter', '/C:/Windows/win.ini', [400]],
    ['symlink to a file outside', '/img/escape.png', [403]],
    ['symlink to a folder outside', '/img/escape-dir/secret.png', [403]],
    ['hidden folder', '/.state/hidden.png', [403]],
    ['symlink into a hidden folder', '/img/to-hidden/hidden.png', [403]],
    ['malformed escape', '/img/%zz.png', [400]],
    ['symlink loop', '/img/loop.png', [403]],
    ['FIFO (must not hang)', '/img/pipe.png', [404]],
  ];
  for (const [name, rawPath, statuses] of refusals) {
    it(`refuses ${name}: ${rawPath}`, async () => {
      const reply = await send(root, rawPath, { query: { raw: '1' } });
      assert.ok(statuses.includes(reply.status), `status ${reply.status}: ${reply.text.slice(0, 200)}`);
      assert.notEqual(reply.headers['content-type'], 'image/png');
      assert.doesNotMatch(reply.text, /root:x:0:0/);
    });
  }

  it('answers 404 for a missing image and keeps the error readable as JSON', async () => {
    const reply = await send(root, '/img/nope.png', { headers: { accept: 'application/json' } });
    assert.equal(reply.status, 404);
    assert.deepEqual(JSON.parse(reply.text), { error: { status: 404, message: 'no such image or folder' } });
  });

  it('rejects lexically without touching the file system', () => {
    assert.deepEqual(pathSegments('/img//a.png'), { ok: true, value: ['img', 'a.png'] });
    for (const p of ['img/a.png', '/a/./b', '/a\0b', '/.env']) assert.equal(pathSegments(p).ok, false, p);
  });
});
