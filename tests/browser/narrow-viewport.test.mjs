// A 375 px wide phone: the login and consent pages fit the width (no horizontal scrolling) in
// every language (German words run longer), and the whole sign-in works there.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authorizationRequest,
  catchRedirect,
  consentShown,
  horizontalOverflow,
  loginShown,
  openBrowser,
  screenshot,
  settings,
  signIn,
} from './lib/portal.mjs';

for (const lang of ['en', 'de']) {
  test(`login and consent fit a 375 px wide screen without horizontal scrolling (${lang})`, async () => {
    const config = settings();
    const browser = await openBrowser(config, {
      viewport: { width: 375, height: 667 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    try {
      const { page } = browser;
      // Both languages sign in the same patient to the same app: prompt=consent shows the
      // consent page again although it was given in the other language's run.
      const request = authorizationRequest(config, { ui_locales: lang, prompt: 'consent' });
      const redirect = await catchRedirect(page, config);

      await page.goto(request.url);
      await loginShown(page, config, lang);
      let size = await horizontalOverflow(page);
      assert.ok(size.scrollWidth <= size.clientWidth, `login page fits: ${JSON.stringify(size)}`);
      console.log(`screenshot: ${await screenshot(page, config, `login-${lang}-375px`)}`);

      await signIn(page, config, config.password, lang);
      await consentShown(page, config, lang);
      size = await horizontalOverflow(page);
      assert.ok(size.scrollWidth <= size.clientWidth, `consent page fits: ${JSON.stringify(size)}`);
      console.log(`screenshot: ${await screenshot(page, config, `consent-${lang}-375px`)}`);

      await page.getByRole('button', { name: config.texts[lang].allow, exact: true }).tap();
      const params = await redirect.landed(browser.problems);
      assert.ok(params.get('code'), `a code: ${params}`);
    } finally {
      await browser.close();
    }
  });
}
