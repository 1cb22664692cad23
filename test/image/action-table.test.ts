import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ACTION_TABLE, ACTIONS, exampleQuery } from '../../src/image/actions';
import { canonicalRequest } from '../../src/image/etag';
import { parseRequestParams, toImageRequest } from '../../src/image/request';
import { README, withActionTable } from '../../scripts/action-table';

const parse = (query: string) => {
  const params = parseRequestParams({ method: 'GET', path: '/', rawPath: '/', query: Object.fromEntries(new URLSearchParams(query)), headers: {}, body: Buffer.alloc(0), requestId: 't' });
  assert.ok(params.ok, query);
  const req = toImageRequest(params.value);
  assert.ok(req.ok, `${query}: ${req.ok ? '' : req.error.message}`);
  return req.value;
};

describe('the action table', () => {
  it('the README action table is generated from it (npx tsx scripts/action-table.ts)', () => {
    const readme = readFileSync(README, 'utf8');
    assert.equal(readme, withActionTable(readme), 'the README action table is stale: run npx tsx scripts/action-table.ts');
    for (const action of ACTIONS) assert.ok(readme.includes(`\`?action=${action}`), action);
  });

  it('every parameter of every action enters its cache key, so two different results never share an entry', () => {
    for (const action of ACTIONS) {
      const { params, cacheKey } = ACTION_TABLE[action];
      assert.deepEqual([...cacheKey].sort(), Object.keys(params).sort(), action);
    }
  });

  it('each example request parses, and each differs from every other in its canonical form', () => {
    const canonical = ACTIONS.map((a) => canonicalRequest(parse(exampleQuery(a))));
    assert.equal(new Set(canonical).size, ACTIONS.length, canonical.join(' '));
    assert.notEqual(canonicalRequest(parse('action=blur&sigma=2')), canonicalRequest(parse('action=blur&sigma=2.5')));
    assert.equal(canonicalRequest(parse('action=blur&sigma=2')), canonicalRequest(parse('action=blur&sigma=2.0')));
  });

  it('every page link of an action is a valid request', () => {
    for (const action of ACTIONS) for (const [, link] of ACTION_TABLE[action].links) parse(new URLSearchParams(link).toString());
  });
});
