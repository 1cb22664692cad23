/**
 * The image fuzzer's corpus: over 500 bad requests, from path traversal in every encoding to broken bodies.
 * Each case names its category; `mustRefuse` cases must never succeed (any 2xx is a hole).
 */
import { randomBytes } from 'node:crypto';
import { ACTION_PARAMS, ACTIONS as IMAGE_ACTIONS, actionsTaking, exampleQuery } from '../../../src/image/actions';
import type { FuzzNas } from './fuzz-nas';
import type { RawRequest } from './raw-http';

export interface FuzzCase extends RawRequest {
  category: string;
  mustRefuse: boolean;
}

/** No action (the page), then each action of the table with its example parameters. */
const ACTIONS = ['', ...IMAGE_ACTIONS.map(exampleQuery)];

/** Ways to write "../": plain, percent-encoded, double-encoded, backslashes, mixed, overlong UTF-8, NUL, look-alikes. */
const DOT_DOT_SLASH = [
  '../', '..%2f', '..%2F', '%2e%2e/', '%2e%2e%2f', '%2E%2E%2F', '.%2e/', '%2e./',
  '%252e%252e%252f', '..%252f', '%252e%252e/', '%25252e%25252e%25252f',
  '..\\', '..%5c', '%2e%2e%5c', '..%255c', '..\\/', '../\\', '..//', './../', '....//', '..;/',
  '%c0%ae%c0%ae/', '%c0%ae%c0%ae%c0%af', '%e0%80%ae%e0%80%ae/', '..%c0%af', '..%c1%9c', '%c0%2e%c0%2e%c0%2f',
  '..%00/', '%ef%bc%8e%ef%bc%8e/', '%u002e%u002e/', '..%e2%88%95',
];
const TARGETS = ['canary.txt', 'canary.png', 'etc/passwd', 'outside/canary.png'];

function traversal(): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (const enc of DOT_DOT_SLASH) {
    for (const target of TARGETS) {
      for (const [prefix, depth] of [['/', 1], ['/img/', 2], ['/', 6]] as const) {
        cases.push({ category: 'path traversal', mustRefuse: true, method: 'GET', target: `${prefix}${enc.repeat(depth)}${target}?action=show` });
      }
    }
  }
  const absolute = [
    '/etc/passwd', '//etc/passwd', '/%2fetc%2fpasswd', '/%252fetc%252fpasswd', '/\\etc\\passwd', '/..', '/../', '/img/..',
    '/img/../../canary.png', '/canary.txt%00.png', '/../canary.png%00.jpg', '/img/astronaut.png/../../../canary.png',
    '/file:///etc/passwd', '/img/%2e%2e/%2e%2e/canary.png', '/%2e%2e', '/img/..%00/../canary.png',
  ];
  for (const target of absolute) cases.push({ category: 'path traversal', mustRefuse: true, method: 'GET', target: `${target}?action=show` });
  // Absolute-form request targets, and a path in the query for a handler that might read one.
  cases.push({ category: 'path traversal', mustRefuse: true, method: 'GET', target: 'http://127.0.0.1/../canary.png?action=show' });
  for (const q of ['path=../canary.png', 'file=../../etc/passwd', 'src=/etc/passwd', 'url=file:///etc/passwd']) {
    cases.push({ category: 'path traversal', mustRefuse: true, method: 'GET', target: `/?action=show&${q}` });
  }
  // A raw NUL byte and raw non-ASCII bytes in the path.
  cases.push({ category: 'path traversal', mustRefuse: true, method: 'GET', target: '/img/astronaut.png\u0000/../../../canary.png' });
  cases.push({ category: 'path traversal', mustRefuse: true, method: 'GET', target: '/\u00c0\u00ae\u00c0\u00ae/canary.png' });
  return cases;
}

function symlinks(nas: FuzzNas): FuzzCase[] {
  return nas.escapingLinks.flatMap((p) => ACTIONS.map((a) => ({ category: 'symlink out of root', mustRefuse: true, method: 'GET', target: `${p}?${a}` })));
}

function actionsAndAngles(nas: FuzzNas): FuzzCase[] {
  const image = nas.goodImages[0];
  const unknown = ['delete', 'SHOW', 'Rotate', 'show%20', 'exec', '../show', '%00', 'show%00', 'a'.repeat(5000), 'rotate;rm', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'mixed%0d%0aX-Injected:1', '%ff%fe'];
  const angles = ['NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '', 'abc', '90deg', '0x5a', '1e20', '-0', '45.5', '9007199254740993', '%00', '90%00', 'null', 'undefined', '[90]', '90,180', '%2090', '0b1011010', '1_000', '%EF%BC%99%EF%BC%90'];
  const repeated = [
    'action=rotate&action=show&angle=90', 'action=rotate&angle=90&angle=180', 'angle=90&action=rotate&angle=x', 'action[]=show', 'action=rotate&angle[]=90',
    '__proto__[action]=show', 'constructor[prototype][action]=show', 'action=show&action=facedetect', 'action=rotate', 'angle=90', '%', '%zz', 'action=%E0%A4%A', '&&&&', '=', '?=&=', 'action',
  ];
  return [
    ...unknown.map((a) => ({ category: 'unknown action', mustRefuse: true, method: 'GET', target: `${image}?action=${a}` })),
    // Every parameter of every action in the table gets every bad value.
    ...Object.keys(ACTION_PARAMS).flatMap((name) => {
      const query = new URLSearchParams(exampleQuery(actionsTaking(name)[0]));
      query.delete(name);
      return angles.map((a) => ({ category: `bad ${name}`, mustRefuse: false, method: 'GET', target: `${image}?${query}&${name}=${a}` }));
    }),
    ...repeated.map((q) => ({ category: 'repeated or broken parameters', mustRefuse: false, method: 'GET', target: `${image}?${q}` })),
  ];
}

function hugeRequests(nas: FuzzNas): FuzzCase[] {
  const image = nas.goodImages[1];
  const cases: FuzzCase[] = [];
  for (const kb of [8, 15, 64, 1024]) cases.push({ category: 'huge query string', mustRefuse: false, method: 'GET', target: `${image}?action=show&x=${'A'.repeat(kb * 1024)}` });
  cases.push({ category: 'huge query string', mustRefuse: false, method: 'GET', target: `${image}?${Array.from({ length: 2000 }, (_, i) => `a${i}=1`).join('&')}` });
  cases.push({ category: 'huge query string', mustRefuse: false, method: 'GET', target: `${image}?angle=${'9'.repeat(10000)}&action=rotate` });
  cases.push({ category: 'huge query string', mustRefuse: true, method: 'GET', target: `/${'a/'.repeat(3000)}x.png?action=show` });
  cases.push({ category: 'huge query string', mustRefuse: true, method: 'GET', target: `/${'..%2f'.repeat(2000)}etc/passwd` });
  return cases;
}

function badMethods(nas: FuzzNas): FuzzCase[] {
  const methods = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'HEAD', 'FOO', 'PROPFIND', 'MKCOL', 'get', 'G\u00c9T'];
  return nas.goodImages.slice(0, 2).flatMap((image) => methods.map((method) => ({ category: 'bad method', mustRefuse: false, method, target: `${image}?action=show`, body: method === 'PUT' ? 'x' : undefined })));
}

function brokenBodies(nas: FuzzNas): FuzzCase[] {
  const image = nas.goodImages[0];
  const bodies: Array<[string, Buffer | string]> = [
    ['application/json', '{'], ['application/json', '{"action":'], ['application/json', 'null'], ['application/json', '[]'], ['application/json', '"show"'],
    ['application/json', '{"action":"rotate","angle":"NaN"}'], ['application/json', '{"action":{"$gt":""}}'], ['application/json', '{"__proto__":{"action":"show"}}'],
    ['application/json', '{"action":"rotate","angle":1e309}'], ['application/json', '{"path":"../../canary.png","action":"show"}'], ['application/json', '[' .repeat(10000)],
    ['application/x-www-form-urlencoded', 'action=rotate&angle=%ZZ'], ['application/x-www-form-urlencoded', '%'], ['application/x-www-form-urlencoded', 'action=show&'.repeat(5000)],
    ['application/x-www-form-urlencoded', 'action=rotate&angle=NaN'], ['application/x-www-form-urlencoded', 'path=../../canary.txt&action=show'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="action"\r\n\r\nshow\r\n'], ['multipart/form-data', '--\r\n'],
    ['text/plain', '\u0000'.repeat(100)], ['application/octet-stream', randomBytes(1024)], ['application/json', randomBytes(1024)],
    ['application/octet-stream', randomBytes(5 * 1024 * 1024)], ['application/json', Buffer.from([0xff, 0xfe, 0x7b, 0x00])],
  ];
  const cases: FuzzCase[] = bodies.map(([type, body]) => ({ category: 'broken POST body', mustRefuse: false, method: 'POST', target: `${image}?action=show`, headers: { 'content-type': type }, body }));
  const framing: Array<Record<string, string>> = [
    { 'content-length': '-1' }, { 'content-length': 'abc' }, { 'content-length': '5', 'transfer-encoding': 'chunked' }, { 'transfer-encoding': 'chunked' }, { 'content-length': '3, 4' },
  ];
  for (const headers of framing) cases.push({ category: 'broken POST body', mustRefuse: false, method: 'POST', target: image, headers: { 'content-type': 'application/json', ...headers }, body: 'zz\r\n{"action":"show"}' });
  return cases;
}

/** Files that no image service may answer with success; truncated images, SVG, GIF may be shown, and a folder listed. */
const NEVER_AN_IMAGE = /zero|text|html|random|bomb|declared-huge|header-only|missing/;

function badFiles(nas: FuzzNas): FuzzCase[] {
  return nas.badFiles.flatMap((p) => {
    const mustRefuse = NEVER_AN_IMAGE.test(p);
    return ACTIONS.flatMap((a) => [
      { category: 'bad or hostile file', mustRefuse, method: 'GET', target: `${p}?${a}` },
      ...(a ? [{ category: 'bad or hostile file', mustRefuse, method: 'POST', target: p, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: a }] : []),
    ]);
  });
}

export function fuzzCorpus(nas: FuzzNas): FuzzCase[] {
  return [...traversal(), ...symlinks(nas), ...actionsAndAngles(nas), ...hugeRequests(nas), ...badMethods(nas), ...brokenBodies(nas), ...badFiles(nas)];
}
