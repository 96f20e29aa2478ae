// The portal with access rules (issue 4): a service that needs a stronger
// sign-in is shown closed with the reason, and a step-up with the
// authenticator app opens it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { useDemo, signIn, assertAccessible, shot, closePage } from './harness.mjs';

const user = 'anna.andersson@exempelkommun.se';
const env = useDemo({ before, after });

function totp(secret, offset = 0) {
  const now = Math.floor(Date.now() / 1000) + offset;
  return execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${now}`]).toString().trim();
}

test('closed services say why, and a step-up opens the one that needs an app', async () => {
  const page = await env.browser.context.newPage();
  await signIn(page, env.demo.base, user, env.demo.logins[user]);
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();

  // Signed in with a password only: pay slips are closed, and say why.
  const payslips = page.locator('li.service', { hasText: 'Lönebesked' });
  await payslips.getByText('Stängd just nu').waitFor();
  assert.ok(await payslips.getByText('Kräver inloggning med autentiseringsapp eller passkey.').isVisible());
  assert.equal(await payslips.getByRole('link').count(), 0, 'a closed service is not a link');
  assert.ok(await page.getByRole('link', { name: 'Webbmejl' }).isVisible(), 'open services are links');
  await assertAccessible(page, 'portal with closed services');
  await shot(page, '50-portal-closed');

  // Add an authenticator app (inside the network, just signed in).
  await page.getByRole('link', { name: 'Mina inställningar' }).click();
  await page.getByRole('button', { name: 'Lägg till autentiseringsapp' }).click();
  const secret = (await page.locator('#secret').textContent()).replaceAll(' ', '');
  await page.getByLabel('Namn').fill('Jobbtelefonen');
  await page.getByLabel('Engångskod (6 siffror)').fill(totp(secret));
  await page.getByRole('button', { name: 'Lägg till', exact: true }).click();
  await page.getByText('Inloggningsmetoden är tillagd').waitFor();

  // Step up from the portal.
  await page.getByRole('link', { name: 'Mina tjänster' }).click();
  await page.getByRole('button', { name: 'Logga in med en starkare metod' }).click();
  await page.getByRole('heading', { level: 1, name: 'Bekräfta att det är du' }).waitFor();
  await page.getByLabel('Engångskod (6 siffror)').fill(totp(secret, 30));
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  assert.ok(await page.getByRole('link', { name: 'Lönebesked' }).isVisible(), 'open after the step-up');
  assert.equal(await page.getByRole('button', { name: 'Logga in med en starkare metod' }).count(), 0);
  await assertAccessible(page, 'portal after step-up');
  await shot(page, '51-portal-after-step-up');
  await closePage(page);
});
