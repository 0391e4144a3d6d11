// The account page in a real browser: a patient signs in through an app and allows it, the app
// gets tokens, the patient opens their account page, edits the profile, sees the app under
// "Connected apps" and removes its access; the app's refresh token then fails. Keyboard and
// narrow screens are covered by the form conventions the other scenarios check; no script runs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authorizationRequest,
  catchRedirect,
  consentShown,
  exchangeCode,
  loginShown,
  openBrowser,
  screenshot,
  setting,
  settings,
  signIn,
} from './lib/portal.mjs';

/** A refresh as the app makes it. */
async function refresh(config, refreshToken) {
  const basic = Buffer.from(
    `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret)}`,
  ).toString('base64');
  const response = await fetch(new URL('/oauth/token', config.baseUrl), {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  return { status: response.status, body: await response.json() };
}

test('a patient edits the profile, removes an app from the account page, and its refresh fails', async () => {
  const config = settings();
  const texts = JSON.parse(setting('CONSOLE_TEXTS'));
  const browser = await openBrowser(config, { viewport: { width: 375, height: 812 } });
  try {
    const { page } = browser;
    const request = authorizationRequest(config);
    const redirect = await catchRedirect(page, config);
    await page.goto(request.url);
    await loginShown(page, config);
    await signIn(page, config);
    await consentShown(page, config);
    await page.getByRole('button', { name: config.texts.en.allow, exact: true }).click();
    const params = await redirect.landed(browser.problems);
    const tokens = await exchangeCode(config, params.get('code'), request.verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const first = await refresh(config, tokens.body.refresh_token);
    assert.equal(first.status, 200, JSON.stringify(first.body));

    await page.goto(`${config.baseUrl}/account`);
    await page.getByRole('heading', { level: 1, name: texts.title, exact: true }).waitFor();
    const apps = page.getByRole('region', { name: texts.appsHeading });
    await apps.getByRole('heading', { level: 3, name: config.clientName, exact: true }).waitFor();

    await page.getByLabel(texts.givenName, { exact: true }).fill('Browsertest');
    await page.getByRole('button', { name: texts.profileSubmit, exact: true }).click();
    await page.getByRole('status').getByText(texts.profileSaved).waitFor();
    assert.equal(await page.getByLabel(texts.givenName, { exact: true }).inputValue(), 'Browsertest');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 375, `no horizontal scrolling at 375 px (${wide})`);
    console.log(`screenshot: ${await screenshot(page, config, 'account-en-375px')}`);

    await page.getByRole('button', { name: texts.remove, exact: true }).click();
    await page.getByRole('status').getByText(texts.appRemoved).waitFor();
    assert.equal(
      await page.getByRole('heading', { level: 3, name: config.clientName, exact: true }).count(),
      0,
      'the app is no longer listed',
    );

    const after = await refresh(config, first.body.refresh_token);
    assert.equal(after.status, 400, JSON.stringify(after.body));
    assert.equal(after.body.error, 'invalid_grant');
    assert.deepEqual(browser.problems, [], 'no console errors (CSP violations included)');
  } finally {
    await browser.close();
  }
});
