// The public status page (issue 5, first part): readable without signing
// in and without JavaScript, with an incident opened from the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useDemo, assertAccessible, shot, closePage, bounded, signIn } from './harness.mjs';

const env = useDemo({ before, after });

test('the status page shows an incident, the alternatives, and works without JavaScript', async () => {
  const page = await env.browser.context.newPage();
  await page.goto(`${env.demo.base}/status`);
  await page.getByRole('heading', { level: 1, name: 'Driftinformation – Exempelkommun' }).waitFor();
  assert.ok(await page.getByText('Alla tjänster fungerar.').isVisible());
  await assertAccessible(page, 'status page, all well');

  execFileSync(env.demo.bin, ['status', 'open', '--config', env.demo.config, '--org', 'exempelkommun',
    '--title', 'Frånvaroanmälan per telefon fungerar inte',
    '--component', 'franvaro=major_outage', '--component', 'larplattform=degraded',
    '--body', 'Vi undersöker felet.\nAnmäl frånvaro i appen så länge.']);
  await page.reload();
  await page.getByRole('heading', { level: 2, name: 'Pågående störningar' }).waitFor();
  assert.ok(await page.getByText('Anmäl frånvaro via webben eller appen.').isVisible());
  await assertAccessible(page, 'status page with an incident');
  await shot(page, '60-status-incident');
  await closePage(page);

  const nojs = await env.browser.newContext({ javaScript: false });
  try {
    const p = await nojs.newPage();
    await p.goto(`${env.demo.base}/status`);
    await p.getByRole('heading', { level: 2, name: 'Pågående störningar' }).waitFor();
    await p.getByRole('button', { name: 'In English' }).click();
    await p.getByRole('heading', { level: 1, name: 'Service status – Exempelkommun' }).waitFor();
    assert.ok(await p.getByText('Major outage', { exact: true }).isVisible());
    await shot(p, '61-status-en-nojs');
  } finally {
    await bounded(nojs.close());
  }
});

test('the static copy reads the same from a plain static server, without JavaScript', async () => {
  const out = mkdtempSync(join(tmpdir(), 'portvakt-status-copy-'));
  execFileSync(env.demo.bin, ['status', 'export', '--config', env.demo.config, '--org', 'exempelkommun', '--out', out]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', out],
    { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/index.html`;
  const nojs = await env.browser.newContext({ javaScript: false });
  try {
    // Without JavaScript: everything is there.
    const plain = await nojs.newPage();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try { await plain.goto(url); break; } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await plain.getByRole('heading', { level: 1, name: 'Driftinformation – Exempelkommun' }).waitFor();
    assert.ok(await plain.getByText('Frånvaroanmälan per telefon fungerar inte').first().isVisible());
    assert.ok(await plain.getByText(/Senast uppdaterad/).isVisible());
    await plain.getByRole('link', { name: 'In English' }).click();
    await plain.getByRole('heading', { level: 1, name: 'Service status – Exempelkommun' }).waitFor();
    await shot(plain, '63-status-static-copy-en-nojs');

    // axe needs JavaScript to run; the page itself does not.
    const page = await env.browser.context.newPage();
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: 'Driftinformation – Exempelkommun' }).waitFor();
    await assertAccessible(page, 'static copy');
    await shot(page, '62-status-static-copy');
    await page.goto(`http://127.0.0.1:${port}/en/index.html`);
    await assertAccessible(page, 'static copy in English');
    // The self-check travels with the copy, for when Portvakt is down.
    await page.goto(`http://127.0.0.1:${port}/index.html`);
    await page.getByRole('link', { name: 'Är det mitt nät eller tjänsten?' }).click();
    await page.locator('#check-answer').filter({ hasText: /./ }).waitFor();
    await assertAccessible(page, 'self-check in the copy');
    await shot(page, '66-selfcheck-copy');
    await closePage(page);
  } finally {
    await bounded(nojs.close());
    server.kill();
    rmSync(out, { recursive: true, force: true });
  }
});

test('a status editor publishes from a template and resolves it', async () => {
  const page = await env.browser.context.newPage();
  const user = 'sara.lind@exempelkommun.se';
  await page.goto(`${env.demo.base}/login`);
  await page.getByLabel('Användarnamn').fill(user);
  await page.getByLabel('Lösenord').fill(env.demo.logins[user]);
  await page.getByRole('button', { name: 'Logga in', exact: true }).click();
  await page.getByRole('link', { name: 'Driftinformation' }).click();
  await page.getByRole('heading', { level: 1, name: 'Driftinformation – redigera' }).waitFor();
  await page.getByRole('link', { name: 'Planerat underhåll' }).click();
  const form = page.getByRole('region', { name: 'Ny störning eller planerat underhåll' });
  await form.getByLabel('Rubrik (svenska)').fill('Planerat underhåll av e-posten');
  await form.getByLabel('E-post', { exact: true }).selectOption('maintenance');
  await form.getByLabel('Text (svenska)', { exact: true }).fill('E-posten är stängd för underhåll i kväll 20–22. Ring kontaktcenter vid akuta ärenden.');
  await assertAccessible(page, 'status editor');
  await shot(page, '64-status-editor');
  // The English fields still hold the template's gaps: refused at the field, nothing lost.
  await form.getByRole('button', { name: 'Publicera', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Fyll i mallens luckor' }).waitFor();
  assert.equal(await form.getByLabel('Rubrik (svenska)').inputValue(), 'Planerat underhåll av e-posten');
  assert.equal(await form.getByLabel('E-post', { exact: true }).inputValue(), 'maintenance');
  assert.equal(await form.getByLabel('Rubrik på engelska (frivilligt)').getAttribute('aria-invalid'), 'true');
  await assertAccessible(page, 'status editor, template gaps refused');
  await form.getByLabel('Rubrik på engelska (frivilligt)').fill('Planned maintenance of e-mail');
  await form.getByLabel('Text på engelska (frivilligt)').fill('E-mail is closed for maintenance tonight 20–22.');
  await form.getByRole('button', { name: 'Publicera', exact: true }).click();
  await page.getByText('Publicerat.').waitFor();
  const ours = page.locator('article.incident', { hasText: 'Planerat underhåll av e-posten' });
  assert.equal(await ours.getByLabel('Läge').inputValue(), 'investigating', 'the incident\'s own phase');
  // A correction of the title, on the record.
  await ours.getByText('Rätta rubrik eller berörda tjänster').click();
  await ours.getByLabel('Rubrik (svenska)').fill('Planerat underhåll av e-posten i kväll');
  await ours.getByRole('button', { name: 'Publicera rättelsen' }).click();
  await page.getByText('Rättelsen är publicerad.').waitFor();
  await ours.getByLabel('Läge').selectOption('resolved');
  await ours.getByLabel('Text (svenska)').fill('Underhållet är klart.');
  await ours.getByRole('button', { name: 'Publicera uppdatering' }).click();
  await page.getByText('Uppdateringen är publicerad.').waitFor();
  await page.goto(`${env.demo.base}/status`);
  assert.ok(await page.getByText('Underhållet är klart.').isVisible());
  assert.ok(await page.getByText('Rubriken ändrad till ”Planerat underhåll av e-posten i kväll”.').isVisible(),
    'the whole history of a resolved incident');
  assert.match(await page.locator('article.incident', { hasText: 'Underhållet är klart.' }).locator('.meta').first().innerText(),
    /^Åtgärdat (kl\. \d\d:\d\d|den \d+ \S+ kl\. \d\d:\d\d) · pågick /);
  await page.getByRole('button', { name: 'Logga ut' }).count();
  await closePage(page);
});

// 90 days of probe figures as the server writes them (one row per component
// and day), and E-post watched by a probe that really fails (nothing listens
// on 127.0.0.1:9) and is already known to be down.
const SEED = `
import sqlite3, sys, datetime, json
from zoneinfo import ZoneInfo
db = sqlite3.connect(sys.argv[1])
(oid,) = db.execute("SELECT id FROM organisations WHERE slug = 'exempelkommun'").fetchone()
today = datetime.datetime.now(ZoneInfo("Europe/Stockholm")).date()
for comp, bad in (("larplattform", {3: 40, 17: 500, 50: 2000}), ("e-post", {1: 2880, 30: 10})):
    for back in range(90):
        day = (today - datetime.timedelta(days=back)).isoformat()
        db.execute("INSERT INTO probe_days VALUES (?, ?, ?, 2880, ?) ON CONFLICT DO NOTHING",
                   (oid, comp, day, bad.get(back, 0)))
spec = {"kind": "tcp", "address": "127.0.0.1:9", "interval_s": 30, "timeout_s": 5, "failures": 3,
        "recoveries": 2, "impact": "partial_outage", "ca_file": None}
db.execute("INSERT INTO status_probes VALUES (?, 'e-post-imap', 'e-post', ?, 9)", (oid, json.dumps(spec)))
db.execute("INSERT INTO probe_states VALUES (?, 'e-post-imap', 'e-post', 1, strftime('%s','now') - 600, "
           "strftime('%s','now'), 'connection refused', 'partial_outage', 0)", (oid,))
# The draft the runner opened when the probe crossed its threshold.
db.execute("INSERT INTO incidents (id, organisation_id, title, title_en, maintenance, phase, created_at, "
           "resolved_at, draft) VALUES ('inc_e2edraft', ?, 'Fel i E-post', 'Problem with E-post', 0, "
           "'investigating', strftime('%s','now') - 600, NULL, 1)", (oid,))
db.execute("INSERT INTO incident_components VALUES ('inc_e2edraft', ?, 'e-post', 'partial_outage')", (oid,))
db.execute("INSERT INTO incident_updates (id, incident_id, organisation_id, at, phase, body, body_en, seq) "
           "VALUES ('upd_e2edraft', 'inc_e2edraft', ?, strftime('%s','now') - 600, 'investigating', "
           "'Vi undersöker ett fel i E-post. Vi återkommer med mer information.', '', 0)", (oid,))
db.commit()
`;

test('probes: the uptime bars and a component the probes see down', async () => {
  const db = readFileSync(env.demo.config, 'utf8').match(/database_url = "sqlite:\/\/([^"?]+)/)[1];
  execFileSync('python3', ['-c', SEED, db]);
  const page = await env.browser.context.newPage();
  await page.goto(`${env.demo.base}/status`);
  await page.getByRole('heading', { level: 1, name: 'Driftinformation – Exempelkommun' }).waitFor();
  const mail = page.locator('li.component').filter({ has: page.getByText('E-post', { exact: true }) });
  assert.match(await mail.innerText(), /Delvis avbrott \(upptäckt av automatisk kontroll\)/);
  assert.match(await mail.innerText(), /Lyckade automatiska kontroller de senaste 90 dagarna: 98,8\d\u00a0%/);
  const lar = page.locator('li.component').filter({ has: page.getByText('Lärplattform', { exact: true }) });
  await lar.getByText(/Dagar med störningar \(3\)/).click();
  assert.ok(await lar.getByText(/: 82,63\u00a0%/).isVisible(), 'the worst day listed with its figure');
  assert.equal(await page.locator('.bars').first().getAttribute('aria-hidden'), 'true');
  assert.equal(await page.getByText('Fel i E-post').count(), 0, 'the draft is not public');
  await assertAccessible(page, 'status page with uptime bars');
  await shot(page, '67-status-uptime-bars');
  await closePage(page);

  // The editor sees the draft and the probes, rewrites and confirms it.
  const ctx = await env.browser.newContext();
  try {
    const ed = await ctx.newPage();
    const user = 'sara.lind@exempelkommun.se';
    await ed.goto(`${env.demo.base}/login`);
    await ed.getByLabel('Användarnamn').fill(user);
    await ed.getByLabel('Lösenord').fill(env.demo.logins[user]);
    await ed.getByRole('button', { name: 'Logga in', exact: true }).click();
    await ed.goto(`${env.demo.base}/admin/status`);
    const drafts = ed.getByRole('region', { name: 'Att bekräfta' });
    await drafts.waitFor();
    assert.match(await drafts.innerText(), /E-post \(Delvis avbrott\)/);
    const checks = ed.getByRole('region', { name: 'Automatiska kontroller' });
    assert.match(await checks.innerText(), /e-post-imap[\s\S]*Svarar inte sedan[\s\S]*connection refused/);
    await assertAccessible(ed, 'status editor with a draft and the probes');
    await shot(ed, '68-status-editor-draft-probes');
    await drafts.getByLabel('Rubrik (svenska)').fill('E-posten går inte att nå');
    await drafts.getByRole('button', { name: 'Bekräfta och publicera' }).click();
    await ed.getByText('Störningen är publicerad.').waitFor();
    await ed.goto(`${env.demo.base}/status`);
    assert.ok(await ed.getByText('E-posten går inte att nå').first().isVisible());
    await closePage(ed);
  } finally {
    await bounded(ctx.close());
  }
});

test('the self-check says where the fault is likely to be', async () => {
  const page = await env.browser.context.newPage();
  await page.goto(`${env.demo.base}/status`);
  await page.getByRole('link', { name: 'Är det mitt nät eller tjänsten?' }).click();
  await page.getByRole('heading', { level: 1, name: 'Är det mitt nät eller tjänsten?' }).waitFor();
  const answer = page.locator('#check-answer');
  await answer.filter({ hasText: /./ }).waitFor();
  assert.match(await page.locator('#check-portvakt .result').innerText(), /svarar/);
  assert.equal(await page.locator('#check-outside').count(), 0, 'not set up in the demo: left out');
  // The probes see E-post down (seeded above): the fault is ours.
  assert.equal(await page.locator('#check-probes .result').innerText(), 'Svarar inte: E-post');
  assert.match(await answer.innerText(), /automatiska kontroller ser att E-post inte svarar/);
  await assertAccessible(page, 'self-check');
  await shot(page, '65-selfcheck');
  await page.getByRole('link', { name: 'Tillbaka till driftinformationen' }).click();
  await page.getByRole('heading', { level: 1, name: 'Driftinformation – Exempelkommun' }).waitFor();
  await closePage(page);
});

test('the status page, the self-check and the editor fit a phone (390 px)', async () => {
  const ctx = await env.browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    // Everything in <main> stays within the screen, except what scrolls
    // inside its own labelled region (the editor's wide tables).
    const fits = async (what) => {
      const wide = await page.evaluate(() => [...document.querySelectorAll('main *')]
        .filter((el) => !el.parentElement.closest('.table-scroll'))
        .filter((el) => el.getBoundingClientRect().right > 390.5)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${Math.round(el.getBoundingClientRect().right)} px`));
      assert.deepEqual(wide, [], `${what} is wider than the screen`);
    };
    await page.goto(`${env.demo.base}/status`);
    await page.getByRole('heading', { level: 1, name: 'Driftinformation – Exempelkommun' }).waitFor();
    await fits('the status page');
    await page.getByRole('listitem').filter({ hasText: 'alla kontroller lyckades' }).waitFor();
    await assertAccessible(page, 'status page at phone width');
    await shot(page, '69-status-phone');
    await page.goto(`${env.demo.base}/status/check`);
    await page.locator('#check-answer').filter({ hasText: /./ }).waitFor();
    await fits('the self-check');
    const user = 'sara.lind@exempelkommun.se';
    await signIn(page, env.demo.base, user, env.demo.logins[user]);
    await page.goto(`${env.demo.base}/admin/status`);
    await page.getByRole('region', { name: 'Läget för varje kontroll' }).waitFor();
    await fits('the status editor');
    await shot(page, '70-status-editor-phone');
  } finally {
    await bounded(ctx.close());
  }
});
