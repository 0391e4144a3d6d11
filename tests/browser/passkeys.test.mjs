// Passkeys in real Chromium with a virtual authenticator (Chrome DevTools Protocol: WebAuthn.enable,
// addVirtualAuthenticator: CTAP2, built in, discoverable credentials, user verification). The
// patient signs in with the password, adds a passkey on the account page by keyboard alone on a
// 375 px screen, signs out, and then signs in to an app that asks for loa:2 with the passkey alone:
// no email, no password, no code. The app's id_token says hwk (or swk) + user, loa:2.
//
// Browsers refuse IP addresses as WebAuthn relying-party ids, so a portal on 127.0.0.1 serves
// passkeys as localhost: this scenario uses http://localhost:PORT throughout.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authorizationRequest,
  catchRedirect,
  consentShown,
  exchangeCode,
  focused,
  horizontalOverflow,
  loginShown,
  openBrowser,
  screenshot,
  settings,
  signIn,
  visibleFocus,
} from './lib/portal.mjs';
import { jwtClaims } from './lib/totp.mjs';

const LOA2 = 'urn:mypatientportal:loa:2';
const TEXTS = JSON.parse(process.env.PASSKEY_TEXTS || '{}');

/** Presses Tab until the element with `id` (or the button named `button`) has focus. */
async function tabTo(page, { id, button }) {
  for (let i = 0; i < 40; i += 1) {
    await page.keyboard.press('Tab');
    const state = await focused(page);
    const text = state.tag === 'button'
      ? await page.evaluate(() => document.activeElement.textContent.trim())
      : null;
    if ((id && state.id === id) || (button && text === button)) {
      assert.ok(visibleFocus(state), `visible focus: ${JSON.stringify(state)}`);
      return;
    }
  }
  throw new Error(`Tab never reached ${id || button}`);
}

async function fitsTheScreen(page, name, config) {
  const { scrollWidth, clientWidth } = await horizontalOverflow(page);
  assert.ok(scrollWidth <= clientWidth, `${name}: no sideways scrolling (${scrollWidth} > ${clientWidth})`);
  console.log(`screenshot: ${await screenshot(page, config, name)}`);
}

test('a patient adds a passkey by keyboard on a phone and signs in to an app with it at loa:2', async () => {
  const config = settings();
  const base = config.baseUrl.replace('://127.0.0.1', '://localhost');
  const browser = await openBrowser(config, { viewport: { width: 375, height: 800 } });
  try {
    const { context, page, problems } = browser;
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    // The password on the account page's own sign-in, then its passkey page.
    await page.goto(`${base}/account`);
    await loginShown(page, config);
    await signIn(page, config);
    await page.waitForURL((url) => url.pathname === '/account');
    await page.getByRole('link', { name: TEXTS.manage, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: TEXTS.title, exact: true }).waitFor();
    await page.getByText(TEXTS.none, { exact: true }).waitFor();
    const csp = (await page.context().request.get(page.url())).headers()['content-security-policy'];
    assert.match(csp, /script-src 'self';/);

    // Keyboard only: Tab to the name, type it, Tab to the button, Enter.
    await tabTo(page, { id: 'name' });
    await page.keyboard.type('Test laptop');
    await tabTo(page, { button: TEXTS.add });
    await page.keyboard.press('Enter');
    await page.getByText('The passkey “Test laptop” was added. We sent you an email about it.').waitFor();
    await page.locator('ul.passkeys strong', { hasText: 'Test laptop' }).waitFor();
    await fitsTheScreen(page, 'passkeys-en-375px', config);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'one credential on the authenticator');
    assert.ok(credentials[0].isResidentCredential, 'a discoverable credential');

    // Sign out.
    await page.goto(`${base}/oauth/logout`);
    await page.getByText('You have been signed out of MyPatientPortal.', { exact: false }).waitFor();

    // An app asks for loa:2; the patient picks "Sign in with a passkey" and presses one button.
    const request = authorizationRequest({ ...config, baseUrl: base }, { acr_values: LOA2 });
    const redirect = await catchRedirect(page, config);
    await page.goto(request.url);
    await loginShown(page, config);
    await page.getByRole('link', { name: TEXTS.signInLink, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: TEXTS.signInTitle, exact: true }).waitFor();
    await fitsTheScreen(page, 'passkey-sign-in-en-375px', config);
    await tabTo(page, { button: TEXTS.signInSubmit });
    await page.keyboard.press('Enter');

    await consentShown(page, config);
    await page.getByRole('button', { name: config.texts.en.allow, exact: true }).click();
    const params = await redirect.landed(problems);
    assert.equal(params.get('error'), null, `no error: ${params}`);
    const tokens = await exchangeCode(config, params.get('code'), request.verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const id = jwtClaims(tokens.body.id_token);
    assert.equal(id.acr, LOA2);
    assert.ok(id.amr.includes('hwk') || id.amr.includes('swk'), `amr ${id.amr}`);
    assert.ok(id.amr.includes('user'), `amr ${id.amr}`);
    assert.ok(!id.amr.includes('pwd'), 'no password');
    assert.equal(jwtClaims(tokens.body.access_token).acr, LOA2);
    assert.deepEqual(problems, [], 'no console errors (CSP violations included)');
  } finally {
    await browser.close();
  }
});
