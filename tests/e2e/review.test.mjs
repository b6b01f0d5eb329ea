// Browser test of the periodic review in sao 8.0: the review form and the
// bar, pie and line graphs over its figures, as the Tipline administrator.
// Run by scripts/e2e.sh with report.test.mjs; the demo data holds a review
// of the current week.  The helpers are copies of report.test.mjs's, kept
// apart while both files change on separate branches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const URL = (process.env.TIPLINE_URL || 'http://127.0.0.1:8010').replace(/\/$/, '');
const DB = process.env.TIPLINE_DB || 'tipline';
const SHOTS = join(HERE, 'screenshots');
const DOCS = process.env.TIPLINE_DOCS_SCREENSHOTS;
const ADMIN = ['tipline-admin', 'configure-demo-1'];
const FADE = 400;

mkdirSync(SHOTS, { recursive: true });

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
});

async function shot(page, name, { docs } = {}) {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForTimeout(FADE);
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  if (docs && DOCS) {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(path, join(DOCS, docs));
  }
}

async function assertNoErrorDialog(page) {
  const dialog = page.locator('.error-dialog:visible');
  if (await dialog.count()) {
    const text = (await dialog.first().innerText()).replace(/\s+/g, ' ');
    assert.fail(`sao shows an error: ${text}`);
  }
  assert.deepEqual(page.errors, []);
}

async function login(page, [user, password]) {
  await page.goto(`${URL}/#${DB}`);
  const dialog = page.locator('.login-dialog');
  await dialog.locator('#login').waitFor();
  await page.waitForLoadState('networkidle');
  const database = dialog.locator('input[name="database"]:visible, select[name="database"]:visible');
  if (await database.count() && !(await database.first().inputValue())) {
    await database.first().fill(DB);
  }
  await dialog.locator('#login').fill(user);
  await dialog.locator('#login').press('Enter');
  const field = page.locator('.modal.in input[type="password"]');
  await field.waitFor();
  await field.fill(password);
  await field.press('Enter');
  await page.locator('#menu tbody tr:visible').first().waitFor();
  await page.waitForLoadState('networkidle');
  await assertNoErrorDialog(page);
}

async function openMenu(page, path) {
  const rows = page.locator('#menu tbody tr:visible');
  let index = -1;
  for (const [depth, name] of path.entries()) {
    const handle = await page.waitForFunction(([name, depth, after]) => {
      const visible = [...document.querySelectorAll('#menu tbody tr')]
        .filter((tr) => tr.offsetParent !== null);
      for (let i = after + 1; i < visible.length; i++) {
        const text = visible[i].querySelector('.column-char')?.textContent.trim();
        const margin = parseFloat(
          visible[i].querySelector('.expander img')?.style.marginLeft || '0');
        if (text === name && Math.round(margin) === depth) {
          return { i };
        }
      }
      return false;
    }, [name, depth, index]);
    index = (await handle.jsonValue()).i;
    // Expanded folders stay open: click only the rows not yet open.
    const row = rows.nth(index);
    const expanded = await row.evaluate(
      (tr) => (tr.querySelector('.expander img')?.src || '').includes('down'));
    if (!expanded || depth === path.length - 1) {
      await row.locator('.column-char').click();
    }
  }
  await page.waitForLoadState('networkidle');
}

function currentTab(page) {
  return page.locator('#tabcontent > .tab-pane.active');
}

async function scenario(name, body) {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 850 }, locale: 'en-US',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(`page error: ${err.message}`));
  try {
    await body(page);
  } catch (err) {
    await page.screenshot({ path: join(SHOTS, `FAILED-${name}.png`) }).catch(() => {});
    await writeFile(join(SHOTS, `FAILED-${name}.html`), await page.content()).catch(() => {});
    throw err;
  } finally {
    await context.close();
  }
}

// sao draws graphs with billboard.js into an <svg>; a chart has at least one shape.
async function assertGraph(page, shape) {
  const tab = currentTab(page);
  await tab.locator('.graph svg').first().waitFor();
  await page.waitForFunction(
    (selector) => document.querySelectorAll(
      `#tabcontent > .tab-pane.active .graph svg ${selector}`).length > 0,
    shape);
  await assertNoErrorDialog(page);
}

describe('The periodic review in sao', { concurrency: 1 }, () => {
  test('the administrator opens the review and its graphs', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      await login(page, ADMIN);
      await openMenu(page, ['Tipline', 'Periodic Review', 'Reviews']);
      const tab = currentTab(page);
      const row = tab.locator('.treeview tbody tr').first();
      await row.waitFor();
      await shot(page, '20-reviews');
      await row.dblclick();
      const count = tab.locator('.form input[name="report_count"]').first();
      await count.waitFor();
      await page.waitForFunction(
        (el) => Number(el.value) >= 1, await count.elementHandle());
      await shot(page, '21-review-form', { docs: 'review-form.png' });
      await assertNoErrorDialog(page);

      await openMenu(page, ['Tipline', 'Periodic Review', 'Figures']);
      await assertGraph(page, '.bb-bar, .c3-bar');
      await shot(page, '22-review-bars', { docs: 'review-graph.png' });

      await openMenu(page, ['Tipline', 'Periodic Review', 'Shares']);
      await assertGraph(page, '.bb-arc, .bb-chart-arc, .c3-arc');
      await shot(page, '23-review-pie');

      await openMenu(page, ['Tipline', 'Periodic Review', 'Trends']);
      await assertGraph(page, '.bb-line, .bb-circle, .c3-line');
      await shot(page, '24-review-trend');
    });
  });
});
