/** The offline reading of the Dockerfile that verify:package applies to a clean Debian 12 root filesystem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyDockerfile, parseDockerfile } from '../../scripts/package/dockerfile';

const REPO = path.join(__dirname, '../..');

test("the repo's Dockerfile: Debian 12 base, only the image package, FC's env, the package's bootstrap", () => {
  const spec = parseDockerfile(fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'));
  assert.match(spec.from, /^debian:bookworm/);
  assert.deepEqual(spec.copies, [{ source: 'dist/image', target: '/code' }]);
  assert.deepEqual(spec.env, { NAS_ROOT: '/mnt/crawler', FC_SERVER_PORT: '9000' });
  assert.deepEqual(spec.entrypoint, ['/code/bootstrap']);
});

test('instructions the offline check cannot follow fail it instead of passing untested', () => {
  const base = 'FROM debian:bookworm-slim\nCOPY dist/image /code\nENTRYPOINT ["/code/bootstrap"]\n';
  assert.throws(() => parseDockerfile(base + 'RUN apt-get install -y x\n'), /RUN: not supported/);
  assert.throws(() => parseDockerfile(base.replace('debian:bookworm-slim', 'alpine:3')), /Debian 12/);
  assert.throws(() => parseDockerfile(base.replace('COPY dist/image /code', 'COPY --chown=1 dist/image /code')), /COPY/);
  assert.throws(() => parseDockerfile(base.replace('["/code/bootstrap"]', '["/bin/sh", "-c", "x"]')), /ENTRYPOINT/);
});

test('applying it copies the files (modes kept) and writes the env and entry point', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dockerfile-'));
  try {
    fs.mkdirSync(path.join(dir, 'ctx/dist/image'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'ctx/dist/image/bootstrap'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'ctx/Dockerfile'), 'FROM debian:bookworm\nCOPY dist/image /code\nENV A=1 B=two\nENTRYPOINT ["/code/bootstrap"]\n');
    fs.mkdirSync(path.join(dir, 'root'));
    applyDockerfile(path.join(dir, 'ctx/Dockerfile'), path.join(dir, 'root'), dir);
    assert.ok(fs.statSync(path.join(dir, 'root/code/bootstrap')).mode & 0o100);
    assert.equal(fs.readFileSync(path.join(dir, 'container.env'), 'utf8'), 'A=1\nB=two\n');
    assert.equal(fs.readFileSync(path.join(dir, 'entrypoint'), 'utf8'), '/code/bootstrap');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
