// Shared helpers of the browser scenarios: settings from the environment (set by the Rust driver
// tests/tests/e2e_browser.rs, which registers a client and a patient for each scenario), a headless
// Chromium with a fresh profile, the authorization request, and the app's loopback listener that
// receives the redirect.
//
// No fixed sleeps anywhere: every wait is one of Playwright's (navigation, locator auto-waiting).

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { jwtClaims } from './totp.mjs';

/** A required environment variable. */
export function setting(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: these scenarios are run by the Rust driver tests/tests/e2e_browser.rs ` +
        '(make test), which creates the client and patient they use',
    );
  }
  return value;
}

/**
 * Everything a scenario needs, read once. `texts` holds, per language tag, what the pages say
 * (from the server's own catalogs): `loginTitle`, `email`, `password`, `submit`, `consentHeading`,
 * `allow`, `deny`, `scopes` (the plain-words descriptions of the requested scopes),
 * `badCredentials` and `languageName`.
 */
export function settings() {
  const texts = JSON.parse(setting('PAGE_TEXTS'));
  return {
    baseUrl: setting('PORTAL_BASE_URL').replace(/\/$/, ''),
    clientId: setting('CLIENT_ID'),
    clientSecret: setting('CLIENT_SECRET'),
    clientName: setting('CLIENT_NAME'),
    redirectUri: setting('REDIRECT_URI'),
    email: setting('PATIENT_EMAIL'),
    password: setting('PATIENT_PASSWORD'),
    scope: setting('SCOPE'),
    texts,
    // The plain-words description of each requested scope, as the server defines them.
    scopeDescriptions: texts.en.scopes,
    badCredentials: texts.en.badCredentials,
    artifactDir: process.env.ARTIFACT_DIR || join(process.cwd(), 'artifacts'),
    chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  };
}

/** Flags verified on this machine (shared FACTS.md). Playwright adds `--headless` itself. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * A headless Chromium with a fresh profile (its own user-data-dir, removed by `close`), one
 * browsing context and one page. `options` go to the context (viewport, …).
 */
export async function openBrowser(config, options = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'portal-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: config.chromium,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
      ...options,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`cannot start Chromium at ${config.chromium}: ${error.message}`);
  }
  // Generous: outside `make test`, cargo lambda watch compiles a function on its first request.
  context.setDefaultTimeout(120_000);
  context.setDefaultNavigationTimeout(300_000);
  const page = context.pages()[0] ?? (await context.newPage());
  // A page that breaks its own CSP, or throws, is a bug worth failing on.
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push(`${message.text()} [${message.location().url || page.url()}]`);
    }
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `scenario(browser)` in a fresh browser (`openBrowser(config, options)`), then asserts that
 * no page logged a console error (CSP violations included); the browser is closed either way.
 */
export async function withBrowser(config, options, scenario) {
  const browser = await openBrowser(config, options);
  try {
    await scenario(browser);
    assert.deepEqual(browser.problems, [], 'no console errors (CSP violations included)');
  } finally {
    await browser.close();
  }
}

/**
 * A fresh authorization request (PKCE S256, state, nonce) for the configured client, with `extra`
 * parameters (e.g. `{ ui_locales: 'de' }`).
 */
export function authorizationRequest(config, extra = {}) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const url = new URL('/oauth/authorize', config.baseUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return { url: url.toString(), verifier, state, nonce };
}

/**
 * The app's end of the redirect: a tiny HTTP listener on the loopback redirect URI (RFC 8252), as
 * a native app runs one. It answers the redirect with a small page and reports the URL the browser
 * was sent to. (Catching the redirect inside the browser with `page.route` is not reliable here:
 * Chromium lets a redirect that follows a keyboard- or touch-submitted form bypass interception.)
 */
export async function catchRedirect(page, config) {
  const target = new URL(config.redirectUri);
  let arrived;
  const arrival = new Promise((resolve) => {
    arrived = resolve;
  });
  const server = createServer((request, response) => {
    const url = new URL(request.url, target);
    const isCallback = request.method === 'GET' && url.pathname === target.pathname;
    response.writeHead(isCallback ? 200 : 404, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    // An empty icon, so the browser does not ask the listener for /favicon.ico.
    response.end('<!doctype html><link rel="icon" href="data:,"><title>App</title><p>Back in the app.</p>');
    if (isCallback) arrived(url);
  });
  await new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(new Error(`cannot listen on ${target.host} for the redirect: ${error.message}`)),
    );
    server.listen(Number(target.port), target.hostname, resolve);
  });
  // Never keeps the test process alive, whatever happens to the scenario.
  server.unref();
  return {
    /**
     * Waits until the browser arrives at the redirect URI and returns its parameters. By then the
     * portal's function is warm, so a redirect that does not come within seconds is blocked, not
     * slow: the error names what the page logged (a CSP violation, for one).
     */
    async landed(problems = []) {
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `the browser did not arrive at ${config.redirectUri} (still on ${page.url()}); ` +
                  `page console: ${JSON.stringify(problems)}`,
              ),
            ),
          30_000,
        );
      });
      try {
        const url = await Promise.race([arrival, timeout]);
        await page.waitForURL((current) => current.href === url.href);
        return url.searchParams;
      } finally {
        clearTimeout(timer);
        server.close();
      }
    },
  };
}

/** Exchanges a code at the token endpoint (client_secret_basic) and returns the JSON answer. */
export async function exchangeCode(config, code, verifier) {
  const basic = Buffer.from(
    `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret)}`,
  ).toString('base64');
  const response = await fetch(new URL('/oauth/token', config.baseUrl), {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: config.redirectUri,
      code_verifier: verifier,
    }),
  });
  const body = await response.json();
  return { status: response.status, body };
}

/** Saves a full-page screenshot under the artifact folder; returns its path. */
export async function screenshot(page, config, name) {
  await mkdir(config.artifactDir, { recursive: true });
  const path = join(config.artifactDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Exchanges the code the app received (`params`, from `landed`) for `request`, asserting that the
 * token endpoint answers 200; the token response with the ID token's claims as `idClaims`.
 */
export async function redeem(config, params, request) {
  const tokens = await exchangeCode(config, params.get('code'), request.verifier);
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  return { ...tokens.body, idClaims: jwtClaims(tokens.body.id_token) };
}

/** Whether the page can be scrolled sideways (content wider than the viewport). */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const root = document.scrollingElement;
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
  });
}

/**
 * The focused element and its focus indicator: whether the browser shows focus (`:focus-visible`)
 * and the indicator's contrast against the page's background (WCAG 2.1 SC 1.4.11 asks for 3:1).
 */
export async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { id: null, tag: 'body' };
    const rgb = (color) => (color.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    const luminance = ([r, g, b]) => {
      const channel = (v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    // The colour behind the indicator: the nearest ancestor with an opaque background.
    let behind = el.parentElement;
    while (behind && getComputedStyle(behind).backgroundColor.startsWith('rgba(0, 0, 0, 0')) {
      behind = behind.parentElement;
    }
    const background = rgb(behind ? getComputedStyle(behind).backgroundColor : 'rgb(255,255,255)');
    const style = getComputedStyle(el);
    const hasOutline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
    const [l1, l2] = [luminance(rgb(style.outlineColor)), luminance(background)].sort((a, b) => b - a);
    return {
      id: el.id || null,
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type'),
      name: el.getAttribute('name'),
      value: el.getAttribute('value'),
      focusVisible: el.matches(':focus-visible'),
      outline: hasOutline ? `${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}` : null,
      contrast: hasOutline ? Math.round(((l1 + 0.05) / (l2 + 0.05)) * 100) / 100 : 0,
    };
  });
}

/** Asserts-friendly summary: focus shown with a 2px+ outline of at least 3:1 contrast. */
export function visibleFocus(state) {
  return state.focusVisible && state.outline !== null && state.contrast >= 3;
}

/** Asserts that `what` (the page now shown) needs no sideways scrolling. */
export async function assertFits(page, what) {
  const { scrollWidth, clientWidth } = await horizontalOverflow(page);
  assert.ok(scrollWidth <= clientWidth, `${what}: no horizontal scrolling (${scrollWidth} > ${clientWidth})`);
}

/**
 * Presses Tab (at most 40 times) until the focused element is `wanted` (a predicate on
 * `focused()`), checking that focus is visible there; returns the focused element.
 */
export async function tabTo(page, what, wanted) {
  for (let presses = 0; presses < 40; presses += 1) {
    await page.keyboard.press('Tab');
    const state = await focused(page);
    if (wanted(state)) {
      assert.ok(visibleFocus(state), `${what} shows its focus: ${JSON.stringify(state)}`);
      return state;
    }
  }
  throw new Error(`Tab never reached ${what}`);
}

/** Waits until the page has an enabled button labelled `name` (a script enables it once ready). */
export async function buttonEnabled(page, name) {
  await page.waitForFunction(
    (label) => [...document.querySelectorAll('button')].some((b) => b.textContent === label && !b.disabled),
    name,
  );
}

/**
 * Fills in the login form by its labels (in `lang`) and presses its submit button; the caller
 * waits for what comes next (the consent page, the app, or the error message).
 */
export async function signIn(page, config, password = config.password, lang = 'en') {
  const texts = config.texts[lang];
  await page.getByLabel(texts.email, { exact: true }).fill(config.email);
  await page.getByLabel(texts.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: texts.submit, exact: true }).click();
}

/** Opens `url` (an authorization request, an account page) and waits for the login page in English. */
export async function loginAt(page, config, url) {
  await page.goto(url);
  await loginShown(page, config);
}

/**
 * Waits for the consent page in English, allows, and returns the parameters the app receives at
 * `redirect` (from `catchRedirect`).
 */
export async function allow(browser, config, redirect) {
  await consentShown(browser.page, config);
  await browser.page.getByRole('button', { name: config.texts.en.allow, exact: true }).click();
  return redirect.landed(browser.problems);
}

/** Waits for the consent page in `lang` (its heading names the app). */
export async function consentShown(page, config, lang = 'en') {
  await page.waitForURL((url) => url.pathname === '/oauth/consent');
  await languageShown(page, lang);
  await page
    .getByRole('heading', { level: 1, name: config.texts[lang].consentHeading, exact: true })
    .waitFor();
}

/** Waits for the login page in `lang`. */
export async function loginShown(page, config, lang = 'en') {
  await page.waitForURL((url) => url.pathname === '/oauth/login');
  await languageShown(page, lang);
  await page
    .getByRole('heading', { level: 1, name: config.texts[lang].loginTitle, exact: true })
    .waitFor();
}

/** Waits until the page says it is written in `lang` (`<html lang>`). */
export async function languageShown(page, lang) {
  await page.locator(`html[lang="${lang}"]`).waitFor({ state: 'attached' });
}
