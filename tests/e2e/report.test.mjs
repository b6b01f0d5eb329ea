// Browser end-to-end tests of Tipline in the sao 8.0 web client, driving
// Debian's chromium through playwright-core (no browser is downloaded).
//
//   TIPLINE_URL=http://127.0.0.1:8010 TIPLINE_DB=tipline node --test
//
// scripts/e2e.sh creates the demo database, serves it and runs this file.
// Each step saves a screenshot into tests/e2e/screenshots/ (git-ignored);
// TIPLINE_DOCS_SCREENSHOTS=DIR also copies the README shots there.
import fs from 'node:fs';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  URL, DB, SHOTS, FADE, useBrowser, newPage, shot, assertNoErrorDialog,
  topModal, login as loginAs, openMenu, currentTab, choose, scenario,
} from './sao.mjs';

const TRACKING = /^TL-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/;
const USERS = {
  reporter: 'report-demo-1',
  moderator: 'moderate-demo-1',
};
const browser = useBrowser();

// Log in as one of the demo users.
function login(page, user, screenshot) {
  return loginAs(page, user, USERS[user], screenshot);
}

async function openParty(page, name) {
  await openMenu(page, ['Parties', 'Parties']);
  const tab = currentTab(page);
  const row = tab.locator('.treeview tbody tr').filter({
    has: page.getByText(name, { exact: true }),
  }).first();
  await row.waitFor();
  await row.dblclick();
  // The form: the party's name in the "Name" entry.
  await tab.locator('.form input[name="name"]').first().waitFor();
  await assert.doesNotReject(async () => {
    await page.waitForFunction(
      ([n]) => [...document.querySelectorAll('#tabcontent > .tab-pane.active .form input[name="name"]')]
        .some((i) => i.value === n), [name]);
  });
  await page.waitForLoadState('networkidle');
  await assertNoErrorDialog(page);
  return tab;
}

// Fill the Report wizard's first page, check the guidance, submit, and
// return the tracking number read off the final page.
async function fillAndSubmitWizard(page, { category, description, shots, anonymous }) {
  const wizard = topModal(page);
  await wizard.getByText('Reported Record', { exact: false }).first().waitFor();
  // The category is a selection widget (a <select>).
  const select = wizard.locator('select[name="category"]');
  await select.waitFor();
  await select.selectOption({ label: category });
  // The guidance of the category fills in (on_change_with, one RPC).
  const guidance = wizard.locator('[name="guidance"]').first();
  await page.waitForFunction(
    (el) => (el.value || el.textContent || '').trim().length > 20,
    await guidance.elementHandle());
  const guidanceText = await guidance.inputValue().catch(() => guidance.innerText());
  assert.ok(guidanceText.trim().length > 20, `guidance for ${category}: ${guidanceText}`);
  const next = wizard.locator('[name="next_steps"]').first();
  const nextText = await next.inputValue().catch(() => next.innerText());
  assert.ok(nextText.trim().length > 20, 'the "What happens next" text is empty');
  // Type once the form's own calls are answered: sao redraws the form when
  // one returns, and a redraw before the field is left drops what was
  // typed into it (a person types for longer than that takes).
  await page.waitForLoadState('networkidle');
  const text = wizard.locator('textarea[name="description"]');
  await text.fill(description);
  if (anonymous) {
    // Leave the description first, as a person reaching for the box does
    // (sao stores a text area's value when it loses focus): a check at
    // Playwright's speed redraws the form for the fields it shows, and
    // the redraw once put back the empty description.
    await wizard.getByText('Reported Record', { exact: false }).first().click();
    await page.waitForLoadState('networkidle');
    await wizard.locator('input[name="anonymous"]').check();
  }
  // Leave the description like a user moving the mouse to the button does,
  // and let sao redraw the form. sao 8.0 refills the category <select> when
  // it redraws; a click within those few milliseconds reads its first
  // option (Data leak) instead of the chosen one.
  await wizard.getByText('Reported Record', { exact: false }).first().click();
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(
    ([el, label]) => el.options[el.selectedIndex]?.text === label,
    [await select.elementHandle(), category]);
  assert.equal(await text.inputValue(), description, 'the description was dropped');
  if (shots?.filled) {
    await shot(page, shots.filled, { docs: shots.filledDocs });
  }
  // A human press lasts ~100 ms; Playwright's default is 0 ms.
  await wizard.getByRole('button', { name: 'Submit Report' }).click({ delay: 100 });
  // The done page: the tracking number is a read-only entry.
  const done = topModal(page);
  const number = done.locator('input[name="tracking_number"]');
  await number.waitFor();
  await page.waitForFunction(
    (el) => el.value.length > 0, await number.elementHandle());
  await assertNoErrorDialog(page);
  const tracking = (await number.inputValue()).trim();
  let receipt = null;
  if (anonymous) {
    const field = done.locator('input[name="receipt"]');
    await field.waitFor();
    receipt = (await field.inputValue()).trim();
  }
  if (shots?.done) {
    await shot(page, shots.done, { docs: shots.doneDocs });
  }
  // A click during the dialog's fade-in can be lost: let it settle, and
  // click again if the dialog is still there.
  await page.waitForTimeout(FADE);
  const close = done.getByRole('button', { name: 'Close' });
  await close.click();
  try {
    await done.waitFor({ state: 'hidden', timeout: 5_000 });
  } catch {
    await close.click();
    await done.waitFor({ state: 'hidden' });
  }
  return anonymous ? { tracking, receipt } : tracking;
}

async function assertInMyReports(page, tracking, category, screenshot) {
  await openMenu(page, ['Tipline', 'My Reports']);
  const tab = currentTab(page);
  const row = tab.locator('.treeview tbody tr').filter({
    has: page.getByText(tracking, { exact: true }),
  });
  await row.waitFor();
  // The report keeps the category chosen in the wizard.
  await row.getByText(category, { exact: true }).waitFor({ timeout: 2_000 });
  if (screenshot) {
    await shot(page, screenshot);
  }
}

describe('Tipline in sao', { concurrency: 1 }, () => {
  test('a reporter reports a party from the toolbar action menu', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      await login(page, 'reporter', '01-login');
      const tab = await openParty(page, 'Shady Supplies Ltd');
      await shot(page, '02-party-form');

      // sao 8.0: the toolbar button titled "Launch action" opens the
      // record's actions, where the form's Report button is listed once.
      await tab.locator('button[title="Launch action"]').click();
      const entry = tab.locator('.dropdown-menu:visible a[role="menuitem"]', {
        hasText: /^\s*Report\s*$/,
      });
      assert.equal(await entry.count(), 1, 'Report is listed once');
      await entry.waitFor();
      await shot(page, '03-action-menu');
      await entry.click();

      const tracking = await fillAndSubmitWizard(page, {
        category: 'Fraud',
        description: 'Invoice SO-1042 asked us to pay a new bank account; '
          + 'their usual contact says they never sent it.',
        shots: {
          filled: '04-wizard-filled', filledDocs: 'report-wizard.png',
          done: '05-wizard-done', doneDocs: 'report-received.png',
        },
      });
      assert.match(tracking, TRACKING);
      await assertInMyReports(page, tracking, 'Fraud', '06-my-reports');
      await assertNoErrorDialog(page);
    });
  });

  test('a reporter reports a party with the Report button on its form', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      await login(page, 'reporter');
      const tab = await openParty(page, 'Northwind Traders');
      const button = tab.locator('.form button[name="tipline_report"]');
      await button.waitFor();
      await shot(page, '07-party-form-button');
      await button.click();
      const tracking = await fillAndSubmitWizard(page, {
        category: 'Harassment',
        description: 'Their sales contact left an insulting note on '
          + 'opportunity OPP-7 after we declined the offer.',
        shots: { filled: '08-button-wizard-filled', done: '09-button-wizard-done' },
      });
      assert.match(tracking, TRACKING);
      await assertInMyReports(page, tracking, 'Harassment', '10-my-reports-button');
    });
  });

  test('a moderator sees the open reports in the queue', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      await login(page, 'moderator');
      await openMenu(page, ['Tipline', 'Reports']);
      const tab = currentTab(page);
      // The "Open" tab of the queue is selected first and counts its rows.
      const open = tab.locator('.nav-tabs li.active', { hasText: 'Open' });
      await open.waitFor();
      const rows = tab.locator('.treeview tbody tr');
      await rows.first().waitFor();
      const numbers = await tab.locator('.treeview tbody tr td')
        .filter({ hasText: /^TL-/ }).allInnerTexts();
      assert.ok(numbers.length >= 1, 'the Open queue shows no report');
      for (const number of numbers) {
        assert.match(number.trim(), TRACKING);
      }
      await shot(page, '11-moderator-queue', { docs: 'moderator-queue.png' });
      await assertNoErrorDialog(page);

      // A report as the moderator sees it: both clocks, the reporter kept
      // confidential, the history.
      await tab.locator('.treeview tbody tr td').filter({ hasText: /^TL-/ })
        .first().dblclick();
      const form = tab.locator('.form');
      const reporter = form.locator('input[name="reporter_display"]').first();
      await reporter.waitFor();
      await page.waitForFunction(
        (el) => el.value.length > 0, await reporter.elementHandle());
      assert.equal(await reporter.inputValue(), 'Confidential');
      await form.getByText('Statutory Feedback Due').first().waitFor();
      await shot(page, '11b-moderator-form', { docs: 'moderator-report.png' });
      await assertNoErrorDialog(page);
    });
  });

  test('a moderator works a report to resolution and the reporter sees the result', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      await login(page, 'reporter');
      const party = await openParty(page, 'Northwind Traders');
      await party.locator('.form button[name="tipline_report"]').click();
      const tracking = await fillAndSubmitWizard(page, {
        category: 'Spam',
        description: 'Someone pasted the same casino advert into the '
          + 'notes of every Northwind contact last night.',
      });
      assert.match(tracking, TRACKING);

      // The moderator, in a browser of their own.
      const mod = await newPage();
      try {
        await login(mod, 'moderator');
        await openMenu(mod, ['Tipline', 'Reports']);
        const tab = currentTab(mod);
        const row = tab.locator('.treeview tbody tr').filter({
          has: mod.getByText(tracking, { exact: true }),
        });
        await row.waitFor();
        await row.dblclick();
        const form = tab.locator('.form');
        const state = form.locator('select[name="state"], input[name="state"]').first();
        await state.waitFor();
        await mod.waitForLoadState('networkidle');

        // Triage: the severity first, then the button.
        await form.locator('.nav-tabs a', { hasText: 'Review' }).click();
        await choose(mod, form, 'severity_assessment', 'Medium');
        // Each button hides itself once its transition is done.
        await form.locator('button[name="triage"]').click();
        await form.locator('button[name="triage"]').waitFor({ state: 'hidden' });
        await form.locator('button[name="investigate"]:visible').waitFor();
        await mod.waitForLoadState('networkidle');
        await assertNoErrorDialog(mod);
        await form.locator('button[name="investigate"]').click();
        await form.locator('button[name="investigate"]').waitFor({ state: 'hidden' });
        await mod.waitForLoadState('networkidle');
        await assertNoErrorDialog(mod);

        // Verification, the outcome and a message for the reporter.
        await choose(mod, form, 'truthfulness', 'Confirmed');
        await choose(mod, form, 'outcome', 'Upheld');
        await form.locator('textarea[name="internal_notes"]').fill(
          'Same advert on 31 contacts; account of a temp, access revoked.');
        await form.locator('textarea[name="reporter_message"]').fill(
          'Thank you: the adverts are gone and the account that posted them is closed.');
        await choose(mod, form, 'outcome', 'Upheld');
        await shot(mod, '19-moderator-resolving', { docs: 'moderator-resolving.png' });
        await form.locator('button[name="resolve"]').click();
        // The button asks for confirmation.
        const confirm = topModal(mod);
        await shot(mod, '19b-moderator-confirm');
        await confirm.getByRole('button', { name: 'OK' }).click();
        await form.locator('button[name="resolve"]').waitFor({ state: 'hidden' });
        await assertNoErrorDialog(mod);
        await form.locator('button[name="close"]:visible').waitFor();
        await mod.waitForLoadState('networkidle');
        await assertNoErrorDialog(mod);
        await shot(mod, '20-moderator-resolved');
      } catch (err) {
        await mod.screenshot({ path: join(SHOTS, 'FAILED-moderator.png') }).catch(() => {});
        throw err;
      } finally {
        await mod.context().close();
      }

      // The reporter reads the result in My Reports.
      await openMenu(page, ['Tipline', 'My Reports']);
      const mine = currentTab(page);
      const row = mine.locator('.treeview tbody tr').filter({
        has: page.getByText(tracking, { exact: true }),
      });
      await row.waitFor();
      await row.getByText('Resolved', { exact: true }).waitFor();
      await row.getByText('Upheld', { exact: true }).waitFor();
      await row.dblclick();
      const message = mine.locator('.form textarea[name="reporter_message"]').first();
      await message.waitFor();
      await page.waitForFunction(
        (el) => el.value.includes('adverts are gone'), await message.elementHandle());
      // The moderators' notes never reach the reporter.
      assert.equal(await page.getByText('access revoked').count(), 0);
      await shot(page, '21-reporter-result', { docs: 'reporter-result.png' });
      await assertNoErrorDialog(page);
    });
  });

  test('a reporter reads that an old report was deleted', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      // The demo data's report of three years ago, purged under the EU rule.
      await login(page, 'reporter');
      await openMenu(page, ['Tipline', 'My Reports']);
      const mine = currentTab(page);
      const row = mine.locator('.treeview tbody tr').filter({
        hasText: 'Deleted under the retention policy',
      });
      await row.waitFor();
      await row.getByText('Upheld', { exact: true }).waitFor();
      await row.dblclick();
      const form = mine.locator('.form');
      await page.waitForFunction(() => [...document.querySelectorAll(
        '#tabcontent > .tab-pane.active .form [name="retention_status"]')]
        .some((i) => /^Deleted under the retention policy on \d{4}-\d{2}-\d{2}/
          .test(i.value ?? i.textContent)));
      // Where the content was, no empty boxes: description, files,
      // messages and answer are gone with it.
      for (const name of ['description', 'reporter_message', 'shared_messages']) {
        assert.equal(await form.locator(`[name="${name}"]:visible`).count(), 0, name);
      }
      await assertNoErrorDialog(page);
      await shot(page, '19-reporter-deleted', { docs: 'reporter-deleted.png' });
    });
  });

  test('an anonymous reporter follows the report on the public status page', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      await login(page, 'reporter');
      await openParty(page, 'Blue River Logistics');
      await currentTab(page).locator('.form button[name="tipline_report"]').click();
      const { tracking, receipt } = await fillAndSubmitWizard(page, {
        category: 'Harassment',
        description: 'A manager keeps writing threats into the notes of '
          + 'this account; I fear retaliation if I sign this.',
        anonymous: true,
        shots: { done: '12-anonymous-done' },
      });
      assert.match(tracking, TRACKING);
      assert.match(receipt, /^\d{4}-\d{4}-\d{4}-\d{4}$/);
      // e2e.sh then looks for the filer next to this report at rest.
      if (process.env.TIPLINE_E2E_ANONYMOUS) {
        fs.writeFileSync(process.env.TIPLINE_E2E_ANONYMOUS,
          JSON.stringify({ tracking, login: 'reporter' }));
      }

      // The status page, on a phone, without logging in.
      const phone = await browser().newContext({
        viewport: { width: 390, height: 844 }, isMobile: true, locale: 'en-US',
      });
      try {
        const status = await phone.newPage();
        const url = `${URL}/${DB}/tipline/status`;
        await status.goto(url);
        await status.fill('input[name="number"]', tracking.toLowerCase());
        await status.fill('input[name="receipt"]', receipt);
        await shot(status, '13-status-form', { docs: 'status-page-form.png' });
        await status.click('button[type="submit"]');
        await status.locator('#status').waitFor();
        assert.equal((await status.locator('#number').innerText()).trim(), tracking);
        assert.equal((await status.locator('#state').innerText()).trim(), 'Acknowledged');
        await shot(status, '14-status-shown', { docs: 'status-page.png' });

        // A wrong receipt gets the generic reply ...
        await status.fill('input[name="number"]', tracking);
        await status.fill('input[name="receipt"]', '0000-1111-2222-3333');
        await status.click('button[type="submit"]');
        await status.locator('#failed').waitFor();
        assert.equal(await status.locator('#status').count(), 0);
        await shot(status, '15-status-wrong');
        // ... and a burst of guesses is stopped, even the right answer.
        let limited = false;
        for (let i = 0; i < 12 && !limited; i++) {
          await status.fill('input[name="number"]', tracking);
          await status.fill('input[name="receipt"]', `9999-0000-0000-${String(i).padStart(4, '0')}`);
          await status.click('button[type="submit"]');
          await status.waitForLoadState('load');
          limited = await status.locator('#limited').count() > 0;
        }
        assert.ok(limited, 'guessing was never rate-limited');
        await status.fill('input[name="number"]', tracking);
        await status.fill('input[name="receipt"]', receipt);
        await status.click('button[type="submit"]');
        await status.locator('#limited').waitFor();
        await shot(status, '16-status-limited');

        // The help page, linked from the status page, in Chinese too.
        await status.click('#help');
        await status.locator('#categories dt', { hasText: 'Harassment' }).waitFor();
        await shot(status, '17-help', { docs: 'help-page.png' });
        await status.click('a[href="?lang=zh_CN"]');
        await status.locator('h1', { hasText: '举报指南' }).waitFor();
        await shot(status, '18-help-zh');
      } finally {
        await phone.close();
      }
    });
  });
});
