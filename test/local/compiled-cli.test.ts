/** The bin's choice between the compiled CLI (dist/cli) and the TypeScript sources, on a real folder. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const compiled = require('../../scripts/compiled-cli.cjs') as { isFresh(root?: string): boolean };

function setMtime(file: string, seconds: number): void {
  fs.utimesSync(file, seconds, seconds);
}

test('the compiled CLI is used only when its build stamp is newer than every source', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fcnas-build-'));
  try {
    fs.mkdirSync(path.join(root, 'src/crawler'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src/crawler/run.ts'), '');
    assert.equal(compiled.isFresh(root), false, 'never built');
    fs.mkdirSync(path.join(root, 'dist/cli'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dist/cli/.built'), '');
    setMtime(path.join(root, 'src/crawler/run.ts'), 1_000);
    setMtime(path.join(root, 'src/crawler'), 1_000);
    setMtime(path.join(root, 'src'), 1_000);
    setMtime(path.join(root, 'dist/cli/.built'), 2_000);
    assert.equal(compiled.isFresh(root), true);
    setMtime(path.join(root, 'src/crawler/run.ts'), 3_000);
    assert.equal(compiled.isFresh(root), false, 'a source edited after the build');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

