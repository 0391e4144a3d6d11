// A wrong password shows the error message on the login page, announced to screen readers, keeps
// the email, and the patient can then sign in. Exactly ONE failed sign-in: the per-address throttle
// is shared by every end-to-end test of the run (all of them come from 127.0.0.1).

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

test('a wrong password shows the error message and the patient can try again', async () => {
  const config = settings();
  const browser = await openBrowser(config);
  try {
    const { page } = browser;
    const request = authorizationRequest(config);
    const redirect = await catchRedirect(page, config);

    await page.goto(request.url);
    await loginShown(page, config);
    await signIn(page, config, `${config.password}-wrong`);

    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal((await alert.innerText()).trim(), config.badCredentials);
    await loginShown(page, config);
    assert.equal(await page.getByLabel('Email address').inputValue(), config.email, 'email kept');
    assert.equal(await page.getByLabel('Password').inputValue(), '', 'password not echoed');
    assert.equal(
      await page.getByLabel('Email address').getAttribute('aria-describedby'),
      await alert.getAttribute('id'),
      'the email field is described by the error',
    );

    await page.getByLabel('Password').fill(config.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await consentShown(page, config);
    await page.getByRole('button', { name: 'Allow' }).click();
    const params = await redirect.landed(browser.problems);
    assert.ok(params.get('code'), `a code after the retry: ${params}`);
    assert.equal(params.get('state'), request.state);
  } finally {
    await browser.close();
  }
});
