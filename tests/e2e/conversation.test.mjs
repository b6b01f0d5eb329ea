// The conversation in the browser: a moderator asks the anonymous reporter
// of the demo's report a question; the reporter answers on a phone-sized
// status page and uploads a photo, after reading what metadata it carries;
// the moderator reads the answer and sees the photo's metadata removed; a
// named reporter answers a question in My Reports.
import fs from 'node:fs';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  URL, DB, FADE, useBrowser, newPage, shot, assertNoErrorDialog, topModal,
  login, openMenu, currentTab, scenario,
} from './sao.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const PHOTO = join(HERE, 'fixtures', 'delivery-note.jpg');
const browser = useBrowser();

// The demo's anonymous report: its number and receipt, from the demo data's
// output that scripts/e2e.sh keeps.
function demoAnonymous() {
  const log = fs.readFileSync(process.env.TIPLINE_E2E_DEMO_LOG, 'utf8');
  const [, number, receipt] = log.match(/tracking number (\S+), receipt (\S+)/);
  return { number, receipt };
}

async function openReport(page, menu, number) {
  await openMenu(page, menu);
  const tab = currentTab(page);
  const all = tab.locator('.nav-tabs li', { hasText: /^All/ });
  if (await all.count()) {
    await all.first().click();
    await page.waitForLoadState('networkidle');
  }
  const row = tab.locator('.treeview tbody tr').filter({
    has: page.getByText(number, { exact: true }),
  });
  await row.first().waitFor();
  await row.first().locator('td').filter({ hasText: number }).first().dblclick();
  const form = tab.locator('.form').first();
  await form.waitFor();
  // The record is loaded when its number shows; a button pressed before
  // would save a half-loaded record.
  await page.waitForFunction(([n]) => [...document.querySelectorAll(
    '#tabcontent > .tab-pane.active .form input[name="tracking_number"]')]
    .some((i) => i.value === n), [number]);
  await page.waitForLoadState('networkidle');
  return form;
}

async function ask(page, form, question, shotName) {
  await form.locator('button[name="ask_reporter"]:visible').first().click();
  const wizard = topModal(page);
  const body = wizard.locator('textarea[name="body"]');
  await body.waitFor();
  // The wizard's defaults arrive after it opens and would blank the text.
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(FADE);
  await body.fill(question);
  assert.equal(await body.inputValue(), question);
  if (shotName) {
    await shot(page, shotName, { docs: 'conversation-ask.png' });
  }
  await wizard.getByRole('button', { name: 'Send' }).click();
  await wizard.waitFor({ state: 'hidden' });
  await page.waitForLoadState('networkidle');
  await assertNoErrorDialog(page);
}

describe('the conversation', () => {
  test('a moderator asks, the anonymous reporter answers on a phone with a photo', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      const { number, receipt } = demoAnonymous();
      await login(page, 'moderator', 'moderate-demo-1');
      let form = await openReport(page, ['Tipline', 'Reports'], number);
      await ask(page, form,
        'Was the driver the same on both delivery notes?', '30-moderator-asks');
      await page.waitForFunction(() => [...document.querySelectorAll(
        '#tabcontent > .tab-pane.active .form [name="state"]')]
        .some((el) => `${el.value} ${el.textContent}`.toLowerCase().includes('awaiting')));
      await shot(page, '31-moderator-awaiting');

      // The anonymous reporter, on a phone, without logging in.
      const phone = await browser().newContext({
        viewport: { width: 390, height: 844 }, isMobile: true, locale: 'en-US',
      });
      try {
        const status = await phone.newPage();
        await status.goto(`${URL}/${DB}/tipline/status`);
        await status.fill('input[name="number"]', number);
        await status.fill('input[name="receipt"]', receipt);
        await status.click('form:has(#number-input) button[type="submit"]');
        await status.locator('#new-messages').waitFor();
        await shot(status, '32-status-new-message');
        await status.click('#conversation input[type="submit"]');
        await status.locator('#thread').waitFor();
        await status.locator('.new-marker').first().waitFor();
        assert.ok((await status.locator('#thread').innerText())
          .includes('Was the driver the same'));
        await shot(status, '33-conversation-phone', { docs: 'conversation-status.png' });

        await status.fill('#body', 'Yes, the same driver signed both; '
          + 'here is the second note.');
        await status.setInputFiles('#file', PHOTO);
        await status.click('#send');
        // Before it is sent: what the photo says about its author.
        await status.locator('#found').waitFor();
        const found = await status.locator('#found').innerText();
        assert.match(found, /GPS/);
        assert.match(found, /Pat Warehouse/);
        await shot(status, '34-conversation-metadata', { docs: 'conversation-metadata.png' });
        await status.click('#send-file');
        await status.locator('#sent').waitFor();
        await shot(status, '35-conversation-sent');

        // The same page in Chinese.
        await status.goto(`${URL}/${DB}/tipline/status?lang=zh_CN`);
        await status.fill('input[name="number"]', number);
        await status.fill('input[name="receipt"]', receipt);
        await status.click('form:has(#number-input) button[type="submit"]');
        await status.click('#conversation input[type="submit"]');
        await status.locator('#thread').waitFor();
        await shot(status, '36-conversation-phone-zh', { docs: 'conversation-status-zh.png' });
      } finally {
        await phone.close();
      }

      // The moderator reads the answer, and the photo without its metadata.
      const mod = await newPage();
      try {
        await login(mod, 'moderator', 'moderate-demo-1');
        form = await openReport(mod, ['Tipline', 'Reports'], number);
        await form.locator('.nav-tabs a', { hasText: 'Conversation' }).click();
        await mod.getByText('the same driver signed both').first().waitFor();
        await shot(mod, '37-moderator-reads-answer', { docs: 'conversation-moderator.png' });
        await form.locator('.nav-tabs a', { hasText: /^Report$/ }).first().click();
        // The photo, and the metadata its copy no longer has (sao draws a
        // list's rows once it is scrolled into view).
        await mod.evaluate(() => document.querySelectorAll(
          '#tabcontent > .tab-pane.active .form .treeview').forEach((tree) => {
          if (tree.offsetParent) tree.scrollIntoView();
        }));
        await mod.waitForFunction(() => {
          const text = document.querySelector(
            '#tabcontent > .tab-pane.active .form')?.innerText || '';
          return text.includes('delivery-note.jpg') && text.includes('GPSLatitude');
        });
        await shot(mod, '38-moderator-cleaned-photo');
        await assertNoErrorDialog(mod);
      } finally {
        await mod.context().close();
      }
    });
  });

  test('a named reporter answers a question in My Reports', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      // Rita's report on the demo's supplier: two reporters filed about
      // it, and the moderator cannot tell which report is whose.
      const lookup = await newPage();
      let number;
      try {
        await login(lookup, 'reporter', 'report-demo-1');
        await openMenu(lookup, ['Tipline', 'My Reports']);
        const mine = currentTab(lookup).locator('.treeview tbody tr')
          .filter({ hasText: 'Shady Supplies Ltd' }).first();
        await mine.waitFor();
        number = (await mine.locator('td').filter({ hasText: /^TL-/ })
          .first().innerText()).trim();
      } finally {
        await lookup.context().close();
      }

      // The moderator asks its reporter.
      await login(page, 'moderator', 'moderate-demo-1');
      const form = await openReport(page, ['Tipline', 'Reports'], number);
      await ask(page, form, 'Which payment run was it, this week or last?');

      const reporter = await newPage();
      try {
        await login(reporter, 'reporter', 'report-demo-1');
        await openReport(reporter, ['Tipline', 'My Reports'], number);
        await reporter.getByText('Which payment run was it').first().waitFor();
        // The record's actions (the toolbar's "Launch action"): Reply.
        await currentTab(reporter).locator('button[title="Launch action"]').click();
        await currentTab(reporter).locator('.dropdown-menu:visible a[role="menuitem"]',
          { hasText: 'Reply to the Moderators' }).click();
        const wizard = topModal(reporter);
        await wizard.locator('textarea[name="body"]').waitFor();
        await reporter.waitForLoadState('networkidle');
        await reporter.waitForTimeout(FADE);
        await wizard.locator('textarea[name="body"]').fill(
          'This week\'s, on Tuesday morning.');
        await shot(reporter, '39-reporter-replies', { docs: 'conversation-reply.png' });
        await wizard.getByRole('button', { name: 'Send' }).click();
        await wizard.waitFor({ state: 'hidden' });
        await reporter.waitForLoadState('networkidle');
        await assertNoErrorDialog(reporter);
        await reporter.getByText('on Tuesday morning').first().waitFor();
        await shot(reporter, '40-reporter-replied');
      } finally {
        await reporter.context().close();
      }
    });
  });
});
