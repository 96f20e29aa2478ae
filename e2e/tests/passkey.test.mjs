// Passkeys end to end in Chromium with a CDP virtual authenticator
// (WebAuthn.addVirtualAuthenticator): register one from inside, sign in
// with it alone from outside (no username, no password), reset a forgotten
// password with it, and use it as the second step after a password.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn, assertAccessible, shot, closePage } from './harness.mjs';

const user = 'anna.andersson@exempelkommun.se';
const env = useDemo({ before, after });

test('register a passkey, sign in with it passwordless, reset the password with it', async () => {
  const base = env.demo.local;
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  // Inside the municipality's network (the demo counts loopback as inside).
  await signIn(page, base, user, env.demo.logins[user]);
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await page.getByRole('link', { name: 'Mina inställningar' }).click();
  await page.getByRole('button', { name: 'Lägg till passkey' }).click();
  await page.getByRole('heading', { level: 1, name: 'Lägg till passkey' }).waitFor();
  await assertAccessible(page, 'add passkey page');
  await shot(page, '40-passkey-register');
  await page.getByLabel('Namn på passkeyn').fill('Jobbdatorn');
  await page.getByRole('button', { name: 'Skapa passkey' }).click();
  await page.getByText('Inloggningsmetoden är tillagd').waitFor();
  assert.ok(await page.getByRole('cell', { name: 'Jobbdatorn', exact: true }).isVisible());
  await assertAccessible(page, 'settings with a passkey');
  await shot(page, '41-settings-passkey');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'discoverable, so no username is needed');
  assert.equal(credentials[0].rpId, 'localhost');
  await page.getByRole('button', { name: 'Logga ut' }).click();

  // From outside, with the passkey alone.
  await context.setExtraHTTPHeaders({ 'X-Forwarded-For': '203.0.113.9' });
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Logga in med passkey' }).click();
  await page.getByRole('heading', { level: 1, name: 'Logga in med passkey' }).waitFor();
  await assertAccessible(page, 'passkey sign-in page');
  await shot(page, '42-passkey-signin');
  await page.getByRole('button', { name: 'Använd passkey' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  assert.ok((await page.textContent('body')).includes('Anna Andersson'));
  await page.getByRole('button', { name: 'Logga ut' }).click();

  // A passkey that cannot verify the user (no PIN, no fingerprint) is
  // refused by the browser; the page says so in plain Swedish.
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Logga in med passkey' }).click();
  await page.getByRole('button', { name: 'Använd passkey' }).click();
  await page.locator('#passkey-failed').waitFor({ state: 'visible' });
  await assertAccessible(page, 'passkey page with browser error');
  await shot(page, '43-passkey-browser-error');
  await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });

  // Forgotten password: reset it with the passkey.
  const newPassword = 'fyra blå cyklar vid sjön';
  await page.goto(`${base}/reset`);
  await page.getByRole('button', { name: 'Byt lösenord med passkey' }).click();
  await page.getByRole('heading', { level: 1, name: 'Byt lösenord med passkey' }).waitFor();
  await assertAccessible(page, 'passkey reset page');
  await shot(page, '44-passkey-reset');
  await page.getByLabel('Nytt lösenord').fill(newPassword);
  await page.getByLabel('Upprepa det nya lösenordet').fill(newPassword);
  await page.getByRole('button', { name: 'Bekräfta med passkey och byt lösenord' }).click();
  await page.waitForURL(/\/signed-out\?reason=reset/);

  // The new password works; from outside the passkey is the second step.
  await signIn(page, base, user, newPassword);
  await page.getByRole('heading', { level: 1, name: 'Bekräfta att det är du' }).waitFor();
  await page.getByRole('button', { name: 'Använd passkey' }).click();
  await page.getByRole('heading', { level: 1, name: 'Bekräfta med passkey' }).waitFor();
  await assertAccessible(page, 'passkey second factor page');
  await page.getByRole('button', { name: 'Använd passkey' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await shot(page, '45-portal-after-passkey');
  await closePage(page);
});
