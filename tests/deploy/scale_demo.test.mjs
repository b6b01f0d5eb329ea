// The scale-out demo in a browser: sao loads from the gunicorn workers, the
// demo moderator logs in and sees the queue. Against a running
// `make scale-demo`:
//   TIPLINE_URL=http://127.0.0.1:8100 TIPLINE_DB=scale_demo \
//     node --test tests/deploy/scale_demo.test.mjs
// Screenshots go to tests/e2e/screenshots/ (scale-demo-*.png).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useBrowser, login, openMenu, currentTab, shot, assertNoErrorDialog,
  scenario, URL,
} from '../e2e/sao.mjs';

useBrowser();

describe('make scale-demo in sao', { concurrency: 1 }, () => {
  test('the moderator logs in through gunicorn and sees the queue', async () => {
    await scenario('scale-demo', async (page) => {
      const served = await page.request.get(`${URL}/`);
      assert.equal(served.status(), 200, 'sao index from the workers');
      await login(page, 'moderator', 'moderate-demo-1', 'scale-demo-login');
      await openMenu(page, ['Tipline', 'Reports']);
      const tab = currentTab(page);
      await tab.locator('.nav-tabs li.active', { hasText: 'Open' }).waitFor();
      await tab.locator('.treeview tbody tr td').filter({ hasText: /^TL-/ }).first().waitFor();
      const numbers = await tab.locator('.treeview tbody tr td')
        .filter({ hasText: /^TL-/ }).allInnerTexts();
      assert.ok(numbers.length >= 1, 'the Open queue shows no report');
      await shot(page, 'scale-demo-moderator-queue', { docs: 'scale-demo-queue.png' });
      await assertNoErrorDialog(page);
    });
  });
});
