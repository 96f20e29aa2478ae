// Issue 15, acceptance 2 (the rotation's part; the freeze's is in
// freeze.test.mjs): the org admin runs a crisis rotation and follows its
// progress, prints a manager's page to PDF with Chromium's print, and a
// person signs in with the start code from that page and chooses a
// password (axe, 0 serious or critical, on every page).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useDemo, signIn, assertAccessible, shot, shots, closePage } from './harness.mjs';

const erik = 'erik.larsson@exempelkommun.se';
const sara = 'sara.lind@exempelkommun.se';
const env = useDemo({ before, after });

test('an org admin rotates everyone and a person signs in with the printed start code', async () => {
  const { base, logins } = env.demo;
  const adminCtx = await env.browser.newContext({ locale: 'sv-SE' });
  const admin = await adminCtx.newPage();
  await signIn(admin, base, sara, logins[sara]);
  await admin.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await admin.getByRole('link', { name: 'Byt alla lösenord' }).first().click();
  await admin.getByRole('heading', { level: 1, name: 'Byt alla lösenord' }).waitFor();
  await assertAccessible(admin, 'crisis rotation page');

  // The dry run first: who, and how each is reached.
  await admin.getByLabel('Grupp').selectOption('');
  await admin.getByRole('button', { name: 'Visa vilka som berörs' }).click();
  await admin.getByRole('heading', { level: 2, name: 'Så här blir det' }).waitFor();
  assert.match(await admin.textContent('main'), /2\s*personer/);
  await admin.getByText('Visa personerna').click();
  await assertAccessible(admin, 'rotation plan');
  await shot(admin, '80-rotation-plan');

  await admin.getByLabel('Jag förstår att allas lösenord och inloggningar slutar fungera nu').check();
  await admin.getByRole('button', { name: 'Byt allas lösenord nu' }).click();
  await admin.getByRole('heading', { level: 1, name: 'Lösenordsbyte' }).waitFor();
  // The page follows the work by itself until every code is issued.
  await admin.getByText('Alla har fått en startkod.').waitFor({ timeout: 30_000 });
  const progress = admin.locator('progress');
  assert.equal(await progress.getAttribute('value'), await progress.getAttribute('max'));
  await assertAccessible(admin, 'rotation progress and report');
  await shot(admin, '81-rotation-report');

  // Erik's manager is Sara: her list, printed through Chromium to PDF.
  const listLink = admin.getByRole('link', { name: /Chef: Sara Lind/ });
  const href = await listLink.getAttribute('href');
  const printPage = await adminCtx.newPage();
  await printPage.goto(`${base}${href}`);
  await printPage.getByRole('heading', { level: 1, name: 'Nytt lösenord för Erik Larsson' }).waitFor();
  await assertAccessible(printPage, 'manager list (print page)');
  const pageText = await printPage.textContent('body');
  const code = (await printPage.locator('.code').first().textContent()).trim();
  assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.doesNotMatch(pageText, /Anna Andersson/, 'only the manager\'s people');
  const pdfPath = join(shots, '82-manager-list.pdf');
  await printPage.emulateMedia({ media: 'print' });
  await printPage.pdf({ path: pdfPath, format: 'A4' });
  const pdf = readFileSync(pdfPath, 'latin1');
  assert.ok(pdf.startsWith('%PDF'), 'a PDF was printed');
  assert.equal((pdf.match(/\/Type\s*\/Page\b/g) || []).length, 1, 'one person, one page');
  await shot(printPage, '82-manager-list');
  await closePage(printPage);

  // Erik signs in with the code as printed (typed in lower case) and
  // chooses his own password.
  const personCtx = await env.browser.newContext({ locale: 'sv-SE' });
  const person = await personCtx.newPage();
  await signIn(person, base, erik, logins[erik]);
  await person.getByText('Fel användarnamn eller lösenord').first().waitFor();
  await signIn(person, base, erik, code.toLowerCase());
  await person.getByRole('heading', { level: 1, name: 'Byt lösenord' }).waitFor();
  assert.match(await person.textContent('main'), /Du har loggat in med din startkod/);
  assert.equal(await person.getByLabel('Nuvarande lösenord').count(), 0, 'no current password to give');
  await assertAccessible(person, 'choosing a password after a start code');
  await shot(person, '83-start-code-new-password');
  const chosen = 'cyklar längs ån varje morgon i december';
  await person.getByLabel('Nytt lösenord', { exact: true }).fill(chosen);
  await person.getByLabel('Upprepa det nya lösenordet').fill(chosen);
  await person.getByRole('button', { name: 'Byt lösenord' }).click();
  await person.getByRole('status').filter({ hasText: /lösenord/i }).first().waitFor();
  await assertAccessible(person, 'password chosen');

  // The report counts him.
  await admin.reload();
  assert.match(await admin.textContent('main'), /Har loggat in med startkoden: 1/);
  await closePage(person);
  await personCtx.close();
  await closePage(admin);
  await adminCtx.close();
});
