/** The README's one table of environment variables lists every variable the code and s.yaml read. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const REPO = path.join(__dirname, '../..');

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|cjs|sh)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

test('every env var read in src, functions, scripts, bench, s.yaml and s.container.yaml is in the README table', () => {
  const names = new Set<string>();
  for (const file of ['src', 'functions', 'scripts', 'bench'].flatMap(sources)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]);
  }
  for (const file of ['s.yaml', 's.container.yaml']) {
    for (const m of fs.readFileSync(path.join(REPO, file), 'utf8').matchAll(/env\(\s*['"]([A-Z0-9_]+)['"]/g)) names.add(m[1]);
  }
  assert.ok(names.size >= 25, `found only ${names.size}: ${[...names].join(' ')}`);
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('## Environment variables: one table');
  const table = readme.slice(start, readme.indexOf('\n\n', readme.indexOf('| variable |', start)));
  const missing = [...names].filter((name) => !table.includes(`\`${name}\``));
  assert.deepEqual(missing, [], 'env vars missing from the README table');
});
