// SMS codes and the forgotten-password flow in a real browser, against the
// demo, whose SMS "gateway" is a folder of files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn, assertAccessible, shot, closePage, smsCode } from './harness.mjs';

const user = 'anna.andersson@exempelkommun.se';
const seen = new Set();

const env = useDemo({ before, after });

const signInAs = (page, password) => signIn(page, env.demo.base, user, password ?? env.demo.logins[user]);

async function addNumber(page, typed, digits) {
  await page.getByLabel('Mobilnummer').fill(typed);
  await page.getByRole('button', { name: 'Skicka bekräftelsekod' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Bekräfta mobilnumret' }).waitFor();
  await page.getByLabel('Koden du fick').fill(await smsCode(env.demo.outbox, digits, seen));
  await page.getByRole('button', { name: 'Bekräfta' }).click();
  await page.getByText('Inloggningsmetoden är tillagd').waitFor();
}

test('two SMS numbers, choose one at sign-in, then reset a forgotten password by SMS', async () => {
  const page = await env.browser.context.newPage();
  await signInAs(page, env.demo.logins[user]);
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

  await env.browser.context.setExtraHTTPHeaders({ 'X-Forwarded-For': '203.0.113.7' });
  await signInAs(page, env.demo.logins[user]);
  await page.getByRole('button', { name: 'Skicka SMS till +4673…77' }).waitFor();
  await assertAccessible(page, 'choose a number');
  await shot(page, '21-choose-number');
  await page.getByRole('button', { name: 'Skicka SMS till +4673…77' }).click();
  await page.getByText('Vi har skickat en kod till +4673…77').waitFor();
  await page.getByLabel('Koden du fick').fill(await smsCode(env.demo.outbox, '46739998877', seen));
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await page.getByRole('button', { name: 'Logga ut' }).click();

  // Forgotten password: a code to the registered numbers.
  await page.goto(`${env.demo.base}/login`);
  await page.getByRole('link', { name: 'Glömt lösenordet?' }).click();
  await page.getByRole('heading', { level: 1, name: 'Glömt lösenordet' }).waitFor();
  await assertAccessible(page, 'reset page');
  await page.getByLabel('Användarnamn').fill(user);
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await page.getByRole('heading', { level: 1, name: 'Byt lösenord' }).waitFor();
  await assertAccessible(page, 'reset code page');
  await shot(page, '22-reset-code');
  const code = await smsCode(env.demo.outbox, '46701234567', seen);
  const fresh = 'ett nytt lösenord från webbläsartestet';
  await page.getByLabel('Kod', { exact: true }).fill(code);
  await page.getByLabel('Nytt lösenord').fill(fresh);
  await page.getByLabel('Upprepa det nya lösenordet').fill(fresh);
  await page.getByRole('button', { name: 'Byt lösenord' }).click();
  await page.getByText('Ditt lösenord är bytt').waitFor();
  await shot(page, '23-reset-done');
  await env.browser.context.setExtraHTTPHeaders({});
  await signInAs(page, fresh);
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await closePage(page);
});
