// The public status page (issue 5, first part): readable without signing
// in and without JavaScript, with an incident opened from the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { useDemo, assertAccessible, shot, closePage, bounded } from './harness.mjs';

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
