/**
 * End to end in a real browser: Debian's Chromium, headless, driven by playwright-core against the local runtime
 * (`fc-nas-images serve`, which turns each request into an FC HTTP event for functions/image). It opens the
 * gallery, clicks an image, then rotate and facedetect, checking the rendered image and the console.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { PHOTOS, tempNas } from '../image/nas-fixture';
import { startServe, type Served } from '../image/support/serve';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const REPO = path.join(__dirname, '../..');
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function resultSize(page: Page): Promise<[number, number]> {
  const img = page.locator('img#result');
  await img.waitFor();
  // Runs in the page; the project compiles without the DOM lib, hence the structural type.
  return img.evaluate((el) => {
    const image = el as unknown as { decode(): Promise<void>; naturalWidth: number; naturalHeight: number };
    return image.decode().then(() => [image.naturalWidth, image.naturalHeight] as [number, number]);
  });
}

describe('the image service in a real browser', () => {
  let nas: { root: string; cleanup: () => Promise<void> };
  let server: Served;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: run scripts/setup.sh --test (apt-get install chromium), or set CHROMIUM_PATH`);
    nas = await tempNas();
    await mkdir(path.join(nas.root, 'img'));
    // A landscape crop that keeps the face, so rotating visibly swaps width and height.
    await writeFile(path.join(nas.root, 'img', 'portrait-crop.png'), await sharp(path.join(PHOTOS, 'astronaut.png')).extract({ left: 0, top: 0, width: 512, height: 384 }).png().toBuffer());
    await copyFile(path.join(PHOTOS, 'coffee.png'), path.join(nas.root, 'img', 'coffee.png'));
    server = await startServe(nas.root);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await nas?.cleanup();
  });

  it('opens the gallery, clicks an image, rotates it and outlines the face', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await mkdir(ARTIFACTS, { recursive: true });

    const gallery = await page.goto(server.url);
    assert.equal(gallery?.status(), 200);
    assert.equal(await page.locator('ul.gallery li').count(), 2);
    assert.equal(await page.locator('ul.gallery img').count(), 2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-gallery.png'), fullPage: true });

    await Promise.all([page.waitForURL(/\/img\/portrait-crop\.png$/), page.click('a[href="/img/portrait-crop.png"]')]);
    assert.deepEqual(await resultSize(page), [512, 384]);
    assert.match(await page.locator('table.meta').innerText(), /512 × 384 px/);

    await Promise.all([page.waitForURL(/action=rotate&angle=90/), page.click('text=Rotate 90°')]);
    assert.deepEqual(await resultSize(page), [384, 512]);

    await Promise.all([page.waitForURL(/action=facedetect$/), page.click('text=Face detect')]);
    assert.deepEqual(await resultSize(page), [512, 384]);
    assert.match(await page.locator('table.meta').innerText(), /Faces\s+1/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-facedetect.png'), fullPage: true });

    assert.deepEqual(consoleErrors, []);
    await page.close();
  });
});
