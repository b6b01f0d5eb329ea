// Browser test of retention in sao 8.0, as the Tipline administrator: the
// Retention list and its tabs, with the demo data's report deleted under the
// EU "3 years after closure" rule. Run by scripts/e2e.sh; helpers in sao.mjs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useBrowser, shot, assertNoErrorDialog, login, openMenu, currentTab,
  scenario,
} from './sao.mjs';

useBrowser();

describe('Retention in sao', { concurrency: 1 }, () => {
  test('the administrator sees what was deleted and what expires', async (t) => {
    await scenario(t.name.replace(/\W+/g, '-'), async (page) => {
      await login(page, 'tipline-admin', 'configure-demo-1');
      await openMenu(page, ['Tipline', 'Retention']);
      const tab = currentTab(page);
      const deleted = tab.locator('.nav-tabs li', { hasText: /^Deleted/ });
      await deleted.first().click();
      await page.waitForLoadState('networkidle');
      const row = tab.locator('.treeview tbody tr').filter({ hasText: 'Upheld' });
      await row.first().waitFor();
      assert.equal(await row.count(), 1);
      // The rule that deleted it, and no content: the list has none.
      await row.getByText('3 years after closure').waitFor();
      await assertNoErrorDialog(page);
      await shot(page, '25-retention-deleted', { docs: 'retention-list.png' });
    });
  });
});
