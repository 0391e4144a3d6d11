// Patient accounts in a real browser: a new patient registers from the app's sign-in, opens the
// verification link from the mail (read from the outbox folder, as under `make run`), confirms,
// signs in, allows, and the app gets a code; a patient who forgot the password asks for a link,
// sets a new password from the mail, and signs in with it. The mailed links show a button on GET
// and act on POST; no script runs anywhere.

import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  allow,
  assertFits,
  authorizationRequest,
  catchRedirect,
  languageShown,
  loginAt,
  loginShown,
  redeem,
  screenshot,
  setting,
  settings,
  signIn,
  tabTo,
  withBrowser,
} from './lib/portal.mjs';

/** The link to `path` in the newest mail to `to` in the outbox (quoted-printable undone). */
async function mailedLink(to, path) {
  const dir = setting('OUTBOX_DIR');
  const files = (await readdir(dir)).filter((name) => name.endsWith('.eml'));
  const mails = await Promise.all(
    files.map(async (name) => ({
      modified: (await stat(join(dir, name))).mtimeMs,
      text: (await readFile(join(dir, name), 'utf8')).replaceAll('=\r\n', '').replaceAll('=3D', '='),
    })),
  );
  const mine = mails
    .filter((mail) => mail.text.includes(`To: <${to}>`) && mail.text.includes(path))
    .sort((a, b) => b.modified - a.modified);
  assert.ok(mine.length > 0, `a mail to ${to} with a link to ${path}`);
  const match = mine[0].text.match(new RegExp(`https?://[^\\s"<>]*${path.replaceAll('/', '\\/')}\\?token=[^\\s"<>]+`));
  assert.ok(match, `the link in ${mine[0].text}`);
  return match[0];
}

test('a new patient registers, confirms the address from the mail, signs in and the app gets a code', async () => {
  const config = settings();
  const texts = JSON.parse(setting('ACCOUNT_TEXTS'));
  await withBrowser(config, {}, async (browser) => {
    const { page } = browser;
    const request = authorizationRequest(config);
    const email = `new.${request.state.slice(0, 8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}@example.org`;
    const password = 'a long and unusual passphrase';
    await loginAt(page, config, request.url);
    await page.getByRole('link', { name: texts.registerLink }).click();
    await page.getByRole('heading', { level: 1, name: texts.registerTitle }).waitFor();
    await page.getByLabel(config.texts.en.email, { exact: true }).fill(email);
    await page.getByLabel(texts.newPassword, { exact: true }).fill(password);
    await page.getByLabel(texts.givenName, { exact: true }).fill('Nina');
    await page.getByLabel(texts.familyName, { exact: true }).fill('Neu');
    await page.getByLabel(texts.birthdate, { exact: true }).fill('1990-04-01');
    console.log(`screenshot: ${await screenshot(page, config, 'register-en')}`);
    await page.getByRole('button', { name: texts.registerSubmit }).click();
    await page.getByRole('heading', { level: 1, name: texts.checkMail }).waitFor();

    // Not confirmed yet: signing in explains why and offers the link again.
    await loginAt(page, config, request.url);
    await signIn(page, { ...config, email }, password);
    await page.getByRole('alert').filter({ hasText: texts.unverified }).waitFor();
    await page.getByRole('button', { name: texts.resend }).waitFor();
    // The page's own 403 status, logged by Chromium as a failed load: expected here.
    browser.problems.splice(0);

    await page.goto(await mailedLink(email, '/account/verify'));
    await page.getByRole('button', { name: texts.verifySubmit }).click();
    await page.getByRole('heading', { level: 1, name: texts.verified }).waitFor();
    const redirect = await catchRedirect(page, config);
    await page.getByRole('link', { name: texts.continue }).click();
    await loginShown(page, config);
    await signIn(page, { ...config, email }, password);
    const params = await allow(browser, config, redirect);
    assert.equal(params.get('state'), request.state, 'the sign-in survived the detour');
    const { idClaims } = await redeem(config, params, request);
    assert.equal(idClaims.email, email);
    assert.equal(idClaims.email_verified, true);
  });
});

test('a patient who forgot the password sets a new one from the mail and signs in with it', async () => {
  const config = settings();
  const texts = JSON.parse(setting('ACCOUNT_TEXTS'));
  await withBrowser(config, {}, async (browser) => {
    const { page } = browser;
    const request = authorizationRequest(config);
    await loginAt(page, config, request.url);
    await page.getByRole('link', { name: texts.forgotLink }).click();
    await page.getByLabel(config.texts.en.email, { exact: true }).fill(config.email);
    await page.getByRole('button', { name: texts.forgotSubmit }).click();
    await page.getByRole('heading', { level: 1, name: texts.checkMail }).waitFor();

    const newPassword = 'a brand new passphrase for the portal';
    await page.goto(await mailedLink(config.email, '/account/password/reset'));
    await page.getByLabel(texts.newPassword, { exact: true }).fill(newPassword);
    console.log(`screenshot: ${await screenshot(page, config, 'reset-en')}`);
    await page.getByRole('button', { name: texts.resetSubmit }).click();
    await page.getByRole('heading', { level: 1, name: texts.passwordChanged }).waitFor();
    const redirect = await catchRedirect(page, config);
    await page.getByRole('link', { name: texts.continue }).click();
    await loginShown(page, config);
    await signIn(page, config);
    await page.getByRole('alert').filter({ hasText: config.badCredentials }).waitFor();
    // The page's own 401 status, logged by Chromium as a failed load: expected here.
    browser.problems.splice(0);
    await signIn(page, config, newPassword);
    const params = await allow(browser, config, redirect);
    assert.equal(params.get('state'), request.state);
    assert.ok(params.get('code'), 'a code');
  });
});

test('the account pages fit a 375 px screen in English and German and work with the keyboard alone', async () => {
  const config = settings();
  const texts = JSON.parse(setting('ACCOUNT_TEXTS'));
  const phone = { viewport: { width: 375, height: 667 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
  await withBrowser(config, phone, async ({ page }) => {
    for (const lang of ['en', 'de']) {
      for (const path of ['/account/register', '/account/password/forgot', '/account/verify/resend']) {
        await page.goto(`${config.baseUrl}${path}?lang=${lang}`);
        await languageShown(page, lang);
        await assertFits(page, `${path} (${lang})`);
      }
    }
    console.log(`screenshot: ${await screenshot(page, config, 'forgot-de-375px')}`);

    // Keyboard only: Tab to the address field, type, Enter.
    await page.goto(`${config.baseUrl}/account/password/forgot?lang=en`);
    await tabTo(page, 'the address field', (state) => state.id === 'email');
    await page.keyboard.type(config.email);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: texts.checkMail }).waitFor();
  });
});
