// Issue 14, acceptance 1 and 4: a stranger signs in from outside; Anna
// sees it under Mina inloggningar and presses "Det här var inte jag"; the
// stranger is out within 2 s; the servicedesk opens the case, sees the
// foreign sign-in on the timeline, uploads a screenshot, ticks the
// checklist, resets for oral hand-over; Anna signs in with the one-time
// password and must choose a new one. The case's export prints to PDF in
// Chromium with the evidence hash matching the uploaded file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useDemo, signIn, assertAccessible, shot, closePage, shots } from './harness.mjs';

const anna = 'anna.andersson@exempelkommun.se';
const sara = 'sara.lind@exempelkommun.se';
const FOREIGN = '198.51.100.23';
const env = useDemo({ before, after });

function totp(secret, offset = 0) {
  const now = Math.floor(Date.now() / 1000) + offset;
  return execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${now}`]).toString().trim();
}

test('this was not me, the intrusion case and the oral hand-over', async () => {
  const { base, logins } = env.demo;
  // Anna, at work: adds an authenticator app.
  const mine = await env.browser.context.newPage();
  await signIn(mine, base, anna, logins[anna]);
  await mine.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await mine.goto(`${base}/settings`);
  await mine.getByRole('button', { name: 'Lägg till autentiseringsapp' }).click();
  const secret = (await mine.locator('#secret').textContent()).replaceAll(' ', '').trim();
  await mine.getByLabel('Namn').fill('Telefonen');
  await mine.getByLabel('Engångskod (6 siffror)').fill(totp(secret));
  await mine.getByRole('button', { name: 'Lägg till', exact: true }).click();
  await mine.getByText('Inloggningsmetoden är tillagd').waitFor();

  // A stranger with her password and a code, from outside, in another browser.
  const away = await env.browser.newContext({
    extraHTTPHeaders: { 'X-Forwarded-For': FOREIGN },
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  });
  const theirs = await away.newPage();
  await signIn(theirs, base, anna, logins[anna]);
  await theirs.getByRole('heading', { level: 1, name: 'Bekräfta att det är du' }).waitFor();
  await theirs.getByLabel('Engångskod (6 siffror)').fill(totp(secret, 30));
  await theirs.getByRole('button', { name: 'Fortsätt' }).click();
  await theirs.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();

  // Anna sees it and says it was not her.
  await mine.goto(`${base}/settings/signins`);
  const row = mine.getByRole('row').filter({ hasText: FOREIGN }).filter({ hasText: 'Inloggad' }).first();
  await row.waitFor();
  assert.match(await row.textContent(), /utanför kommunens nät/);
  await assertAccessible(mine, 'my sign-ins with a foreign one');
  await shot(mine, '60-my-signins-foreign');
  await row.getByRole('link', { name: /Det här var inte jag/ }).click();
  await mine.getByRole('heading', { level: 1, name: 'Det här var inte jag' }).waitFor();
  assert.ok(await mine.getByText('Servicedesk får ett ärende om misstänkt intrång').isVisible());
  await mine.getByRole('button', { name: 'Logga ut alla andra och byt lösenord' }).click();
  const reported = Date.now();
  await mine.waitForURL(/\/password$/);

  // The stranger is out within 2 s.
  let out = false;
  while (Date.now() - reported < 2000) {
    const r = await theirs.goto(`${base}/`);
    if (!/Mina tjänster/.test(await theirs.content()) || r.url().includes('signed-out') || r.url().includes('/login')) {
      out = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(out, 'the stranger was signed out within 2 s');
  assert.match(theirs.url(), /signed-out|login/);
  await closePage(theirs);
  await away.close();

  // The servicedesk opens the case.
  const deskContext = await env.browser.newContext({ locale: 'sv-SE' });
  const desk = await deskContext.newPage();
  await signIn(desk, base, sara, logins[sara]);
  await desk.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await desk.getByRole('link', { name: 'Misstänkt intrång' }).first().click();
  await desk.getByRole('heading', { level: 1, name: 'Misstänkt intrång' }).waitFor();
  await assertAccessible(desk, 'case list');
  await shot(desk, '61-case-list');
  await desk.getByRole('link', { name: 'Ärende 1' }).click();
  await desk.getByRole('heading', { level: 1, name: /Ärende 1: Det här var inte jag/ }).waitFor();
  const caseUrl = desk.url();
  const reportedRow = desk.locator('tr.reported');
  assert.match(await reportedRow.textContent(), new RegExp(FOREIGN.replaceAll('.', '\\.')));
  assert.match(await reportedRow.textContent(), /Firefox på Linux/);
  await assertAccessible(desk, 'case page');
  await shot(desk, '62-case');

  // A screenshot as evidence.
  const evidence = join(shots, '60-my-signins-foreign.png');
  const digest = createHash('sha256').update(readFileSync(evidence)).digest('hex');
  await desk.getByLabel('Ladda upp en fil').setInputFiles(evidence);
  await desk.getByRole('button', { name: 'Ladda upp', exact: true }).click();
  await desk.getByText('Filen är uppladdad.').waitFor();
  assert.ok(await desk.getByText(digest).isVisible(), 'the hash is shown');
  // A page of HTML is refused with a reason.
  const bad = join(shots, 'not-evidence.html');
  writeFileSync(bad, '<!doctype html><script>alert(1)</script>');
  await desk.getByLabel('Ladda upp en fil').setInputFiles(bad);
  await desk.getByRole('button', { name: 'Ladda upp', exact: true }).click();
  await desk.getByRole('alert').filter({ hasText: 'Den filtypen tas inte emot' }).waitFor();

  // The checklist.
  await desk.goto(caseUrl);
  await desk.locator('#step-documented').getByRole('button', { name: /Markera som klart/ }).click();
  await desk.getByText('Checklistan är uppdaterad.').waitFor();
  assert.match(await desk.locator('#step-documented').textContent(), /Klart: sara\.lind@exempelkommun\.se/);

  // Oral hand-over: asked first, then the password shown once.
  await desk.getByRole('button', { name: 'Återställ för muntlig överlämning' }).click();
  await desk.getByRole('heading', { level: 1, name: /Återställ för muntlig överlämning/ }).waitFor();
  await assertAccessible(desk, 'confirmation');
  await shot(desk, '63-confirm-handover');
  await desk.getByRole('button', { name: 'Återställ för muntlig överlämning' }).click();
  await desk.getByRole('heading', { level: 1, name: 'Nytt lösenord för muntlig överlämning' }).waitFor();
  const oneTime = (await desk.locator('#handover-password').textContent()).trim();
  assert.match(oneTime, /^[a-z]+(-[a-z]+){3}-\d\d$/);
  await assertAccessible(desk, 'hand-over page');
  await shot(desk, '64-handover');

  // Anna signs in with it (at work) and must choose a new password.
  const fresh = await env.browser.newContext({ locale: 'sv-SE' });
  const again = await fresh.newPage();
  await signIn(again, base, anna, oneTime);
  await again.waitForURL(/\/password$/);
  await again.getByRole('heading', { level: 1 }).waitFor();
  await shot(again, '65-must-change');
  const newPassword = 'tranorna flyger söderut över havet';
  await again.getByLabel('Nuvarande lösenord').fill(oneTime);
  await again.getByLabel('Nytt lösenord', { exact: true }).fill(newPassword);
  await again.getByLabel('Upprepa det nya lösenordet').fill(newPassword);
  await again.getByRole('button', { name: /Byt lösenord/ }).click();
  await again.getByText('Lösenordet är bytt.').waitFor();
  await again.goto(`${base}/`);
  await again.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await closePage(again);
  await fresh.close();

  // The export prints, with the evidence hash.
  await desk.goto(caseUrl);
  const exportLink = desk.getByRole('link', { name: 'Exportera för utskrift' });
  const href = await exportLink.getAttribute('href');
  const doc = await deskContext.newPage();
  await doc.goto(`${base}${href}`);
  await doc.getByRole('heading', { level: 1, name: /Ärende 1/ }).waitFor();
  const text = await doc.textContent('body');
  assert.ok(text.includes(digest), 'the export lists the evidence hash');
  assert.ok(text.includes(FOREIGN));
  assert.ok(text.includes('Återställde lösenordet för muntlig överlämning'));
  await assertAccessible(doc, 'case export');
  const pdf = await doc.pdf({ format: 'A4' });
  assert.ok(pdf.subarray(0, 5).toString() === '%PDF-' && pdf.length > 10_000, `a PDF (${pdf.length} bytes)`);
  writeFileSync(join(shots, '66-case-export.pdf'), pdf);
  await shot(doc, '66-case-export');
  await closePage(doc);
  await closePage(desk);
  await deskContext.close();
  await closePage(mine);
});
