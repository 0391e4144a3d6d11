// Passkeys in real Chromium with a virtual authenticator (Chrome DevTools Protocol WebAuthn
// domain: CTAP2, internal transport, resident keys, user verification). A patient signs in with
// the password on their account page, adds a passkey, signs out everywhere, then an app asks for
// acr_values=loa:2 and the patient signs in with the passkey alone: the app's tokens say loa:2 with
// amr hwk/swk. Both passkey pages are used by keyboard alone on a 375 px screen.
//
// The portal runs under the issuer http://localhost:PORT: Chromium refuses WebAuthn on an
// IP-address origin such as 127.0.0.1.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allow,
  assertFits,
  authorizationRequest,
  buttonEnabled,
  catchRedirect,
  loginAt,
  redeem,
  screenshot,
  setting,
  settings,
  signIn,
  tabTo,
  withBrowser,
} from './lib/portal.mjs';
import { jwtClaims } from './lib/totp.mjs';

const LOA2 = 'urn:mypatientportal:loa:2';
const PHONE = { width: 375, height: 812 };

/** A CTAP2 platform authenticator that keeps discoverable credentials and verifies its user. */
async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return {
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
  };
}

test('a patient adds a passkey by keyboard on a phone, signs out, and signs in with it for loa:2', async () => {
  const config = settings();
  const texts = JSON.parse(setting('PASSKEY_TEXTS'));
  const account = JSON.parse(setting('CONSOLE_TEXTS'));
  assert.match(config.baseUrl, /^http:\/\/localhost:\d+$/, 'the portal runs under a localhost issuer');
  await withBrowser(config, { viewport: PHONE }, async (browser) => {
    const { context, page } = browser;
    const authenticator = await virtualAuthenticator(context, page);

    // Password sign-in on the account page, then its passkey page.
    await loginAt(page, config, `${config.baseUrl}/account`);
    await signIn(page, config);
    await page.getByRole('heading', { level: 1, name: account.title, exact: true }).waitFor();
    await page.getByRole('link', { name: texts.manage, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: texts.title, exact: true }).waitFor();
    await page.getByText(texts.none, { exact: true }).waitFor();
    // The ceremony script enables the button once it has wired the form.
    await buttonEnabled(page, texts.add);
    await assertFits(page, 'passkeys page');

    // Keyboard only: Tab to the name field, type, Tab to the button, Enter.
    await tabTo(page, 'the passkey name field', (state) => state.id === 'name');
    await page.keyboard.type('Test phone');
    await tabTo(page, 'the add button', (state) => state.tag === 'button' && state.value === 'add');
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Test phone').waitFor();
    await page.getByRole('listitem').getByText('Test phone', { exact: true }).waitFor();
    await assertFits(page, 'passkeys page with a passkey');
    console.log(`screenshot: ${await screenshot(page, config, 'passkeys-en-375px')}`);

    const credentials = await authenticator.credentials();
    assert.equal(credentials.length, 1, 'one credential in the authenticator');
    assert.equal(credentials[0].isResidentCredential, true, 'a discoverable (resident) credential');
    assert.equal(credentials[0].rpId, 'localhost');
    assert.ok(credentials[0].userHandle, 'the user handle a discoverable sign-in returns');
    const registeredCount = credentials[0].signCount;

    // Sign out, so the app's request finds no session.
    await page.getByRole('link', { name: texts.back, exact: true }).click();
    await page.getByRole('button', { name: account.signOut, exact: true }).click();
    await page.getByText(account.signedOut, { exact: true }).waitFor();

    // The app asks for two factors; the passkey alone gives them, no address typed.
    const request = authorizationRequest(config, { acr_values: LOA2 });
    const redirect = await catchRedirect(page, config);
    await loginAt(page, config, request.url);
    await page.getByRole('link', { name: texts.signInLink, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: texts.signInTitle, exact: true }).waitFor();
    await buttonEnabled(page, texts.signInSubmit);
    await assertFits(page, 'passkey sign-in page');
    console.log(`screenshot: ${await screenshot(page, config, 'passkey-sign-in-en-375px')}`);
    await tabTo(page, 'the passkey button', (state) => state.tag === 'button');
    await page.keyboard.press('Enter');

    const params = await allow(browser, config, redirect);
    assert.equal(params.get('error'), null, `no error: ${params}`);
    assert.equal(params.get('iss'), config.baseUrl);
    const tokens = await redeem(config, params, request);
    const id = tokens.idClaims;
    assert.equal(id.acr, LOA2);
    assert.ok(id.amr.includes('hwk') || id.amr.includes('swk'), `amr has hwk or swk: ${id.amr}`);
    assert.ok(!id.amr.includes('pwd'), `no password this time: ${id.amr}`);
    assert.equal(jwtClaims(tokens.access_token).acr, LOA2);

    const [used] = await authenticator.credentials();
    assert.ok(used.signCount > registeredCount, 'the authenticator signed the sign-in');
  });
});
