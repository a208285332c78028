// The demo page in real headless Chromium (Debian's, driven by playwright-core; never a
// downloaded browser) with WebGPU on: it trains on the GPU, agrees with the CPU, and the
// comparison panel's three implementations agree. Screenshots go to test-artifacts/.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const CHROMIUM = process.env.SIGMTL_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';
let server: PreviewServer;
let browser: BrowserContext;
let page: Page;
let url: string;

describe.skipIf(!existsSync(CHROMIUM))('demo page in headless Chromium', () => {
  beforeAll(async () => {
    await build({ logLevel: 'error' });
    server = await preview({ logLevel: 'error', preview: { port: 5299, strictPort: false, host: '127.0.0.1' } });
    url = server.resolvedUrls!.local[0]!;
    // A fresh user-data dir every run (Playwright takes it as the persistent context's folder).
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'sigmtl-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1250 },
      args: ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && console.error('[page]', m.text()));
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server?.httpServer.close(() => resolve()));
  });

  test('?autorun=1 trains on WebGPU, the loss falls, and the GPU agrees with the CPU', async () => {
    await page.goto(`${url}?autorun=1`);
    const text = await page
      .locator('#result')
      .textContent({ timeout: 240_000 })
      .then(async (t) => {
        if (t) return t;
        await page.waitForFunction(() => document.getElementById('result')!.textContent !== '', null, { timeout: 240_000 });
        return page.locator('#result').textContent();
      });
    const result = JSON.parse(text!);
    expect(result.error).toBeUndefined();
    expect(result.backend).toBe('webgpu');
    expect(result.dataset).toBe('yeast');
    expect(result.lossLast).toBeLessThan(result.lossFirst);
    expect(result.maxAbsDiffVsCpu).toBeLessThan(1e-4);
    expect(result.metrics.overall.hammingLoss).toBeLessThan(0.25);
    for (const key of ['adapter', 'steps', 'metrics']) expect(result).toHaveProperty(key);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-train.png'), fullPage: false });
  }, 300_000);

  test('a dropped CSV with targets chosen in the page trains too', async () => {
    const rows = ['a,b,c,y1,y2'];
    for (let i = 0; i < 200; i++) {
      const [a, b, c] = [Math.sin(i), Math.cos(i * 0.7), (i % 13) / 13];
      rows.push(`${a},${b},${c},${2 * a - b + 0.1 * c},${a * b > 0 ? 1 : 0}`);
    }
    await page.goto(`${url}?dataset=csv&epochs=5`);
    await page.setInputFiles('input[name=file]', { name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.waitForFunction(() => (document.querySelector('select[name=targets]') as HTMLSelectElement).options.length === 5);
    await page.selectOption('select[name=targets]', ['y1', 'y2']);
    await page.click('#start');
    await page.waitForFunction(() => /^done/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 120_000 });
    const metrics = await page.locator('#metrics').textContent();
    expect(metrics).toContain('y1');
    expect(metrics).toContain('accuracy'); // y2 is 0/1: trained with BCE
  }, 150_000);

  test('without WebGPU the page says so and trains on the CPU engine', async () => {
    const noGpu = await browser.newPage();
    await noGpu.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await noGpu.goto(`${url}?autorun=1&dataset=enb2012&epochs=3`);
    await noGpu.waitForFunction(() => document.getElementById('result')!.textContent !== '', null, { timeout: 120_000 });
    const result = JSON.parse((await noGpu.locator('#result').textContent())!);
    expect(result.backend).toBe('wasm');
    expect(result.lossLast).toBeLessThan(result.lossFirst);
    expect(await noGpu.locator('#adapter').textContent()).toContain('No WebGPU in this browser');
    await noGpu.close();
  }, 150_000);

  test('the verify panel passes every kernel check on the browser adapter', async () => {
    await page.click('#verify');
    await page.waitForFunction(() => document.getElementById('verify-result')!.dataset.ok !== undefined, null, { timeout: 120_000 });
    expect(await page.locator('#verify-result').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#verify-result > p').textContent()).toMatch(/^All \d+ checks passed on .+: every kernel .* the largest difference is \d/);
  }, 150_000);

  test('the comparison panel: sigmtl WebGPU, the CPU engine, the CPU reference and gpu.js agree', async () => {
    await page.selectOption('#compare-max', '128');
    await page.click('#compare');
    await page.waitForFunction(() => document.getElementById('compare-table')!.dataset.report !== undefined, null, { timeout: 180_000 });
    const report = JSON.parse((await page.locator('#compare-table').getAttribute('data-report'))!);
    expect(report.rows.length).toBe(4 * 7); // n = 16, 32, 64, 128 × (4 matmul + 3 sigmoid)
    for (const row of report.rows) expect(row.maxDiff, `${row.op} ${row.n} ${row.impl}`).toBeLessThan(row.op === 'matmul' ? 1e-3 : 1e-5);
    await page.locator('#compare-view').screenshot({ path: join(ARTIFACTS, 'demo-compare.png') });
  }, 200_000);

  test.each([
    [390, 844],
    [1440, 900],
  ])(
    'at %i×%i: no horizontal overflow after a run, and a screenshot',
    async (width, height) => {
      const tab = await browser.newPage();
      await tab.setViewportSize({ width, height });
      await tab.goto(`${url}?autorun=1&dataset=enb2012&epochs=20`);
      await tab.waitForFunction(() => document.getElementById('result')!.textContent !== '', null, { timeout: 120_000 });
      const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // Nothing in the sidebar overlaps anything else there, and nothing sticks out of its box.
      const clashes = await tab.evaluate(() => {
        const boxes = Array.from(document.querySelectorAll('aside label, aside button, aside .status, aside legend')).map((e) => ({
          name: e.textContent!.trim().slice(0, 20),
          r: e.getBoundingClientRect(),
        }));
        const aside = document.querySelector('aside')!.getBoundingClientRect();
        const found: string[] = [];
        boxes.forEach((a, i) => {
          if (a.r.width === 0) return;
          if (a.r.right > aside.right + 1 || a.r.left < aside.left - 1) found.push(`${a.name} sticks out of the sidebar`);
          boxes.slice(i + 1).forEach((b) => {
            const overlap = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left) > 1 && Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top) > 1;
            const nested = a.r.left <= b.r.left && a.r.right >= b.r.right && a.r.top <= b.r.top && a.r.bottom >= b.r.bottom;
            if (overlap && !nested) found.push(`${a.name} overlaps ${b.name}`);
          });
        });
        return found;
      });
      expect(clashes).toEqual([]);
      expect(await tab.locator('#run-info').textContent()).toContain('enb2012');
      // axe-core (accessibility rules) finds nothing to fix.
      await tab.addScriptTag({ path: 'node_modules/axe-core/axe.min.js' });
      const violations = await tab.evaluate(
        async () => (await (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; help: string }> }> } }).axe.run()).violations,
      );
      expect(violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
      expect(await tab.locator('#heatmap + details table.values tr').count()).toBe(3); // A as numbers: a header and two tasks
      await tab.screenshot({ path: join(ARTIFACTS, `demo-${width}.png`), fullPage: true });
      await tab.close();
    },
    150_000,
  );

  test.each([
    ['batch=0', 'batchSize must be an integer ≥ 1, got 0'],
    ['optimizer=rmsprop', 'URL setting optimizer="rmsprop" is not valid (one of adam, sgd, momentum)'],
    ['lr=abc', 'URL setting lr="abc" is not valid (a number)'],
    ['epochs=-5', 'epochs must be an integer ≥ 1, got -5'],
  ])(
    'a bad URL value (%s) shows an error at once and never hangs',
    async (query, message) => {
      const tab = await browser.newPage();
      await tab.goto(`${url}?autorun=1&dataset=enb2012&${query}`);
      await tab.waitForFunction(() => document.getElementById('result')!.textContent !== '', null, { timeout: 30_000 });
      expect(JSON.parse((await tab.locator('#result').textContent())!).error).toContain(message);
      expect(await tab.locator('#status').getAttribute('class')).toContain('error');
      await tab.close();
    },
    60_000,
  );

  test('a rejected CSV replaces the accepted one: Start then refuses instead of training the old file', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${url}?dataset=csv&epochs=2`);
    await tab.setInputFiles('input[name=file]', { name: 'good.csv', mimeType: 'text/csv', buffer: Buffer.from('a,y\n1,2\n2,4\n3,6\n4,8\n') });
    await tab.waitForFunction(() => (document.querySelector('select[name=targets]') as HTMLSelectElement).options.length === 2);
    await tab.setInputFiles('input[name=file]', { name: 'empty.csv', mimeType: 'text/csv', buffer: Buffer.from('') });
    await tab.waitForFunction(() => /error/.test(document.getElementById('status')!.textContent ?? ''));
    await tab.click('#start');
    await tab.waitForFunction(() => /choose a CSV file first/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 30_000 });
    await tab.close();
  }, 60_000);

  test('the CPU backend yields to the page between submits (frames run while training progresses) and Stop works', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${url}?dataset=sarcos-arm&epochs=400&backend=cpu`);
    await tab.click('#start');
    await tab.waitForFunction(() => /^training/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 60_000 });
    // Each animation frame notes the step the stats show. A page that trained without yielding
    // would draw no frame until the run ended, so frames would see at most one step; a page that
    // yields between submits draws frames that see the step advance. No duration is asserted.
    await tab.evaluate(() => {
      const w = window as unknown as { seen: Set<string> };
      w.seen = new Set();
      const tick = () => {
        const step = /step(\d+)/.exec(document.getElementById('stats')!.textContent ?? '')?.[1];
        if (step) w.seen.add(step);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await tab.waitForFunction(() => (window as unknown as { seen: Set<string> }).seen.size >= 5, null, { timeout: 60_000 });
    expect(await tab.locator('#status').textContent()).toMatch(/^training/);
    await tab.click('#stop');
    await tab.waitForFunction(() => /^stopped/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 30_000 });
    const seen = await tab.evaluate(() => (window as unknown as { seen: Set<string> }).seen.size);
    expect(seen).toBeGreaterThanOrEqual(5);
    await tab.close();
  }, 120_000);

  test('Stop right after Start (during the first kernel compile) says so at once and shows no untrained metrics', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${url}?dataset=enb2012&epochs=50`);
    await tab.click('#start');
    await tab.click('#stop');
    expect(await tab.locator('#status').textContent()).toMatch(/^stopping/);
    await tab.waitForFunction(() => /^stopped/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 60_000 });
    if (/before training began/.test((await tab.locator('#status').textContent())!)) expect(await tab.locator('#metrics').textContent()).toBe('');
    expect(await tab.locator('#start').isEnabled()).toBe(true);
    await tab.close();
  }, 90_000);

  test('Start clears the last run: an empty field is an error next to nothing stale', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${url}?autorun=1&dataset=enb2012&epochs=3`);
    await tab.waitForFunction(() => document.getElementById('result')!.textContent !== '', null, { timeout: 60_000 });
    expect(await tab.locator('#metrics').textContent()).toContain('RMSE');
    await tab.fill('input[name=epochs]', '');
    // Submitted without the browser's own check of `required`, as autorun and scripts do.
    await tab.evaluate(() => document.getElementById('settings')!.dispatchEvent(new Event('submit', { cancelable: true })));
    await tab.waitForFunction(() => /Epochs is empty/.test(document.getElementById('status')!.textContent ?? ''), null, { timeout: 30_000 });
    expect(await tab.locator('#metrics').textContent()).toBe('');
    expect(await tab.locator('#run-info').textContent()).toBe('No run yet.');
    await tab.close();
  }, 90_000);

  test('a CSV dropped on the drop zone is taken like a chosen file', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${url}?dataset=csv`);
    await tab.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['a,b,y_1\n1,2,3\n4,5,6\n'], 'dropped.csv', { type: 'text/csv' }));
      document.getElementById('drop-zone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    await tab.waitForFunction(() => /dropped\.csv: 3 columns; targets y_1/.test(document.getElementById('status')!.textContent ?? ''));
    await tab.close();
  }, 60_000);

  test('uncertainty weighting from the page: the task weights are plotted per epoch', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${url}?autorun=1&dataset=enb2012&epochs=6&weighting=uw`);
    await tab.waitForFunction(() => document.getElementById('result')!.textContent !== '', null, { timeout: 60_000 });
    expect(JSON.parse((await tab.locator('#result').textContent())!).error).toBeUndefined();
    expect(await tab.locator('#weights-figure').isVisible()).toBe(true);
    expect(await tab.locator('#run-info').textContent()).toContain('uw weighting');
    await tab.close();
  }, 90_000);

  test('compare with single-task models: Δm and its table; the task-relation heatmap with its numbers', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${url}?autorun=1&dataset=enb2012&epochs=5&compare=1`);
    await tab.waitForFunction(() => document.getElementById('result')!.textContent !== '', null, { timeout: 90_000 });
    const result = JSON.parse((await tab.locator('#result').textContent())!);
    expect(result.error).toBeUndefined();
    expect(result.deltaM).toBeTypeOf('number');
    expect(await tab.locator('#comparison-figure').isVisible()).toBe(true);
    expect(await tab.locator('#comparison').textContent()).toMatch(/Δm [+-]\d+\.\d %/);
    expect(await tab.locator('#relations + details table.values tr').count()).toBe(3);
    await tab.close();
  }, 120_000);
});
