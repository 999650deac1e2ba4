// Browser scenarios of Tsunagu's pages, in Debian's chromium driven by playwright-core.
// Run by web_browser_test (a gtest that starts the real tsunagud with the shipped routing
// configuration, routes one notice to 東区's liaisons from a dropped public-assistance file and
// makes the accounts: e2e_higashi (higashi-liaison-1, 01103), e2e_kita (kita-liaison-1, 01102),
// e2e_auditor); on its own:
//   TSUNAGU_URL=https://localhost:PORT TSUNAGU_SERVER_CERT=… TSUNAGU_PASSWORD=… \
//   TSUNAGU_NOTICE_ID=… TSUNAGU_E2E_MODULES=build/e2e TSUNAGU_SCREENSHOTS=build/e2e/screenshots \
//   node web.e2e.mjs
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
const noticeId = env('TSUNAGU_NOTICE_ID');
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

await scenario("東区's liaison sees the routed notice, opens it, acknowledges it and records an action", async (page) => {
  await login(page, 'e2e_higashi');
  assert.equal(new URL(page.url()).pathname, '/inbox');
  assert.equal((await page.textContent('#unread-count')).trim(), '1', 'one unread notice');
  assert.equal((await page.textContent('#overdue-count')).trim(), '0');
  const rows = page.locator('#inbox-list tbody tr');
  assert.equal(await rows.count(), 1);
  const row = await rows.first().textContent();
  assert.match(row, /ケースワーカー訪問時に子どもを確認できず/);
  assert.match(row, /東区/);
  assert.match(row, /未対応/);
  assert.match(row, /未読/);
  assert.match(row, /\d{4}年\d{1,2}月\d{1,2}日\(.\) \d{2}:\d{2}/, 'due and received times in Japan time');
  assert.ok(!row.includes('佐藤'), 'no personal data in the list');
  await page.screenshot({ path: path.join(shots, '01-liaison-inbox.png'), fullPage: true });

  await Promise.all([page.waitForNavigation(), page.click('#inbox-list a')]);
  assert.equal(new URL(page.url()).pathname, `/notices/${noticeId}`);
  assert.equal(await page.textContent('[data-field="subject.name"]'), '佐藤　ひかり');
  assert.equal(await page.textContent('[data-field="subject.name_kana"]'), 'ｻﾄｳ ﾋｶﾘ');
  assert.match(await page.textContent('[data-field="kind"]'), /訪問時に子どもを確認できず/);
  assert.match(await page.textContent('[data-field="subject.ward_code"]'), /東区/);
  const labels = await page.locator('#notice-fields dt').allTextContents();
  for (const label of ['種別', '発生日時', '氏名', 'カナ', '生年月日', '月齢', '区']) {
    assert.ok(labels.includes(label), `field label ${label} in ${labels}`);
  }
  assert.match(await page.textContent('#notice-reason'), /東区の子ども支援窓口/);
  assert.match(await page.textContent('#notice-legal-basis'), /個人情報保護法69条2項2号/);
  assert.match(await page.textContent('#notice-policy'), /pa_liaison_welfare_visit/);
  assert.match(await page.textContent('#notice-history'), /閲覧/);
  const text = await page.textContent('main');
  assert.ok(!text.includes('0088000002'), 'never the 宛名番号');
  assert.ok(!text.includes('北15条'), 'never the address');
  await page.screenshot({ path: path.join(shots, '02-notice-detail.png'), fullPage: true });

  await page.fill('#ack-form textarea[name=note]', 'ケースワーカーと訪問日程を調整します');
  await Promise.all([page.waitForNavigation(), page.click('#ack-submit')]);
  assert.match(await page.textContent('#notice-message'), /受領の確認を記録しました/);
  assert.equal(await page.getAttribute('#notice-status', 'data-status'), 'acknowledged');
  assert.equal((await page.textContent('#notice-status')).trim(), '確認済み');
  assert.match(await page.textContent('#notice-history'), /ケースワーカーと訪問日程を調整します/);
  assert.equal(await page.locator('#ack-form').count(), 0, 'no second acknowledgement');
  await page.fill('#action-form textarea[name=note]', '保育所に登園状況を確認した');
  await Promise.all([page.waitForNavigation(), page.click('#action-submit')]);
  assert.match(await page.textContent('#notice-message'), /対応を記録しました/);
  assert.match(await page.textContent('#notice-history'), /対応の記録/);
  await page.screenshot({ path: path.join(shots, '03-notice-acknowledged.png'), fullPage: true });

  await page.goto(`${base}/inbox`);
  assert.equal((await page.textContent('#unread-count')).trim(), '0');
  assert.match(await page.textContent('#inbox-list tbody tr .status'), /確認済み/);
  const audit = await page.goto(`${base}/audit`);
  assert.equal(audit.status(), 403, 'a liaison may not read the exchange log');
});

await scenario("北区's liaison has an empty inbox and gets 404 for the 東区 notice's URL", async (page) => {
  await login(page, 'e2e_kita');
  assert.equal(new URL(page.url()).pathname, '/inbox');
  assert.equal((await page.textContent('#inbox-empty')).trim(), '通知はありません');
  assert.equal((await page.textContent('#unread-count')).trim(), '0');
  const guessed = await page.goto(`${base}/notices/${noticeId}`);
  assert.equal(guessed.status(), 404);
  assert.match(await page.textContent('#message'), /この通知はありません/);
  assert.ok(!(await page.textContent('main')).includes('佐藤'));
  await page.screenshot({ path: path.join(shots, '04-other-ward-404.png'), fullPage: true });
  const api = await page.goto(`${base}/api/v1/notices/${noticeId}`);
  assert.equal(api.status(), 404, 'the API answers the same');
});

await scenario('auditor finds the opening and the acknowledgement, without the fields', async (page) => {
  await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, '/login', 'anonymous visitors are sent to the login page');
  assert.match(await page.textContent('h1'), /ログイン/);
  await page.screenshot({ path: path.join(shots, '05-login.png'), fullPage: true });
  await login(page, 'e2e_auditor');
  assert.equal(new URL(page.url()).pathname, '/audit');
  // Who received it: search by the liaison's officer id, then the preset for acknowledgements.
  await page.fill('#audit-search input[name=recipient]', 'higashi-liaison-1');
  await Promise.all([page.waitForNavigation(), page.click('#search')]);
  const all = await page.locator('#entries tbody tr').allTextContents();
  assert.ok(all.some((r) => r.includes('routing.routed') && r.includes('個人情報保護法69条2項2号')),
    'the routing with its legal basis');
  await Promise.all([page.waitForNavigation(), page.click('#preset-acknowledged')]);
  const acks = await page.locator('#entries tbody tr').allTextContents();
  assert.equal(acks.length, 1, `one acknowledgement: ${acks}`);
  assert.ok(acks[0].includes('notice.acknowledged') && acks[0].includes('user:e2e_higashi') && acks[0].includes(noticeId));
  // Every step of the notice, from its id.
  await Promise.all([page.waitForNavigation(), page.click(`#entries a[href*="notice=${noticeId}"]`)]);
  const steps = await page.locator('#entries tbody tr').allTextContents();
  for (const type of ['routing.routed', 'notice.opened', 'notice.acknowledged', 'notice.action']) {
    assert.ok(steps.some((r) => r.includes(type)), `${type} among ${steps.length} entries`);
  }
  assert.ok(steps.some((r) => r.includes('notice.opened') && r.includes('user:e2e_higashi')), 'who opened it');
  const text = await page.textContent('main');
  for (const secret of ['佐藤', 'ｻﾄｳ', 'ケースワーカーと訪問日程', '保育所に登園状況']) {
    assert.ok(!text.includes(secret), `the log shows no field or note (${secret})`);
  }
  assert.match(await page.textContent('#tree-head'), /署名付きツリーヘッド/);
  await page.screenshot({ path: path.join(shots, '06-audit-notice.png'), fullPage: true });
  const notice = await page.goto(`${base}/notices/${noticeId}`);
  assert.equal(notice.status(), 403, 'an auditor never reads a notice');
  await page.goto(`${base}/audit?type=user.login`);
  const logins = await page.locator('#entries tbody tr').allTextContents();
  assert.ok(logins.every((r) => r.includes('user.login')), 'only user.login entries');
  assert.ok(logins.some((r) => r.includes('e2e_auditor')), "the auditor's own login is there");
  assert.ok(logins.some((r) => r.includes('e2e_higashi')), "the liaison's login is there");
});

await scenario('a form posted without its CSRF token is refused and changes nothing', async (page) => {
  await login(page, 'e2e_auditor');
  // Take the token out of the logout form, as a forged form would lack it, and send it.
  await page.evaluate(() => document.querySelector('form[action="/logout"] input[name=csrf]').remove());
  const [response] = await Promise.all([page.waitForNavigation(), page.click('#logout')]);
  assert.equal(response.status(), 403);
  assert.match(await page.textContent('#message'), /トークン/);
  await page.screenshot({ path: path.join(shots, '07-csrf-refused.png'), fullPage: true });
  const again = await page.goto(`${base}/audit`);
  assert.equal(again.status(), 200, 'still signed in');
  assert.equal(new URL(page.url()).pathname, '/audit');
});

await scenario("a notice's action form without its CSRF token records nothing", async (page) => {
  await login(page, 'e2e_higashi');
  await page.goto(`${base}/notices/${noticeId}`);
  const before = await page.locator('#notice-history tbody tr').count();
  await page.evaluate(() => document.querySelector('#action-form input[name=csrf]').remove());
  await page.fill('#action-form textarea[name=note]', '偽の記録');
  const [response] = await Promise.all([page.waitForNavigation(), page.click('#action-submit')]);
  assert.equal(response.status(), 403);
  await page.goto(`${base}/notices/${noticeId}`);
  assert.equal(await page.locator('#notice-history tbody tr').count(), before);
  assert.ok(!(await page.textContent('#notice-history')).includes('偽の記録'));
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
  await page.screenshot({ path: path.join(shots, '08-logged-out.png'), fullPage: true });
});

await browser.close();
console.log(failed === 0 ? 'all browser scenarios passed' : `${failed} browser scenario(s) failed`);
process.exit(failed === 0 ? 0 : 1);
