// Two factors with an authenticator app: an app that asks for acr_values=loa:2 sends a patient
// without one to set it up (QR code and otpauth:// URI, a code computed here from the URI), the
// recovery codes are shown once, and the app gets tokens with acr loa:2 and amr pwd otp mfa. A
// later sign-in asks for a code after the password.

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
import { jwtClaims, secretOf, totpAt } from './lib/totp.mjs';

const LOA2 = 'urn:mypatientportal:loa:2';

async function tokensOf(config, redirect, request, problems) {
  const params = await redirect.landed(problems);
  assert.equal(params.get('error'), null, `no error: ${params}`);
  const tokens = await exchangeCode(config, params.get('code'), request.verifier);
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return tokens.body;
}

test('a patient sets up an authenticator app when an app asks for loa:2, then signs in with a code', async () => {
  const config = settings();
  let secret;
  const first = await openBrowser(config);
  try {
    const { page } = first;
    const request = authorizationRequest(config, { acr_values: LOA2 });
    const redirect = await catchRedirect(page, config);
    await page.goto(request.url);
    await loginShown(page, config);
    await signIn(page, config);

    await page.waitForURL((url) => url.pathname === '/account/mfa/totp');
    await page.getByRole('heading', { level: 1, name: 'Set up an authenticator app' }).waitFor();
    assert.equal(await page.locator('figure.qr svg').count(), 1, 'a QR code drawn on the server');
    const uri = (await page.locator('#totp-uri').textContent()).trim();
    assert.match(uri, /^otpauth:\/\/totp\/MyPatientPortal:/);
    secret = secretOf(uri);
    assert.equal(secret.length, 20, '160-bit secret');
    console.log(`screenshot: ${await screenshot(page, config, 'totp-setup-en')}`);

    await page.getByLabel('The 6-digit code the app now shows').fill(totpAt(secret, Date.now() / 1000));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your recovery codes' }).waitFor();
    const codes = await page.locator('#recovery-codes li').allInnerTexts();
    assert.equal(codes.length, 10);
    for (const code of codes) assert.match(code.trim(), /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    await page.getByRole('button', { name: 'Continue' }).click();

    await consentShown(page, config);
    await page.getByRole('button', { name: 'Allow' }).click();
    const tokens = await tokensOf(config, redirect, request, first.problems);
    const id = jwtClaims(tokens.id_token);
    assert.equal(id.acr, LOA2);
    assert.deepEqual(id.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(jwtClaims(tokens.access_token).acr, LOA2);
    assert.deepEqual(first.problems, [], 'no console errors (CSP violations included)');
  } finally {
    await first.close();
  }

  // A new browser: the password, then the code page.
  const second = await openBrowser(config);
  try {
    const { page } = second;
    const request = authorizationRequest(config);
    const redirect = await catchRedirect(page, config);
    await page.goto(request.url);
    await loginShown(page, config);
    await signIn(page, config);
    await page.getByRole('heading', { level: 1, name: 'Confirm it is you' }).waitFor();
    console.log(`screenshot: ${await screenshot(page, config, 'totp-code-en')}`);
    // The next step's code: one step of drift is accepted, and the setup used this one.
    await page.getByLabel('Your code').fill(totpAt(secret, Date.now() / 1000 + 30));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const tokens = await tokensOf(config, redirect, request, second.problems);
    assert.deepEqual(jwtClaims(tokens.id_token).amr, ['pwd', 'otp', 'mfa']);
    assert.deepEqual(second.problems, [], 'no console errors');
  } finally {
    await second.close();
  }
});
