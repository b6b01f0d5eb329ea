// Helpers shared by the browser tests: driving the sao 8.0 web client in
// Debian's chromium through playwright-core. Each test file registers the
// browser with useBrowser() and runs its steps in scenario().
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const URL = (process.env.TIPLINE_URL || 'http://127.0.0.1:8010').replace(/\/$/, '');
export const DB = process.env.TIPLINE_DB || 'tipline';
export const SHOTS = join(HERE, 'screenshots');
// Set to refresh the README's pictures: an absolute path, e.g. $PWD/docs/screenshots.
const DOCS = process.env.TIPLINE_DOCS_SCREENSHOTS;
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync',
];
// sao's dialogs fade in and out (bootstrap's .fade: 150-300 ms).
export const FADE = 400;

mkdirSync(SHOTS, { recursive: true });

let browser;
// Launch chromium before the file's tests and close it after them.
export function useBrowser() {
  before(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser;
}

export async function newPage() {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 850 },
    locale: 'en-US',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // sao shows server errors in an .error-dialog; fail fast with its text.
  page.errors = problems;
  return page;
}

export async function shot(page, name, { docs } = {}) {
  // Let fades and pending RPCs settle so the picture is not half drawn.
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.waitForTimeout(FADE);
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  if (docs && DOCS) {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(path, join(DOCS, docs));
  }
  return path;
}

export async function assertNoErrorDialog(page) {
  const dialog = page.locator('.error-dialog:visible');
  if (await dialog.count()) {
    const text = (await dialog.first().innerText()).replace(/\s+/g, ' ');
    assert.fail(`sao shows an error: ${text}`);
  }
  assert.deepEqual(page.errors, []);
}

// The visible modal on top (sao keeps closed ones in the DOM for a while).
export function topModal(page) {
  return page.locator('.modal.in:visible').last();
}

// Log in as user; screenshot names a picture of the filled login form.
export async function login(page, user, password, screenshot) {
  await page.goto(`${URL}/#${DB}`);
  const dialog = page.locator('.login-dialog');
  await dialog.locator('#login').waitFor();
  await page.waitForLoadState('networkidle');
  // With "[database] list = False" sao cannot list the databases and shows
  // an empty text box; it does not fill it from #DB, so type it.
  const database = dialog.locator('input[name="database"]:visible, select[name="database"]:visible');
  if (await database.count() && !(await database.first().inputValue())) {
    await database.first().fill(DB);
  }
  await dialog.locator('#login').fill(user);
  if (screenshot) {
    await shot(page, screenshot);
  }
  await dialog.locator('#login').press('Enter');
  const passwordField = page.locator('.modal.in input[type="password"]');
  await passwordField.waitFor();
  await passwordField.fill(password);
  await passwordField.press('Enter');
  // The main window: the menu tree and the user's name in the header.
  await page.locator('#menu tbody tr:visible').first().waitFor();
  await page.waitForLoadState('networkidle');
  await assertNoErrorDialog(page);
}

// Open a menu entry: a path of names such as ['Parties', 'Parties'] (party
// 8.0 names both the top menu and its entry "Parties"). A click on a parent
// row expands it, unless it is already open; in sao 8.0 a single click on a
// leaf opens it too (a double click would open it several times).
export async function openMenu(page, path) {
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

// The tab that is showing (sao keeps the other tabs in the DOM).
export function currentTab(page) {
  return page.locator('#tabcontent > .tab-pane.active');
}

// Choose label in the form's selection field name. sao 8.0 refills a
// <select> when it redraws the form, which can drop a choice made in the
// same moment: leave the field, let the form settle, check, and choose again
// if the choice was lost.
export async function choose(page, form, name, label) {
  const select = form.locator(`select[name="${name}"]`).first();
  for (let attempt = 0; attempt < 3; attempt++) {
    await select.selectOption({ label });
    await select.press('Tab');
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(200);
    const chosen = await select.evaluate((el) => el.options[el.selectedIndex]?.text);
    if (chosen === label) {
      return;
    }
  }
  assert.fail(`could not choose ${label} in ${name}`);
}

// Run a scenario in a fresh browser context; on failure keep a screenshot
// and the page's HTML next to the others to see what went wrong.
export async function scenario(name, body) {
  const page = await newPage();
  try {
    await body(page);
  } catch (err) {
    await page.screenshot({ path: join(SHOTS, `FAILED-${name}.png`) }).catch(() => {});
    await writeFile(join(SHOTS, `FAILED-${name}.html`), await page.content()).catch(() => {});
    throw err;
  } finally {
    await page.context().close();
  }
}
