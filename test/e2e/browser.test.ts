/**
 * End to end in a real browser: Debian's Chromium, headless, driven by playwright-core against the local runtime
 * (`fc-nas-images serve`, which turns each request into an FC HTTP event for functions/image). It opens the
 * gallery, clicks an image, then rotate and facedetect, checking the rendered image and the console.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { storeImage } from '../../src/collection/image-store';
import { ManifestWriter } from '../../src/collection/manifest';
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

interface Box {
  top: number;
  left: number;
  right: number;
  bottom: number;
}

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
  let portrait = '';
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: run scripts/setup.sh --test (apt-get install chromium), or set CHROMIUM_PATH`);
    nas = await tempNas();
    // A crawled collection: content-addressed files, the manifest and its index, as the crawler writes them.
    // A landscape crop that keeps the face, so rotating visibly swaps width and height.
    const crop = await sharp(path.join(PHOTOS, 'astronaut.png')).extract({ left: 0, top: 0, width: 512, height: 384 }).png().toBuffer();
    for (const dir of ['crawl-state/tmp', 'img']) await mkdir(path.join(nas.root, dir), { recursive: true });
    const lines = [];
    for (const [name, bytes] of [['astronaut-portrait.png', crop], ['coffee-cup.png', await readFile(path.join(PHOTOS, 'coffee.png'))]] as const) {
      const stored = await storeImage(nas.root, bytes);
      assert.ok(stored.ok);
      lines.push({ ...stored.value, sourceUrl: `https://example.org/photos/${name}`, page: 'https://example.org/photos/', savedAt: new Date().toISOString() });
    }
    portrait = lines[0].file;
    await new ManifestWriter(nas.root).append(lines);
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
    // Newest first; tiles carry the source file name and the pixel size, not the hash.
    assert.match(await page.locator('ul.gallery li').first().innerText(), /coffee-cup\.png/);
    assert.match(await page.locator('ul.gallery li').nth(1).innerText(), /astronaut-portrait\.png\s+512 × 384 px/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-gallery.png'), fullPage: true });

    await Promise.all([page.waitForURL(new RegExp(`/${portrait}$`)), page.click(`a[href="/${portrait}"]`)]);
    assert.deepEqual(await resultSize(page), [512, 384]);
    assert.equal(await page.locator('h1').innerText(), 'astronaut-portrait.png');
    const details = await page.locator('table.meta').innerText();
    assert.match(details, /512 × 384 px/);
    assert.ok(details.includes(portrait.slice(4, 68)), 'the hash is in the details');

    await Promise.all([page.waitForURL(/action=rotate&angle=90/), page.click('text=Rotate 90°')]);
    assert.deepEqual(await resultSize(page), [384, 512]);

    await Promise.all([page.waitForURL(/action=facedetect$/), page.click('text=Face detect')]);
    assert.deepEqual(await resultSize(page), [512, 384]);
    assert.match(await page.locator('table.meta').innerText(), /Faces\s+1/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'e2e-facedetect.png'), fullPage: true });

    assert.deepEqual(consoleErrors, []);
    await page.close();
  });

  it('fits a wide and a narrow screen: no horizontal overflow, the image and its title in the first viewport, details beside or under', async () => {
    for (const [label, width, height] of [['wide', 1280, 800], ['narrow', 390, 844]] as const) {
      const page = await browser.newPage({ viewport: { width, height } });
      for (const [what, url] of [['image', `${server.url}${portrait}`], ['rotated', `${server.url}${portrait}?action=rotate&angle=33`], ['gallery', server.url]] as const) {
        assert.equal((await page.goto(url))?.status(), 200, `${label} ${what}`);
        if (what !== 'gallery') await resultSize(page);
        await page.screenshot({ path: path.join(ARTIFACTS, `e2e-${what}-${width}x${height}.png`) });
        // A string, not a function: tsx would wrap a function's inner helpers in a __name() the page does not have.
        const layout = (await page.evaluate(`(() => {
          const box = (selector) => {
            const el = document.querySelector(selector);
            if (!el) return undefined;
            const r = el.getBoundingClientRect();
            return { top: r.top, left: r.left, right: r.right, bottom: r.bottom };
          };
          return {
            scrollWidth: document.documentElement.scrollWidth,
            clientWidth: document.documentElement.clientWidth,
            innerHeight: window.innerHeight,
            image: box('img#result'),
            title: box('h1'),
            details: box('aside.details'),
          };
        })()`)) as { scrollWidth: number; clientWidth: number; innerHeight: number; image?: Box; title?: Box; details?: Box };
        assert.ok(layout.scrollWidth <= layout.clientWidth, `${label} ${what}: page is ${layout.scrollWidth} px wide in a ${layout.clientWidth} px viewport`);
        if (what === 'gallery') continue;
        const inside = (b: Box | undefined) =>
          !!b && b.top >= 0 && b.left >= 0 && b.right <= layout.clientWidth + 0.5 && b.bottom <= layout.innerHeight + 0.5;
        assert.ok(inside(layout.title), `${label} ${what}: title ${JSON.stringify(layout.title)}`);
        assert.ok(inside(layout.image), `${label} ${what}: image ${JSON.stringify(layout.image)} in ${layout.clientWidth}x${layout.innerHeight}`);
        if (label === 'wide') assert.ok(layout.details!.left >= layout.image!.right, `details beside the image: ${JSON.stringify(layout)}`);
        else assert.ok(layout.details!.top >= layout.image!.bottom, `details under the image: ${JSON.stringify(layout)}`);
      }
      await page.close();
    }
  });
});
