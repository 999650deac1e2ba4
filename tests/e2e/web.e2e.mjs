// Browser scenarios of Tsunagu's pages, in Debian's chromium driven by playwright-core.
// Run by web_browser_test (a gtest that starts the real tsunagud and makes the accounts); on its
// own:  TSUNAGU_URL=https://localhost:PORT TSUNAGU_SERVER_CERT=… TSUNAGU_PASSWORD=… \
//       TSUNAGU_E2E_MODULES=build/e2e TSUNAGU_SCREENSHOTS=build/e2e/screenshots node web.e2e.mjs
// Exits 0 when every scenario passed; prints each scenario and the first failure.
import { createRequire } from 'node:module';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env('TSUNAGU_URL');
const password = env('TSUNAGU_PASSWORD');
const shots = env('TSUNAGU_SCREENSHOTS');
const require = createRequire(path.join(env('TSUNAGU_E2E_MODULES'), 'node_modules', '.e2e'));
const { chromium } = require('playwright-core');

// Trust exactly the hub's test certificate (by its public key), not every certificate.
const spki = createHash('sha256')
  .update(new X509Certificate(readFileSync(env('TSUNAGU_SERVER_CERT'))).publicKey.export({ type: 'spki', format: 'der' }))
  .digest('base64');

mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.TSUNAGU_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [`--ignore-certificate-errors-spki-list=${spki}`, '--no-sandbox', '--disable-gpu', '--lang=ja'],
  timeout: 60000,
});

let failed = 0;
async function scenario(name, body) {
  const context = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  // A CSP violation or a script error means a page does something the policy forbids.
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  try {
    await body(page, context);
    assert.deepEqual(problems.filter((p) => !p.includes('status of 4')), [], 'console errors');
    console.log(`ok    ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${name}: ${e && e.stack ? e.stack : e}`);
    await page.screenshot({ path: path.join(shots, `FAILED-${name.replace(/\W+/g, '_')}.png`), fullPage: true }).catch(() => {});
  } finally {
    await context.close();
  }
}

async function login(page, who) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=login]', who);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
}

await scenario("a liaison's inbox loads", async (page) => {
  await login(page, 'e2e_liaison');
  assert.equal(new URL(page.url()).pathname, '/inbox');
  assert.equal((await page.textContent('#inbox-empty')).trim(), '通知はありません');
  const audit = await page.goto(`${base}/audit`);
  assert.equal(audit.status(), 403, 'a liaison may not read the exchange log');
  await page.goto(`${base}/inbox`);
  await page.screenshot({ path: path.join(shots, '01-liaison-inbox.png'), fullPage: true });
});

await scenario('auditor logs in, searches the log and sees the login entries', async (page) => {
  await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, '/login', 'anonymous visitors are sent to the login page');
  assert.match(await page.textContent('h1'), /ログイン/);
  await page.screenshot({ path: path.join(shots, '02-login.png'), fullPage: true });
  await login(page, 'e2e_auditor');
  assert.equal(new URL(page.url()).pathname, '/audit');
  await page.fill('#audit-search input[name=type]', 'user.login');
  await Promise.all([page.waitForNavigation(), page.click('#search')]);
  const rows = await page.locator('#entries tbody tr').allTextContents();
  assert.ok(rows.length > 0, 'some entries');
  assert.ok(rows.every((r) => r.includes('user.login')), 'only user.login entries');
  assert.ok(rows.some((r) => r.includes('e2e_auditor')), "the auditor's own login is there");
  assert.ok(rows.some((r) => r.includes('e2e_liaison')), "the liaison's login (the first scenario) is there");
  assert.match(await page.textContent('#tree-head'), /署名付きツリーヘッド/);
  await page.screenshot({ path: path.join(shots, '03-audit-search.png'), fullPage: true });
});

await scenario('a form posted without its CSRF token is refused and changes nothing', async (page) => {
  await login(page, 'e2e_auditor');
  // Take the token out of the logout form, as a forged form would lack it, and send it.
  await page.evaluate(() => document.querySelector('form[action="/logout"] input[name=csrf]').remove());
  const [response] = await Promise.all([page.waitForNavigation(), page.click('#logout')]);
  assert.equal(response.status(), 403);
  assert.match(await page.textContent('#message'), /トークン/);
  await page.screenshot({ path: path.join(shots, '04-csrf-refused.png'), fullPage: true });
  const again = await page.goto(`${base}/audit`);
  assert.equal(again.status(), 200, 'still signed in');
  assert.equal(new URL(page.url()).pathname, '/audit');
});

await scenario('logout ends the session', async (page, context) => {
  await login(page, 'e2e_auditor');
  const cookie = (await context.cookies()).find((c) => c.name === '__Host-tsunagu_session');
  assert.ok(cookie, 'a session cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, 'Strict');
  await Promise.all([page.waitForNavigation(), page.click('#logout')]);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal((await context.cookies()).find((c) => c.name === '__Host-tsunagu_session'), undefined);
  await page.goto(`${base}/audit`);
  assert.equal(new URL(page.url()).pathname, '/login', 'the old session no longer opens the log');
  await page.screenshot({ path: path.join(shots, '05-logged-out.png'), fullPage: true });
});

await browser.close();
console.log(failed === 0 ? 'all browser scenarios passed' : `${failed} browser scenario(s) failed`);
process.exit(failed === 0 ? 0 : 1);
