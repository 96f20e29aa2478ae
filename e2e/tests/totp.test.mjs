// Authenticator app end to end: register from inside by scanning the QR
// code (decoded with zbarimg from a screenshot), then sign in from
// outside with a code from oathtool.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { useDemo, signIn, assertAccessible, shot, closePage, shots } from './harness.mjs';

const user = 'erik.larsson@exempelkommun.se';

const env = useDemo({ before, after });

function totp(secret, offset = 0) {
  const now = Math.floor(Date.now() / 1000) + offset;
  return execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${now}`]).toString().trim();
}

const signInAs = (page, password) => signIn(page, env.demo.base, user, password ?? env.demo.logins[user]);

test('register an authenticator app from inside, then sign in from outside with it', async () => {
  const inside = await env.browser.context.newPage();
  await signInAs(inside);
  await inside.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await inside.getByRole('link', { name: 'Mina inställningar' }).click();
  await inside.getByRole('button', { name: 'Lägg till autentiseringsapp' }).click();
  await inside.getByRole('heading', { level: 1, name: 'Lägg till autentiseringsapp' }).waitFor();
  await assertAccessible(inside, 'add authenticator page');
  await shot(inside, '10-totp-enrol');

  // What a phone's camera would read: decode the QR code on screen.
  const qrPng = join(shots, 'qr.png');
  await inside.locator('#qr').screenshot({ path: qrPng });
  const decoded = execFileSync('zbarimg', ['--quiet', '--raw', qrPng]).toString().trim();
  const shown = (await inside.locator('#otpauth').textContent()).trim();
  assert.equal(decoded, shown);
  const url = new URL(decoded);
  assert.equal(url.protocol, 'otpauth:');
  assert.equal(url.host, 'totp');
  assert.equal(decodeURIComponent(url.pathname), '/Portvakt Exempelkommun:erik.larsson@exempelkommun.se');
  assert.equal(url.searchParams.get('issuer'), 'Portvakt Exempelkommun');
  const secret = url.searchParams.get('secret');
  assert.equal((await inside.locator('#secret').textContent()).replaceAll(' ', ''), secret);

  await inside.getByLabel('Namn').fill('Jobbtelefonen');
  await inside.getByLabel('Engångskod (6 siffror)').fill(totp(secret));
  await inside.getByRole('button', { name: 'Lägg till', exact: true }).click();
  await inside.getByText('Inloggningsmetoden är tillagd').waitFor();
  assert.ok(await inside.getByRole('cell', { name: 'Jobbtelefonen', exact: true }).isVisible());
  await assertAccessible(inside, 'settings with an app');
  await shot(inside, '11-settings');
  await inside.getByRole('button', { name: 'Logga ut' }).click();
  await closePage(inside);

  // Outside the municipality's network, as the reverse proxy reports it.
  await env.browser.context.setExtraHTTPHeaders({ 'X-Forwarded-For': '203.0.113.7' });
  const page = await env.browser.context.newPage();
  await signInAs(page);
  await page.getByRole('heading', { level: 1, name: 'Bekräfta att det är du' }).waitFor();
  await assertAccessible(page, 'second factor page');
  await page.getByLabel('Engångskod (6 siffror)').fill('000000');
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await page.getByRole('alert').waitFor();
  await assertAccessible(page, 'second factor page with error');
  await shot(page, '12-factor-error');
  // The next step's code: the registration already used the current one.
  await page.getByLabel('Engångskod (6 siffror)').fill(totp(secret, 30));
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await shot(page, '13-portal-after-app');
  await closePage(page);
});
