// A patient signs in, reads on the consent page what the app asks for in plain words, allows, and
// the browser lands on the app's redirect URI with a code the app can exchange.

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
  settings,
  signIn,
} from './lib/portal.mjs';

test('a patient signs in, sees the scopes in plain words, allows, and the app gets a code', async () => {
  const config = settings();
  const browser = await openBrowser(config);
  try {
    const { page } = browser;
    const request = authorizationRequest(config);
    const redirect = await catchRedirect(page, config);

    await page.goto(request.url);
    await loginShown(page, config);
    assert.match(await page.title(), /Sign in/);
    assert.equal(
      await page.locator('main').getByText(config.clientName, { exact: true }).count(),
      1,
      'the login page names the app',
    );
    console.log(`screenshot: ${await screenshot(page, config, 'login-en')}`);

    await signIn(page, config);
    await consentShown(page, config);
    const items = (await page.locator('ul.scopes li').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(
      [...items].sort(),
      [...config.scopeDescriptions].sort(),
      'every requested scope, described in plain words',
    );
    for (const item of items) {
      assert.doesNotMatch(item, /[a-z]+_[a-z]+|openid/, `no raw scope name in "${item}"`);
    }
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await page.getByRole('button', { name: 'Deny' }).waitFor();
    console.log(`screenshot: ${await screenshot(page, config, 'consent-en')}`);

    await page.getByRole('button', { name: 'Allow' }).click();
    const params = await redirect.landed(browser.problems);
    assert.equal(params.get('error'), null, `no error: ${params}`);
    assert.equal(params.get('state'), request.state);
    assert.equal(params.get('iss'), config.baseUrl);
    const code = params.get('code');
    assert.ok(code, 'a code');

    const tokens = await exchangeCode(config, code, request.verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.token_type, 'Bearer');
    assert.ok(tokens.body.access_token && tokens.body.id_token, 'access and id tokens');
    assert.deepEqual(browser.problems, [], 'no console errors (CSP violations included)');
  } finally {
    await browser.close();
  }
});
