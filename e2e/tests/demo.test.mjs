// The demo installation in a real browser: sign in, portal, language,
// password page, servicedesk, sign out; axe-core on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, assertAccessible, shot, closePage, bounded } from './harness.mjs';

const env = useDemo({ before, after });

test('demo prints sign-in details for three users', () => {
  assert.equal(Object.keys(env.demo.logins).length, 3, env.demo.output);
  for (const pw of Object.values(env.demo.logins)) assert.ok(pw.length >= 20);
});

test('an employee signs in, reaches the portal and signs out', async () => {
  const page = await env.browser.context.newPage();
  await page.goto(`${env.demo.base}/login`);
  assert.equal(await page.getAttribute('html', 'lang'), 'sv');
  await assertAccessible(page, 'sign-in page');
  await shot(page, '01-login');

  await page.getByLabel('Användarnamn').fill('anna.andersson@exempelkommun.se');
  await page.getByLabel('Lösenord').fill('this is not the password');
  await page.getByRole('button', { name: 'Logga in', exact: true }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /Fel användarnamn eller lösenord/);
  await assertAccessible(page, 'sign-in page with error');
  await shot(page, '02-login-error');

  await page.getByLabel('Lösenord').fill(env.demo.logins['anna.andersson@exempelkommun.se']);
  await page.getByRole('button', { name: 'Logga in', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  const services = await page.locator('.service h3').allInnerTexts();
  // Pay slips are listed, though closed until a stronger sign-in (issue 4).
  assert.ok(services.some((s) => s.startsWith('Lönebesked')), services.join(', '));
  assert.ok(!services.some((s) => s.startsWith('Lärplattformen')));
  await assertAccessible(page, 'portal');
  await shot(page, '03-portal');

  await page.getByRole('button', { name: 'På svenska' }).count().then((n) => assert.equal(n, 0));
  await page.getByRole('button', { name: 'In English' }).click();
  await page.getByRole('heading', { level: 1, name: 'My services' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await assertAccessible(page, 'portal in English');
  await shot(page, '04-portal-en');
  await page.getByRole('button', { name: 'På svenska' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();

  await page.getByRole('link', { name: 'Mina inställningar' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina inställningar' }).waitFor();
  await assertAccessible(page, 'settings page');
  await page.getByRole('main').getByRole('link', { name: 'Byt lösenord' }).click();
  await page.getByRole('heading', { level: 1, name: 'Byt lösenord' }).waitFor();
  await assertAccessible(page, 'password page');
  await shot(page, '05-password');

  await page.getByRole('button', { name: 'Logga ut' }).click();
  await page.getByRole('heading', { level: 1, name: 'Du är utloggad' }).waitFor();
  await assertAccessible(page, 'signed-out page');
  await shot(page, '06-signed-out');
  await page.goto(`${env.demo.base}/`);
  assert.equal(new URL(page.url()).pathname, '/login', 'signed out for real');
  await closePage(page);
});

test('servicedesk sees the users of their organisation', async () => {
  const page = await env.browser.context.newPage();
  await page.goto(`${env.demo.base}/login`);
  await page.getByLabel('Användarnamn').fill('sara.lind@exempelkommun.se');
  await page.getByLabel('Lösenord').fill(env.demo.logins['sara.lind@exempelkommun.se']);
  await page.getByRole('button', { name: 'Logga in', exact: true }).click();
  await page.getByRole('link', { name: 'Administration' }).click();
  await page.getByRole('heading', { level: 1, name: 'Användare' }).waitFor();
  await assertAccessible(page, 'admin users');
  await shot(page, '07-admin-users');
  await page.getByRole('link', { name: 'anna.andersson@exempelkommun.se' }).click();
  await page.getByRole('heading', { level: 1, name: 'Anna Andersson' }).waitFor();
  await assertAccessible(page, 'admin user');
  await shot(page, '08-admin-user');
  await page.getByRole('button', { name: 'Logga ut' }).click();
  await closePage(page);
});

test('sign-in works with JavaScript disabled', async () => {
  const nojs = await env.browser.newContext({ javaScript: false });
  try {
    const page = await nojs.newPage();
    await page.goto(`${env.demo.base}/login`);
    await page.getByLabel('Användarnamn').fill('erik.larsson@exempelkommun.se');
    await page.getByLabel('Lösenord').fill(env.demo.logins['erik.larsson@exempelkommun.se']);
    await page.getByRole('button', { name: 'Logga in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
    assert.ok((await page.locator('.service h3').allInnerTexts()).includes('Lärplattformen'));
  } finally {
    await bounded(nojs.close());
  }
});
