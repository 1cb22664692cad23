/** The layering the README describes, read from the import statements: a core never reaches up to an edge. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.join(__dirname, '../../src');

function importsOf(dir: string): Array<{ file: string; target: string }> {
  return fs
    .readdirSync(path.join(SRC, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .flatMap((e) => {
      const file = path.join(e.parentPath, e.name);
      const text = fs.readFileSync(file, 'utf8');
      return [...text.matchAll(/(?:from\s+|import\(|require\()\s*['"](\.[^'"]+)['"]/g)].map((m) => ({
        file: path.relative(SRC, file),
        target: path.relative(SRC, path.resolve(path.dirname(file), m[1])),
      }));
    });
}

const FORBIDDEN: Record<string, RegExp> = {
  remote: /^(local|\.\.\/functions)\b/,
  deploy: /^(local|remote|image|crawler|\.\.\/functions)\b/,
  image: /^(local|remote|deploy|crawler|\.\.\/functions)\b/,
  crawler: /^(local|remote|deploy|image|\.\.\/functions)\b/,
  collection: /^(local|remote|deploy|image|crawler|\.\.\/functions)\b/,
  nas: /^(local|remote|deploy|image|crawler|\.\.\/functions)\b/,
};

test('src/remote does not import src/local; shared deploy code sits in src/deploy; the cores import no edge', () => {
  for (const [dir, forbidden] of Object.entries(FORBIDDEN)) {
    const bad = importsOf(dir).filter((i) => forbidden.test(i.target));
    assert.deepEqual(bad, [], `${dir} imports ${bad.map((b) => `${b.target} (in ${b.file})`).join(', ')}`);
  }
  assert.ok(importsOf('remote').some((i) => i.target.startsWith('deploy/')), 'the check sees remote\'s imports of src/deploy');
});
