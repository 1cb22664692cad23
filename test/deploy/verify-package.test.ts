/**
 * `npm run verify:package` inside the test suite: build both packages into dist/, crawl with dist/crawler under
 * Node 20.10.0 (and, for comparison, this machine's Node), and answer a real facedetect from dist/image inside a clean Debian 12 rootfs. It needs root
 * (debootstrap, chroot, mount); without root it is skipped and says so. The first run builds the rootfs
 * (about two minutes); later runs on the same machine reuse .rootfs/ and take about 30 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');

test('npm run verify:package: the crawler on Node 20.10 / glibc 2.28, the image function in a clean Debian 12', (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root (debootstrap, chroot): run sudo npm run verify:package');
    return;
  }
  const run = spawnSync('npm', ['run', '--silent', 'verify:package'], { cwd: REPO, encoding: 'utf8', timeout: 15 * 60_000 });
  const output = `${run.stdout}\n${run.stderr}`;
  for (const line of output.split('\n').filter((l) => /^(package|verify-crawler|verify-package):/.test(l))) t.diagnostic(line);
  assert.equal(run.status, 0, output);
  assert.match(output, /verify-crawler: GLIBC: the newest symbol any native file needs is GLIBC_2\.(2[0-8]|1\d)\b/);
  assert.match(output, /verify-crawler: Node v20\.10\.0: crawled [1-9]\d* pages, saved [1-9]\d* images/);
  assert.match(output, /verify-crawler: GLIBCXX: the newest symbol any native file needs is GLIBCXX_3\.4\.(2[0-5]|1\d)\b/);
  assert.match(output, /verify-crawler: CXXABI: the newest symbol any native file needs is CXXABI_1\.3\.(1[01]|\d)\b/);
  assert.match(output, /verify-crawler: Node v20\.\d+\.\d+: the same crawl, the same pages and images/);
  assert.match(output, /verify-package: OK: [1-9]\d* face\(s\) found on astronaut\.png inside a clean Debian 12 rootfs/);
  assert.match(output, /verify-package: Dockerfile: FROM debian:bookworm\S*; COPY dist\/image \/code; ENTRYPOINT \/code\/bootstrap/);
});
