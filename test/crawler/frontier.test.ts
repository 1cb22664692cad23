import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Frontier } from '../../src/crawler/frontier';

const drain = (f: Frontier, order: 'dfs' | 'bfs') => {
  const out: string[] = [];
  for (let item = f.take(order); item; item = f.take(order)) out.push(item.url);
  return out;
};

describe('frontier', () => {
  test('dfs takes the last found first; a page found again moves to the top, keeping its smaller depth and taking its new page', () => {
    const f = new Frontier();
    f.push('a', 1, true, 'p');
    f.push('b', 1, true);
    f.push('c', 1, true);
    f.push('a', 3, true, 'q');
    assert.equal(f.size, 3);
    assert.deepEqual(f.take('dfs'), { url: 'a', depth: 1, from: 'q' });
    assert.deepEqual(drain(f, 'dfs'), ['c', 'b']);
  });

  test('bfs takes the oldest first and holds no duplicates', () => {
    const f = new Frontier();
    for (const u of ['a', 'b', 'a', 'c', 'b']) f.push(u, 0, false);
    assert.equal(f.size, 3);
    assert.deepEqual(drain(f, 'bfs'), ['a', 'b', 'c']);
  });

  test('entries() is the live content in push order, and stays compact after many moves', () => {
    const f = new Frontier();
    for (let i = 0; i < 5000; i++) f.push(`u${i % 10}`, 0, true);
    f.remove('u3');
    assert.deepEqual(
      f.entries().map((e) => e.url),
      ['u0', 'u1', 'u2', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9'],
    );
    f.take('dfs');
    assert.equal(f.entries().length, 8);
  });

  test('a taken page is not pushed again until it is removed; putBackTaken returns it to the top', () => {
    const f = new Frontier();
    f.push('a', 0, true);
    f.push('b', 0, true);
    assert.equal(f.take('dfs')?.url, 'b');
    assert.equal(f.push('b', 1, true), null, 'being visited: not queued again');
    assert.ok(f.has('b'));
    assert.equal(f.size, 1);
    f.putBackTaken();
    assert.deepEqual(drain(f, 'dfs'), ['b', 'a']);
    f.remove('b');
    assert.equal(f.has('b'), false);
    assert.ok(f.push('b', 2, true), 'after remove it is a stranger again');
  });
});

describe('frontier: pushing what is already on top', () => {
  test('unchangedByPushing is true only when the pushes would leave the order and depths as they are', () => {
    const f = new Frontier();
    for (const u of ['x', 'c', 'b', 'a']) f.push(u, 2, true);
    // Pushing c, b, a (in that order) leaves a on top, then b, then c: as now.
    assert.equal(f.unchangedByPushing(['c', 'b', 'a'], 2), true);
    assert.equal(f.unchangedByPushing(['b', 'a'], 3), true);
    assert.equal(f.unchangedByPushing(['b', 'c', 'a'], 2), false, 'another order');
    assert.equal(f.unchangedByPushing(['c', 'b', 'a'], 1), false, 'a smaller depth');
    assert.equal(f.unchangedByPushing(['new', 'a'], 2), false, 'a new page');
    f.take('dfs');
    assert.equal(f.unchangedByPushing(['c', 'b'], 2), true, 'a taken page is not in the way');
  });
});
