/**
 * s.yaml as Serverless Devs renders it (`s preview`), checked against the fc3 props schema that `s verify`
 * applies and against the deployment's requirements.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { REPO, S_YAML, renderSYaml } from './render';

/** A copy of the fc3 component's props schema; test/fixtures/fc3/README.md names its source and licence. */
const SCHEMA = path.join(REPO, 'test/fixtures/fc3/props.schema.json');
const rendered = renderSYaml();
const { crawler, image } = rendered.resources;

test('s preview renders edition 3.0.0 with two fc3 functions and an fc3-domain', () => {
  assert.equal(rendered.edition, '3.0.0');
  assert.deepEqual(
    Object.entries(rendered.resources).map(([name, r]) => [name, r.component]),
    [
      ['crawler', 'fc3'],
      ['image', 'fc3'],
      ['image-domain', 'fc3-domain'],
    ],
  );
  assert.doesNotMatch(JSON.stringify(rendered), /\$\{/, 'every magic variable is resolved');
});

test('each fc3 resource props passes the fc3 props schema (what s verify applies)', () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(SCHEMA, 'utf8')));
  for (const [name, resource] of Object.entries(rendered.resources)) {
    if (resource.component !== 'fc3') continue;
    assert.ok(validate(resource.props), `${name}: ${JSON.stringify(validate.errors)}`);
  }
  // The same check rejects a broken config: memory must be a multiple of 64, and a timer needs cronExpression.
  const broken = structuredClone(crawler.props);
  broken.memorySize = 2000;
  delete broken.triggers[0].triggerConfig.cronExpression;
  assert.equal(validate(broken), false);
  const bad = (validate.errors ?? []).map((e) => e.instancePath);
  assert.ok(bad.includes('/memorySize'), JSON.stringify(bad));
});

test('both functions share one NAS (same uid, gid, server, mount dir), VPC, log config and role', () => {
  for (const key of ['nasConfig', 'vpcConfig', 'logConfig', 'role', 'region']) {
    assert.deepEqual(image.props[key], crawler.props[key], key);
  }
  const nas = crawler.props.nasConfig;
  assert.equal(typeof nas.userId, 'number');
  assert.equal(nas.userId, nas.groupId);
  assert.equal(nas.mountPoints.length, 1);
  assert.equal(nas.mountPoints[0].mountDir, '/mnt/crawler');
  for (const fn of [crawler, image]) assert.equal(fn.props.environmentVariables.NAS_ROOT, '/mnt/crawler');
});

test('crawler: nodejs20, 1024 MB, 300 s, a 5-minute timer whose payload JSON takes its url from CRAWL_URL', () => {
  const withSeed = renderSYaml({ CRAWL_URL: 'https://seed.example/start', CRAWL_PAGES_PER_RUN: '20' }).resources.crawler.props;
  assert.equal(withSeed.runtime, 'nodejs20');
  assert.equal(withSeed.handler, 'functions/crawler/index.handler');
  assert.equal(withSeed.code, './dist/crawler');
  assert.equal(withSeed.memorySize, 1024);
  assert.equal(withSeed.timeout, 300);
  const [timer] = withSeed.triggers;
  assert.equal(timer.triggerType, 'timer');
  assert.equal(timer.triggerConfig.cronExpression, '@every 5m');
  assert.equal(timer.triggerConfig.enable, true);
  assert.equal(typeof timer.triggerConfig.payload, 'string');
  assert.deepEqual(JSON.parse(timer.triggerConfig.payload), {
    url: 'https://seed.example/start',
    rootDir: '/mnt/crawler',
    numberOfPages: 20,
    cutoffSize: 10,
    debug: false,
  });
});

test('image: custom.debian12 on port 9000, HTTP trigger GET+POST, anonymous unless IMAGE_AUTH_TYPE=function', () => {
  assert.equal(image.props.runtime, 'custom.debian12');
  assert.equal(image.props.code, './dist/image');
  assert.deepEqual(image.props.customRuntimeConfig, { command: ['/code/bootstrap'], port: 9000 });
  // The Initializer hook warms OpenCV and libvips before the first request (src/local/serve.ts answers it).
  assert.equal(image.props.instanceLifecycleConfig.initializer.timeout, 30);
  // 2 vCPUs for face detection within 40 ms per 0.25 MP; FC wants at least 1 GB per vCPU.
  assert.equal(image.props.cpu, 2);
  assert.ok(image.props.memorySize >= 1024 * image.props.cpu, `memorySize ${image.props.memorySize}`);
  assert.equal(image.props.environmentVariables.IMAGE_THREADS, String(image.props.cpu));
  const [http] = image.props.triggers;
  assert.equal(http.triggerType, 'http');
  assert.equal(http.triggerConfig.authType, 'anonymous');
  assert.deepEqual(http.triggerConfig.methods, ['GET', 'POST']);
  const signed = renderSYaml({ IMAGE_AUTH_TYPE: 'function' }).resources.image.props;
  assert.equal(signed.triggers[0].triggerConfig.authType, 'function');
});

test('a custom domain (domainName auto by default) routes every path to the image function', () => {
  const domain = rendered.resources['image-domain'].props;
  assert.equal(domain.domainName, 'auto');
  assert.equal(domain.region, image.props.region);
  assert.deepEqual(domain.routeConfig.routes, [{ path: '/*', functionName: image.props.functionName, qualifier: 'LATEST', methods: ['GET', 'POST'] }]);
});

test('account-specific values come from env vars, and the file holds no keys or account ids', () => {
  const text = fs.readFileSync(S_YAML, 'utf8');
  assert.doesNotMatch(text, /LTAI[0-9A-Za-z]{8,}/, 'no AccessKey id');
  assert.doesNotMatch(text, /\b\d{12,}\b/, 'no account id');
  const custom = renderSYaml({
    FC_REGION: 'cn-beijing',
    FC_ROLE_ARN: 'acs:ram::1:role/r',
    FC_VPC_ID: 'vpc-a',
    FC_VSWITCH_ID: 'vsw-b',
    FC_SECURITY_GROUP_ID: 'sg-c',
    FC_NAS_SERVER_ADDR: 'nas-d:/x',
    FC_LOG_PROJECT: 'proj-e',
    FC_LOG_STORE: 'store-f',
    FC_CUSTOM_DOMAIN: 'images.example.com',
  });
  for (const fn of [custom.resources.crawler, custom.resources.image]) {
    assert.equal(fn.props.region, 'cn-beijing');
    assert.equal(fn.props.role, 'acs:ram::1:role/r');
    assert.deepEqual(fn.props.vpcConfig, { vpcId: 'vpc-a', vSwitchIds: ['vsw-b'], securityGroupId: 'sg-c' });
    assert.equal(fn.props.nasConfig.mountPoints[0].serverAddr, 'nas-d:/x');
    assert.equal(fn.props.logConfig.project, 'proj-e');
    assert.equal(fn.props.logConfig.logstore, 'store-f');
  }
  assert.equal(custom.resources['image-domain'].props.domainName, 'images.example.com');
});

test("the README's environment variable table lists every env var s.yaml reads", () => {
  const names = new Set([...fs.readFileSync(S_YAML, 'utf8').matchAll(/env\(\s*['"]([A-Z0-9_]+)['"]/g)].map((m) => m[1]));
  assert.ok(names.size >= 10, `found ${names.size} env vars`);
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('<!-- section:env -->'), readme.indexOf('<!-- /section:env -->'));
  for (const name of names) assert.ok(section.includes(`\`${name}\``), `README lists ${name}`);
});

test('s.yaml names the custom.debian12 regions next to FC_REGION and points elsewhere to s.container.yaml', () => {
  const text = fs.readFileSync(S_YAML, 'utf8');
  const comment = text.slice(0, text.indexOf("region: ${env('FC_REGION'"));
  for (const region of ['cn-hangzhou', 'cn-qingdao', 'cn-beijing', 'cn-zhangjiakou', 'cn-huhehaote', 'cn-chengdu']) assert.match(comment, new RegExp(region));
  assert.match(comment, /s\.container\.yaml/);
});

test('s.container.yaml renders the same deployment with the image function as a custom container, valid for fc3', () => {
  const container = renderSYaml({ FC_IMAGE_URI: 'registry.cn-shanghai.aliyuncs.com/ns/fc-nas-images:1' }, path.join(REPO, 's.container.yaml'));
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(SCHEMA, 'utf8')));
  const cImage = container.resources.image.props;
  assert.equal(cImage.runtime, 'custom-container');
  assert.deepEqual(cImage.customContainerConfig, { image: 'registry.cn-shanghai.aliyuncs.com/ns/fc-nas-images:1', port: 9000 });
  assert.ok(validate(cImage), JSON.stringify(validate.errors));
  // Everything else is s.yaml's: the crawler, the domain, and the image function's NAS, VPC, Initializer and triggers.
  assert.deepEqual(container.resources.crawler, crawler);
  assert.deepEqual(container.resources['image-domain'], rendered.resources['image-domain']);
  for (const key of ['nasConfig', 'vpcConfig', 'logConfig', 'role', 'environmentVariables', 'instanceLifecycleConfig', 'triggers', 'instanceConcurrency']) {
    assert.deepEqual(cImage[key], image.props[key], key);
  }
  // The container's port is the one the Dockerfile's entry point serves on.
  const dockerfile = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, new RegExp(`FC_SERVER_PORT=${cImage.customContainerConfig.port}\\b`));
});
