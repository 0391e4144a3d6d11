// A patient signs in and denies: the browser returns to the app with error=access_denied and the
// app's state, and no code.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authorizationRequest,
  catchRedirect,
  consentShown,
  loginShown,
  openBrowser,
  settings,
  signIn,
} from './lib/portal.mjs';

test('denying on the consent page returns to the app with error=access_denied', async () => {
  const config = settings();
  const browser = await openBrowser(config);
  try {
    const { page } = browser;
    const request = authorizationRequest(config);
    const redirect = await catchRedirect(page, config);

    await page.goto(request.url);
    await loginShown(page, config);
    await signIn(page, config);
    await consentShown(page, config);
    await page.getByRole('button', { name: 'Deny' }).click();

    const params = await redirect.landed(browser.problems);
    assert.equal(params.get('error'), 'access_denied', `${params}`);
    assert.equal(params.get('code'), null, 'no code');
    assert.equal(params.get('state'), request.state);
    assert.equal(params.get('iss'), config.baseUrl);
    assert.deepEqual(browser.problems, [], 'no console errors (CSP violations included)');
  } finally {
    await browser.close();
  }
});
