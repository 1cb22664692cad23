/**
 * Fuzz: over 500 bad requests against the real image service (`fc-nas-images serve`). No answer may be a 5xx,
 * none may carry the canary token kept just outside the NAS root, nothing that escapes the root or is not an
 * image may succeed, and the server must still be up and serving at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertFigure } from './support/figures';
import { fuzzCorpus, type FuzzCase } from './support/fuzz-corpus';
import { buildFuzzNas } from './support/fuzz-nas';
import { tempDir } from './support/paths';
import { startImageServer } from './support/processes';
import { sendRaw, type RawResponse } from './support/raw-http';

const AREA = 'image: fuzz';
const PARALLEL = 4;

/** The token in plain text, or inside any base64 run (a data: URI of the raw file). */
function leaks(body: Buffer, token: string): boolean {
  const text = body.toString('latin1');
  if (text.includes(token) || text.includes('root:x:0:0')) return true;
  for (const run of text.match(/[A-Za-z0-9+/]{24,}={0,2}/g) ?? []) {
    const decoded = Buffer.from(run, 'base64').toString('latin1');
    if (decoded.includes(token) || decoded.includes('root:x:0:0')) return true;
  }
  return false;
}

async function sendAll(port: number, cases: FuzzCase[]): Promise<RawResponse[]> {
  const responses: RawResponse[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) responses[i] = await sendRaw(port, cases[i]);
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return responses;
}

function histogram(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${s <= 0 ? (s ? 'timeout' : 'no answer') : s}: ${n}`).join(', ');
}

test('>= 500 bad requests: no 5xx, no canary leak, no escape, the server stays up', { timeout: 10 * 60_000 }, async (t) => {
  const tmp = tempDir('fuzz');
  t.after(tmp.remove);
  const nas = await buildFuzzNas(tmp.dir);
  const server = await startImageServer(nas.root, { connectLog: path.join(tmp.dir, 'connect.jsonl') });
  t.after(() => server.stop());
  const port = Number(new URL(server.url).port);

  // The leak detector must see the token both plain and inside a data: URI of the raw canary file.
  const canaryFile = fs.readFileSync(path.join(tmp.dir, 'canary.png'));
  assert.ok(leaks(Buffer.from(`x${nas.canaryToken}x`), nas.canaryToken) && leaks(Buffer.from(`src="data:image/png;base64,${canaryFile.toString('base64')}"`), nas.canaryToken));

  const cases = fuzzCorpus(nas);
  const started = Date.now();
  const responses = await sendAll(port, cases);
  const seconds = (Date.now() - started) / 1000;

  const statuses = responses.map((r) => r.status);
  const serverErrors = cases.filter((_, i) => statuses[i] >= 500 || statuses[i] <= 0);
  const leaked = cases.filter((_, i) => leaks(responses[i].body, nas.canaryToken));
  const holes = cases.filter((c, i) => c.mustRefuse && statuses[i] >= 200 && statuses[i] < 300);
  for (const category of new Set(cases.map((c) => c.category))) {
    t.diagnostic(`${category}: ${histogram(statuses.filter((_, i) => cases[i].category === category))}`);
  }
  const show = (list: FuzzCase[]) => list.slice(0, 4).map((c) => `${c.method} ${c.target.slice(0, 80)} -> ${statuses[cases.indexOf(c)]}`).join('; ');
  if (serverErrors.length) t.diagnostic(`5xx or no answer: ${show(serverErrors)}`);
  if (holes.length) t.diagnostic(`succeeded although they must not: ${show(holes)}`);

  const after = await sendRaw(port, { method: 'GET', target: `${nas.goodImages[0]}?action=show` });
  const up = server.alive() && after.status === 200;

  assertFigure({
    area: AREA,
    promise: '>= 500 bad requests, no status >= 500 (and every one answered)',
    figure: `${cases.length} requests in ${seconds.toFixed(0)} s; ${histogram(statuses)}`,
    holds: cases.length >= 500 && serverErrors.length === 0,
  });
  assertFigure({ area: AREA, promise: 'no response contains the canary token', figure: `${leaked.length} leaks${leaked.length ? ': ' + show(leaked) : ''}`, holds: leaked.length === 0 });
  assertFigure({
    area: AREA,
    promise: 'traversal, symlink escapes, unknown actions, non-images: never 2xx',
    figure: `${cases.filter((c) => c.mustRefuse).length} such requests, ${holes.length} succeeded`,
    holds: holes.length === 0,
  });
  assertFigure({ area: AREA, promise: 'the server process stays up', figure: `alive: ${server.alive()}; a good image afterwards: ${after.status}`, holds: up });
});
