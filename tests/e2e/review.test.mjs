// Browser test of the periodic review in sao 8.0: the review form and the
// bar, pie and line graphs over its figures, as the Tipline administrator.
// Run by scripts/e2e.sh with report.test.mjs; the demo data holds a review
// of the current week.  The helpers are in sao.mjs.
import { describe, test } from 'node:test';
import {
  useBrowser, shot, assertNoErrorDialog, login as loginAs, openMenu,
  currentTab, scenario,
} from './sao.mjs';

const ADMIN = ['tipline-admin', 'configure-demo-1'];
useBrowser();

function login(page, [user, password]) {
  return loginAs(page, user, password);
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
