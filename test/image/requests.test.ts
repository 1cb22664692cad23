import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { parseColour } from '../../src/image/actions';
import { send, suiteNas, twoToneImage } from './nas-fixture';

describe('request validation', () => {
  const nas = suiteNas(async (img) => {
    await writeFile(img('a.png'), await twoToneImage());
  });

  const error = async (query: Record<string, string>, options: { method?: string; body?: string; type?: string; path?: string } = {}) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.type) headers['content-type'] = options.type;
    const reply = await send(nas.root, options.path ?? '/img/a.png', { query, method: options.method, body: options.body, headers });
    return { status: reply.status, message: (JSON.parse(reply.text) as { error: { message: string } }).error.message, headers: reply.headers };
  };

  it('a bad action is a 400 that lists the valid actions', async () => {
    const e = await error({ action: 'explode' });
    assert.equal(e.status, 400);
    assert.match(e.message, /show, rotate, facedetect, flip, flop, grayscale, blur/);
  });

  it('rotate without an angle, or with a bad one, is a 400 that says what an angle is', async () => {
    for (const angle of [undefined, 'ninety', '361', '-360.5', 'Infinity', 'NaN', '1e3', '0x10', '', ' 90']) {
      const e = await error(angle === undefined ? { action: 'rotate' } : { action: 'rotate', angle });
      assert.equal(e.status, 400, String(angle));
      assert.match(e.message, /from -360 to 360/, String(angle));
    }
  });

  it('accepts every finite angle in [-360, 360], decimals included', async () => {
    for (const angle of ['-360', '359.99', '.5', '+45', '7.']) {
      const reply = await send(nas.root, '/img/a.png', { query: { action: 'rotate', angle, raw: '1' } });
      assert.equal(reply.status, 200, angle);
    }
  });

  it('unknown parameters, bad formats and misplaced parameters are 400s naming the valid values', async () => {
    assert.match((await error({ angel: '90' })).message, /unknown parameter angel; valid parameters: action, angle, background, sigma, format, raw, page/);
    assert.match((await error({ action: 'show', format: 'bmp' })).message, /html, json, png, jpeg, jpg, webp/);
    assert.match((await error({ action: 'show', format: 'json' })).message, /only to action=facedetect/);
    assert.match((await error({ action: 'flip', angle: '90' })).message, /only to action=rotate/);
    assert.match((await error({ action: 'rotate', angle: '10', background: 'nope' })).message, /hex colour/);
    assert.match((await error({ page: '2' })).message, /only to a gallery/);
    assert.match((await error({ action: 'show' }, { path: '/img' })).message, /folder/);
    assert.match((await error({ page: '0' }, { path: '/' })).message, /page must be a whole number/);
  });

  it('POST bodies: bad JSON is 400, an unknown content type is 415', async () => {
    assert.equal((await error({}, { method: 'POST', body: '{nope', type: 'application/json' })).status, 400);
    assert.equal((await error({}, { method: 'POST', body: '[1]', type: 'application/json' })).status, 400);
    assert.equal((await error({}, { method: 'POST', body: '{"action":{"x":1}}', type: 'application/json' })).status, 400);
    assert.equal((await error({}, { method: 'POST', body: 'action=show', type: 'text/plain' })).status, 415);
  });

  it('other methods get 405 with Allow', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
      const e = await error({}, { method });
      assert.equal(e.status, 405, method);
      assert.equal(e.headers.allow, 'GET, POST');
    }
  });

  it('format=json in a POST body asks for JSON errors, as it does in the query', async () => {
    const post = (body: string, type: string) =>
      send(nas.root, '/img/missing.png', { method: 'POST', body, headers: { 'content-type': type, accept: 'text/html' } });
    for (const [body, type] of [['{"action":"facedetect","format":"json"}', 'application/json'], ['action=facedetect&format=json', 'application/x-www-form-urlencoded']]) {
      const reply = await post(body, type);
      assert.equal(reply.status, 404, body);
      assert.match(reply.headers['content-type'], /^application\/json/, body);
      assert.equal((JSON.parse(reply.text) as { error: { status: number } }).error.status, 404);
    }
  });

  it('errors are HTML for browsers, with everything escaped', async () => {
    const reply = await send(nas.root, '/img/a.png', { query: { action: '<script>alert(1)</script>' }, headers: { accept: 'text/html' } });
    assert.equal(reply.status, 400);
    assert.match(reply.headers['content-type'], /^text\/html/);
    assert.doesNotMatch(reply.text, /<script>/);
    const missing = await send(nas.root, '/img/<b>x</b>.png');
    assert.equal(missing.status, 404);
    assert.doesNotMatch(missing.text, /<b>x/);
  });

  it('parses colours', () => {
    assert.deepEqual(parseColour('#ff000080'), { r: 255, g: 0, b: 0, alpha: 128 / 255 });
    assert.deepEqual(parseColour('0F0'), { r: 0, g: 255, b: 0, alpha: 1 });
    assert.deepEqual(parseColour('transparent'), { r: 0, g: 0, b: 0, alpha: 0 });
    assert.equal(parseColour('red;'), undefined);
  });
});
