// Keyboard only: the login form is reached with Tab in the order email, password, submit; every
// field has its label; focus is always visible (outline of at least 3:1 contrast); Enter submits;
// the consent buttons are reached and pressed the same way.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authorizationRequest,
  catchRedirect,
  consentShown,
  focused,
  loginShown,
  openBrowser,
  settings,
  visibleFocus,
} from './lib/portal.mjs';

test('login and consent work with the keyboard alone, with labels and visible focus', async () => {
  const config = settings();
  const browser = await openBrowser(config);
  try {
    const { page } = browser;
    const request = authorizationRequest(config);
    const redirect = await catchRedirect(page, config);
    const key = (name) => page.keyboard.press(name);

    await page.goto(request.url);
    await loginShown(page, config);

    const labels = await page.evaluate(() =>
      ['email', 'password'].map((id) => {
        const input = document.getElementById(id);
        return {
          id,
          labels: [...(input?.labels ?? [])].map((l) => l.textContent.trim()),
          required: Boolean(input?.required),
          autocomplete: input?.getAttribute('autocomplete'),
        };
      }),
    );
    assert.deepEqual(labels, [
      { id: 'email', labels: ['Email address'], required: true, autocomplete: 'username' },
      { id: 'password', labels: ['Password'], required: true, autocomplete: 'current-password' },
    ]);

    // The empty email field has focus on arrival.
    assert.equal((await focused(page)).id, 'email', 'email focused on arrival');
    // Nothing focusable precedes it: back out of the page, then Tab lands on it again.
    await key('Shift+Tab');
    assert.equal((await focused(page)).tag, 'body', 'nothing focusable before the email field');
    await key('Tab');

    let state = await focused(page);
    assert.equal(state.id, 'email', 'Tab reaches the email field first');
    assert.ok(visibleFocus(state), `visible focus on the email field: ${JSON.stringify(state)}`);
    await page.keyboard.type(config.email);

    await key('Tab');
    state = await focused(page);
    assert.equal(state.id, 'password', 'then the password field');
    assert.ok(visibleFocus(state), `visible focus on the password field: ${JSON.stringify(state)}`);
    await page.keyboard.type(config.password);

    await key('Tab');
    state = await focused(page);
    assert.deepEqual([state.tag, state.type], ['button', 'submit'], 'then the submit button');
    assert.ok(visibleFocus(state), `visible focus on the submit button: ${JSON.stringify(state)}`);

    // Back to the password field; Enter in a field submits the form.
    await key('Shift+Tab');
    assert.equal((await focused(page)).id, 'password');
    await key('Enter');
    await consentShown(page, config);

    // On the consent page the first Tab reaches Allow, the next Deny.
    await key('Tab');
    state = await focused(page);
    assert.deepEqual([state.tag, state.name, state.value], ['button', 'decision', 'allow']);
    assert.ok(visibleFocus(state), `visible focus on Allow: ${JSON.stringify(state)}`);
    await key('Tab');
    state = await focused(page);
    assert.deepEqual([state.tag, state.name, state.value], ['button', 'decision', 'deny']);
    assert.ok(visibleFocus(state), `visible focus on Deny: ${JSON.stringify(state)}`);
    await key('Shift+Tab');
    assert.equal((await focused(page)).value, 'allow');
    await key('Enter');

    const params = await redirect.landed(browser.problems);
    assert.ok(params.get('code'), `a code: ${params}`);
    assert.equal(params.get('state'), request.state);
  } finally {
    await browser.close();
  }
});
