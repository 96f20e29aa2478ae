// Codes by e-mail in a real browser, against the demo, whose mail server
// is a folder of .eml files (the Rust tests use a real SMTP server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn, assertAccessible, shot, closePage, emailCode } from './harness.mjs';

const user = 'erik.larsson@exempelkommun.se';
const seen = new Set();

const env = useDemo({ before, after });

const signInAs = (page, password) => signIn(page, env.demo.base, user, password ?? env.demo.logins[user]);

test('register an address for codes, then sign in from outside with an e-mailed code', async () => {
  const page = await env.browser.context.newPage();
  await signInAs(page);
  await page.getByRole('link', { name: 'Mina inställningar' }).click();
  await page.getByLabel('E-postadress').fill('erik.privat@example.se');
  await page.getByRole('button', { name: 'Skicka bekräftelsekod' }).last().click();
  await page.getByRole('heading', { level: 1, name: 'Bekräfta e-postadressen' }).waitFor();
  await assertAccessible(page, 'confirm address');
  await page.getByLabel('Koden du fick').fill(await emailCode(env.demo.outbox, 'erik.privat@example.se', seen));
  await page.getByRole('button', { name: 'Bekräfta' }).click();
  await page.getByText('Inloggningsmetoden är tillagd').waitFor();
  await page.getByRole('button', { name: 'Logga ut' }).click();

  await env.browser.context.setExtraHTTPHeaders({ 'X-Forwarded-For': '203.0.113.7' });
  await signInAs(page);
  await page.getByRole('button', { name: 'Skicka e-post till e…t@example.se' }).click();
  await page.getByText('Vi har skickat en kod till e…t@example.se').waitFor();
  await assertAccessible(page, 'code sent');
  await shot(page, '30-email-code');
  await page.getByLabel('Koden du fick').fill(await emailCode(env.demo.outbox, 'erik.privat@example.se', seen));
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  assert.ok((await page.locator('.service h3').allInnerTexts()).includes('Lärplattformen'));
  await closePage(page);
});
