// The browsable API documentation works end to end: on /api-docs a developer presses "Authorize",
// signs in as a patient in the popup (the documentation's own public client, PKCE), allows, and
// then "Try it out" finds an availability and books it, all from the docs page.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consentShown, loginShown, openBrowser, screenshot, setting, signIn } from './lib/portal.mjs';

/** What this scenario needs (the Rust driver registers the documentation client and a patient). */
function docsSettings() {
  return {
    baseUrl: setting('PORTAL_BASE_URL').replace(/\/$/, ''),
    clientName: setting('CLIENT_NAME'),
    email: setting('PATIENT_EMAIL'),
    password: setting('PATIENT_PASSWORD'),
    // What the login and consent pages say, per language, from the server's catalogs.
    texts: JSON.parse(setting('PAGE_TEXTS')),
    insuranceId: Number(setting('INSURANCE_ID')),
    categoryId: setting('CATEGORY_ID'),
    typeId: setting('TYPE_ID'),
    artifactDir: process.env.ARTIFACT_DIR,
    chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  };
}

/** The operation block of `method path`, expanded, with "Try it out" pressed. */
async function tryItOut(page, method, path) {
  const block = page.locator(`.opblock-${method}`, {
    has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
  });
  await block.locator('.opblock-summary').first().click();
  await block.locator('button.try-out__btn').click();
  return block;
}

test('Authorize on /api-docs signs a patient in, then "Try it out" books an appointment', async () => {
  const config = docsSettings();
  const browser = await openBrowser(config);
  try {
    const { page, context } = browser;
    await page.goto(`${config.baseUrl}/api-docs`);
    await page.getByRole('button', { name: 'Authorize' }).first().click();

    // The OAuth 2.0 scheme's box in the dialog: client id filled in by the page's configuration.
    const oauth = page.locator('.auth-container', { hasText: 'authorizationCode' });
    await oauth.waitFor();
    assert.equal(await oauth.locator('input#client_id_authorizationCode').inputValue(), 'api-docs');
    const authorizeUrls = [];
    context.on('request', (request) => {
      if (new URL(request.url()).pathname === '/oauth/authorize') authorizeUrls.push(request.url());
    });
    const popupOpened = context.waitForEvent('page');
    // Swagger UI names its dialog buttons by aria-label ("Apply credentials", ...): use classes.
    await oauth.locator('button.modal-btn.authorize').click();

    // The sign-in popup: the portal's own login and consent pages, for the documentation client.
    const popup = await popupOpened;
    await loginShown(popup, config);
    assert.match(authorizeUrls[0] ?? '', /code_challenge_method=S256/, 'Swagger UI uses PKCE');
    assert.match(authorizeUrls[0], /client_id=api-docs/);
    await signIn(popup, config);
    await consentShown(popup, config);
    const closed = popup.waitForEvent('close');
    await popup.getByRole('button', { name: config.texts.en.allow, exact: true }).click();
    await closed; // the redirect page handed the code to the docs page and closed itself

    // The docs page exchanged the code (PKCE, no secret) and shows the scheme as authorized.
    await oauth.locator('button.modal-btn', { hasText: 'Logout' }).waitFor();
    console.log(`screenshot: ${await screenshot(page, config, 'api-docs-authorized')}`);
    await page.locator('.dialog-ux button.btn-done').first().click();

    // Try it out: availabilities of the demo type, then book the first one.
    const search = await tryItOut(page, 'get', '/api/portal/v1/availabilities');
    for (const [name, value] of [
      ['category_id', config.categoryId],
      ['type_id', config.typeId],
      ['insurance_id', String(config.insuranceId)],
      ['limit', '3'],
    ]) {
      await search.locator(`tr[data-param-name="${name}"] input`).fill(value);
    }
    const searched = page.waitForResponse(
      (r) => r.url().includes('/api/portal/v1/availabilities?') && r.request().method() === 'GET',
    );
    await search.locator('button.execute').click();
    const found = await searched;
    assert.equal(found.status(), 200, await found.text());
    assert.match(found.request().headers().authorization ?? '', /^Bearer /, 'the token is sent');
    const availability = (await found.json()).data[0];
    assert.ok(availability?.id, 'an availability to book');

    const booking = await tryItOut(page, 'post', '/api/portal/v1/booking');
    await booking
      .locator('textarea.body-param__text')
      .fill(JSON.stringify({ availability_id: availability.id, insurance_id: config.insuranceId }));
    const booked = page.waitForResponse(
      (r) => r.url().endsWith('/api/portal/v1/booking') && r.request().method() === 'POST',
    );
    await booking.locator('button.execute').click();
    const answer = await booked;
    assert.equal(answer.status(), 201, await answer.text());
    const { id } = await answer.json();
    assert.ok(id, 'the new appointment id');
    // The page shows the answer, too.
    await booking.locator('.live-responses-table .response-col_status', { hasText: '201' }).waitFor();
    console.log(`booked ${id}; screenshot: ${await screenshot(page, config, 'api-docs-booked')}`);
    assert.deepEqual(browser.problems, [], 'no console errors (CSP violations included)');
  } finally {
    await browser.close();
  }
});
