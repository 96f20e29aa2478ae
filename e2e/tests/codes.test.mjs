// SMS codes and the forgotten-password flow in a real browser, against the
// demo, whose SMS "gateway" is a folder of files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, startBrowser, assertAccessible, shot, closePage, smsCode } from './harness.mjs';

let demo;
let browser;
const user = 'anna.andersson@exempelkommun.se';
const seen = new Set();

before(async () => {
  demo = await startDemo();
  browser = await startBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

async function signIn(page, password) {
  await page.goto(`${demo.base}/login`);
  await page.getByLabel('Användarnamn').fill(user);
  await page.getByLabel('Lösenord').fill(password);
  await page.getByRole('button', { name: 'Logga in' }).click();
}

async function addNumber(page, typed, digits) {
  await page.getByLabel('Mobilnummer').fill(typed);
  await page.getByRole('button', { name: 'Skicka bekräftelsekod' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Bekräfta mobilnumret' }).waitFor();
  await page.getByLabel('Koden du fick').fill(await smsCode(demo.outbox, digits, seen));
  await page.getByRole('button', { name: 'Bekräfta' }).click();
  await page.getByText('Inloggningsmetoden är tillagd').waitFor();
}

test('two SMS numbers, choose one at sign-in, then reset a forgotten password by SMS', async () => {
  const page = await browser.context.newPage();
  await signIn(page, demo.logins[user]);
  await page.getByRole('link', { name: 'Mina inställningar' }).click();
  await page.getByLabel('Mobilnummer').fill('070-ABC 45 67');
  await page.getByRole('button', { name: 'Skicka bekräftelsekod' }).first().click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /siffror/);
  await addNumber(page, '070-123 45 67', '46701234567');
  await addNumber(page, '+46 73 999 88 77', '46739998877');
  await assertAccessible(page, 'settings with numbers');
  await shot(page, '20-settings-numbers');
  await page.getByRole('button', { name: 'Logga ut' }).click();

  await browser.context.setExtraHTTPHeaders({ 'X-Forwarded-For': '203.0.113.7' });
  await signIn(page, demo.logins[user]);
  await page.getByRole('button', { name: 'Skicka SMS till +4673…77' }).waitFor();
  await assertAccessible(page, 'choose a number');
  await shot(page, '21-choose-number');
  await page.getByRole('button', { name: 'Skicka SMS till +4673…77' }).click();
  await page.getByText('Vi har skickat en kod till +4673…77').waitFor();
  await page.getByLabel('Koden du fick').fill(await smsCode(demo.outbox, '46739998877', seen));
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await page.getByRole('button', { name: 'Logga ut' }).click();

  // Forgotten password: a code to the registered numbers.
  await page.goto(`${demo.base}/login`);
  await page.getByRole('link', { name: 'Glömt lösenordet?' }).click();
  await page.getByRole('heading', { level: 1, name: 'Glömt lösenordet' }).waitFor();
  await assertAccessible(page, 'reset page');
  await page.getByLabel('Användarnamn').fill(user);
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await page.getByRole('heading', { level: 1, name: 'Byt lösenord' }).waitFor();
  await assertAccessible(page, 'reset code page');
  await shot(page, '22-reset-code');
  const code = await smsCode(demo.outbox, '46701234567', seen);
  const fresh = 'ett nytt lösenord från webbläsartestet';
  await page.getByLabel('Kod', { exact: true }).fill(code);
  await page.getByLabel('Nytt lösenord').fill(fresh);
  await page.getByLabel('Upprepa det nya lösenordet').fill(fresh);
  await page.getByRole('button', { name: 'Byt lösenord' }).click();
  await page.getByText('Ditt lösenord är bytt').waitFor();
  await shot(page, '23-reset-done');
  await browser.context.setExtraHTTPHeaders({});
  await signIn(page, fresh);
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await closePage(page);
});
