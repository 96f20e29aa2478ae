// Issue 15, acceptance 2 (the freeze's part): the org admin freezes
// changes; a signed-in person sees the banner, and a blocked change
// explains itself (axe, 0 serious or critical); two admins lift it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, signIn, assertAccessible, shot, closePage } from './harness.mjs';

const anna = 'anna.andersson@exempelkommun.se';
const sara = 'sara.lind@exempelkommun.se';
const env = useDemo({ before, after });

test('a freeze shows a banner and a blocked change explains itself', async () => {
  const { base, logins } = env.demo;
  const adminCtx = await env.browser.newContext({ locale: 'sv-SE' });
  const admin = await adminCtx.newPage();
  await signIn(admin, base, sara, logins[sara]);
  await admin.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await admin.getByRole('link', { name: 'Ändringsfrys' }).first().click();
  await admin.getByRole('heading', { level: 1, name: 'Ändringsfrys' }).waitFor();
  await assertAccessible(admin, 'freeze page');
  await admin.getByLabel('Anledning').fill('Cyberangrepp, inga ändringar tills vidare');
  await admin.getByRole('button', { name: 'Frys ändringar nu' }).click();
  await admin.getByText('Ändringar är frysta.').waitFor();
  assert.ok(await admin.locator('.freeze-banner').isVisible());
  await assertAccessible(admin, 'freeze page, frozen');
  await shot(admin, '70-freeze-declared');

  const personCtx = await env.browser.newContext({ locale: 'sv-SE' });
  const person = await personCtx.newPage();
  await signIn(person, base, anna, logins[anna]);
  await person.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  const banner = person.locator('.freeze-banner');
  assert.match(await banner.textContent(), /Cyberangrepp, inga ändringar tills vidare/);
  await assertAccessible(person, 'portal with the freeze banner');
  await shot(person, '71-freeze-banner');
  await person.goto(`${base}/settings`);
  await person.getByRole('button', { name: 'Lägg till autentiseringsapp' }).click();
  await person.getByRole('heading', { level: 1, name: 'Ändringar är frysta' }).waitFor();
  const text = await person.textContent('body');
  assert.match(text, /Ändringar är frysta i organisationen/);
  assert.match(text, /Cyberangrepp, inga ändringar tills vidare/);
  assert.match(text, /Changes are frozen/);
  await assertAccessible(person, 'a change refused by the freeze');
  await shot(person, '72-freeze-refused');

  // Lifting: the proposer cannot approve alone.
  await admin.getByRole('button', { name: 'Föreslå att frysningen hävs' }).click();
  await admin.getByText('En annan administratör behöver godkänna.').first().waitFor();
  assert.equal(await admin.getByRole('button', { name: 'Godkänn och häv frysningen' }).count(), 0);
  await closePage(person);
  await personCtx.close();
  await closePage(admin);
  await adminCtx.close();
});
