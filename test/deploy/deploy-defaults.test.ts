/**
 * The local runtime's s.yaml twin (src/deploy/deploy-defaults.ts) against Serverless Devs' own rendering of the
 * same file: the mount dir, timer payload and interval the local runtime uses are the deployed ones.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDeployDefaults } from '../../src/deploy/deploy-defaults';
import { parseInterval } from '../../src/util/duration';
import { S_YAML, renderSYaml, type Rendered } from './render';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-defaults-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function expectedFrom(rendered: Rendered) {
  const { crawler, image } = rendered.resources;
  const timer = crawler.props.triggers.find((t: { triggerType: string }) => t.triggerType === 'timer');
  const interval = parseInterval(timer.triggerConfig.cronExpression);
  assert.ok(interval.ok);
  return {
    region: crawler.props.region,
    mountDir: crawler.props.nasConfig.mountPoints[0].mountDir,
    payload: JSON.parse(timer.triggerConfig.payload),
    intervalMs: interval.value,
    crawler: { functionName: crawler.props.functionName, timerTriggerName: timer.triggerName },
    image: { functionName: image.props.functionName, port: image.props.customRuntimeConfig.port },
  };
}

test('with the env defaults, the twin reads exactly what s preview renders', () => {
  const defaults = readDeployDefaults(S_YAML, {});
  assert.deepEqual(defaults, expectedFrom(renderSYaml()));
  assert.equal(defaults.mountDir, '/mnt/crawler');
  assert.equal(defaults.intervalMs, 5 * 60_000);
  assert.equal(defaults.payload.rootDir, defaults.mountDir);
});

test('with env overrides, the twin still matches s preview', () => {
  const env = { CRAWL_URL: 'https://seed.example/', CRAWL_PAGES_PER_RUN: '12', CRAWL_CUTOFF_KB: '4', FC_REGION: 'cn-shenzhen', FC_CRAWLER_FUNCTION: 'my-crawler' };
  const defaults = readDeployDefaults(S_YAML, env);
  assert.deepEqual(defaults, expectedFrom(renderSYaml(env)));
  assert.deepEqual(defaults.payload, { url: 'https://seed.example/', rootDir: '/mnt/crawler', numberOfPages: 12, cutoffSize: 4, debug: false });
});

function variant(name: string, edit: (text: string) => string): string {
  const file = path.join(tmp, `${name}.yaml`);
  const text = fs.readFileSync(S_YAML, 'utf8');
  const changed = edit(text);
  assert.notEqual(changed, text, `${name}: the edit must change s.yaml`);
  fs.writeFileSync(file, changed);
  return file;
}

test('a changed s.yaml changes what the twin reads (the two cannot drift)', () => {
  const file = variant('interval', (t) => t.replace("'@every 5m'", "'@every 2m'").replace('mountDir: /mnt/crawler', 'mountDir: /mnt/shared'));
  const defaults = readDeployDefaults(file, {});
  assert.equal(defaults.intervalMs, 2 * 60_000);
  assert.equal(defaults.mountDir, '/mnt/shared');
  assert.equal(defaults.payload.rootDir, '/mnt/shared');
  assert.deepEqual(defaults, expectedFrom(renderSYaml({}, file)));
});

test('a malformed s.yaml gets an error that names the problem', () => {
  const cases: Array<[string, (t: string) => string, RegExp]> = [
    ['cron', (t) => t.replace("'@every 5m'", "'0 */5 * * * *'"), /bad interval/],
    ['payload', (t) => t.replace('"debug":false}', '"debug":false'), /payload is not valid JSON/],
    ['magic', (t) => t.replace('${vars.mountDir}', '${config("AccountID")}'), /unsupported magic variable/],
    ['undefined-var', (t) => t.replace('${vars.crawlerFunctionName}', '${vars.nope}'), /vars\.nope.*not defined/],
    ['split-mount', (t) => t.replace(/(image:[\s\S]*?NAS_ROOT: )\$\{vars\.mountDir\}/, '$1/mnt/other'), /both functions must share one mount dir/],
  ];
  for (const [name, edit, message] of cases) {
    assert.throws(() => readDeployDefaults(variant(name, edit), {}), message, name);
  }
});
