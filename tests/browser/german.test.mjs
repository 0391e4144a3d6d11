// A German-speaking patient: with `ui_locales=de` the login and consent pages are German from the
// first word (`<html lang="de">`, labels, buttons, the scopes in plain German words) and the app
// gets its code; and a patient whose browser asks for English switches to German with the
// keyboard alone, keeping the sign-in they are in.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authorizationRequest,
  catchRedirect,
  consentShown,
  exchangeCode,
  focused,
  loginShown,
  openBrowser,
  screenshot,
  settings,
  signIn,
  visibleFocus,
} from './lib/portal.mjs';

/** Asserts no English text of the pages is shown on the current (German) page. */
async function noEnglish(page, config) {
  const shown = await page.locator('main').innerText();
  const en = config.texts.en;
  for (const english of [en.loginTitle, en.email, en.submit, en.allow, en.deny, en.consentHeading, ...en.scopes]) {
    assert.ok(!shown.includes(english), `"${english}" left on the German page:\n${shown}`);
  }
}

test('with ui_locales=de the login and consent pages are German and the app gets its code', async () => {
  const config = settings();
  const de = config.texts.de;
  // The browser itself asks for English: ui_locales outranks it.
  const browser = await openBrowser(config, { locale: 'en-US' });
  try {
    const { page } = browser;
    const request = authorizationRequest(config, { ui_locales: 'de-DE de' });
    const redirect = await catchRedirect(page, config);

    await page.goto(request.url);
    await loginShown(page, config, 'de');
    assert.match(await page.title(), new RegExp(`^${de.loginTitle} `));
    await noEnglish(page, config);
    assert.equal(
      await page.locator('main').getByText(config.clientName, { exact: true }).count(),
      1,
      'the login page names the app',
    );
    console.log(`screenshot: ${await screenshot(page, config, 'login-de')}`);

    await signIn(page, config, config.password, 'de');
    await consentShown(page, config, 'de');
    const items = (await page.locator('ul.scopes li').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual([...items].sort(), [...de.scopes].sort(), 'every scope, in plain German');
    await page.getByRole('button', { name: de.deny, exact: true }).waitFor();
    await noEnglish(page, config);
    console.log(`screenshot: ${await screenshot(page, config, 'consent-de')}`);

    await page.getByRole('button', { name: de.allow, exact: true }).click();
    const params = await redirect.landed(browser.problems);
    assert.equal(params.get('state'), request.state);
    const tokens = await exchangeCode(config, params.get('code'), request.verifier);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.deepEqual(browser.problems, [], 'no console errors (CSP violations included)');
  } finally {
    await browser.close();
  }
});

test('the language switch works with the keyboard alone and keeps the sign-in', async () => {
  const config = settings();
  const browser = await openBrowser(config, { locale: 'en-US' });
  try {
    const { page } = browser;
    // The first test already gave this app consent: prompt=consent shows the page again.
    const request = authorizationRequest(config, { prompt: 'consent' });
    const redirect = await catchRedirect(page, config);
    const key = (name) => page.keyboard.press(name);

    await page.goto(request.url);
    await loginShown(page, config, 'en');
    // After the form (email, password, submit) and the links ("sign in with a passkey", "forgot
    // your password", "create an account"), each with a visible focus, comes the switch.
    assert.equal((await focused(page)).id, 'email');
    await key('Tab');
    await key('Tab');
    for (const link of ['passkey', 'forgot', 'register']) {
      await key('Tab');
      const onLink = await focused(page);
      assert.equal(onLink.tag, 'a', `${link} link: ${JSON.stringify(onLink)}`);
      assert.ok(visibleFocus(onLink), `visible focus on the ${link} link: ${JSON.stringify(onLink)}`);
    }
    await key('Tab');
    const state = await focused(page);
    assert.deepEqual([state.tag, state.name, state.value], ['button', 'lang', 'de'], JSON.stringify(state));
    assert.ok(visibleFocus(state), `visible focus on the switch: ${JSON.stringify(state)}`);
    await key('Enter');

    await loginShown(page, config, 'de');
    await signIn(page, config, config.password, 'de');
    await consentShown(page, config, 'de');
    await page.getByRole('button', { name: config.texts.de.allow, exact: true }).click();
    const params = await redirect.landed(browser.problems);
    assert.ok(params.get('code'), `a code: ${params}`);
    assert.equal(params.get('state'), request.state);
  } finally {
    await browser.close();
  }
});
