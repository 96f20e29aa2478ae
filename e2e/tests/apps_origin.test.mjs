// Issue 10 H2 (SECURITY.md B1, B6): an app Portvakt publishes by path runs
// on the apps origin (apps.localhost), never on the portal's. An app that
// misbehaves on purpose — its script reads portal pages, posts a portal
// form, sets Portvakt's cookies; its answers carry Set-Cookie for them —
// gets nowhere, while the same script on the portal's own origin would
// read the page (the control that shows the test can see a leak).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { startDemo, startBrowser, signIn, closePage } from './harness.mjs';

const user = 'sara.lind@exempelkommun.se'; // servicedesk and org admin: the most to steal
const env = { demo: undefined, browser: undefined, app: undefined };

/** The misbehaving app: every answer tries to set Portvakt's cookies. */
function evilApp(portal) {
  const script = `
    (async () => {
      const r = {};
      const read = async (url, opts) => {
        try {
          const x = await fetch(url, opts);
          return 'READ ' + x.status + ' ' + (await x.text()).includes('name="csrf"');
        } catch (e) { return 'blocked'; }
      };
      r.adminUsers = await read(${JSON.stringify(portal)} + '/admin/users', { credentials: 'include' });
      r.portal = await read(${JSON.stringify(portal)} + '/', { credentials: 'include' });
      r.sameOriginAdmin = await read('/admin/users', { credentials: 'include' });
      try {
        await fetch(${JSON.stringify(portal)} + '/logout', {
          method: 'POST', mode: 'no-cors', credentials: 'include',
          headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=guess',
        });
        r.post = 'sent';
      } catch (e) { r.post = 'blocked'; }
      const f = document.createElement('form');
      f.method = 'post'; f.action = ${JSON.stringify(portal)} + '/logout'; f.target = 'sink';
      f.innerHTML = '<input name="csrf" value="guess">';
      document.body.append(f);
      f.submit();
      await new Promise((ok) => setTimeout(ok, 1000));
      for (const c of ['portvakt=from-script; path=/', 'portvakt-csrf=from-script; path=/',
        'portvakt=from-script; path=/; domain=localhost', 'portvakt-apps=from-script; path=/']) {
        document.cookie = c;
      }
      document.getElementById('out').textContent = JSON.stringify(r);
    })();`;
  return createServer((req, res) => {
    res.setHeader('set-cookie', [
      'portvakt=from-the-app; Path=/',
      'portvakt-csrf=from-the-app; Path=/',
      '__Host-portvakt-csrf=from-the-app; Path=/; Secure',
      'portvakt-apps=from-the-app; Path=/',
      'appsession=1; Path=/',
    ]);
    if (req.url.startsWith('/evil.js')) {
      res.setHeader('content-type', 'text/javascript');
      res.end(script);
      return;
    }
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><html lang="sv"><title>Webbmejl</title><iframe name="sink"></iframe>'
      + '<pre id="out">running</pre><script src="evil.js"></script></html>');
  });
}

before(async () => {
  env.demo = await startDemo({
    env: (port) => ({
      PORTVAKT_PROXY__APPS_ORIGIN: `http://apps.localhost:${port}`,
      PORTVAKT_PROXY__PORTAL_URL: `http://localhost:${port}`,
    }),
  });
  const portal = `http://localhost:${env.demo.port}`;
  env.app = evilApp(portal);
  await new Promise((ok) => env.app.listen(0, '127.0.0.1', ok));
  // Publish the mail app by path, its tile pointing where the docs say.
  execFileSync('python3', ['-c', `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE services SET upstream = ?, url = ? WHERE slug = 'webbmejl'", (sys.argv[2], sys.argv[3]))
db.commit()
`, env.demo.database, `http://127.0.0.1:${env.app.address().port}`, `${portal}/apps/webbmejl/`]);
  env.browser = await startBrowser();
});

after(async () => {
  await env.browser?.close();
  await env.demo?.stop();
  env.app?.close();
});

test("a published app's script cannot read or post portal pages, nor set Portvakt's cookies (H2, B1, B6)", async () => {
  const portal = `http://localhost:${env.demo.port}`;
  const apps = `http://apps.localhost:${env.demo.port}`;
  const context = await env.browser.newContext();
  const page = await context.newPage();
  await signIn(page, portal, user, env.demo.logins[user]);
  await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  const before = await context.cookies(portal);
  const session = before.find((c) => c.name === 'portvakt');
  assert.ok(session, 'signed in');

  // Control: a script on the portal's own origin (where apps ran before,
  // without the portal's CSP; here the CSP is bypassed to stand for that)
  // reads an admin page with its CSRF token.
  const open = await env.browser.newContext({ bypassCSP: true });
  const same = await open.newPage();
  await signIn(same, portal, user, env.demo.logins[user]);
  await same.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  const control = await same.evaluate(async () => {
    const x = await fetch('/admin/users', { credentials: 'include' });
    return x.status + ' ' + (await x.text()).includes('name="csrf"');
  });
  assert.equal(control, '200 true', 'the control reads what the app must not');
  await closePage(same);
  await open.close();

  // The tile opens the app on the apps origin, handed over by a ticket.
  const tile = page.getByRole('link', { name: 'Webbmejl' });
  assert.equal(await tile.getAttribute('href'), `${apps}/apps/webbmejl/`);
  await tile.click();
  await page.waitForFunction(() => document.getElementById('out')?.textContent !== 'running', null,
    { timeout: 20_000 });
  assert.equal(new URL(page.url()).origin, apps);
  const r = JSON.parse(await page.locator('#out').textContent());
  assert.equal(r.adminUsers, 'blocked', 'cannot read /admin/users');
  assert.equal(r.portal, 'blocked', 'cannot read the portal page');
  assert.equal(r.sameOriginAdmin, 'READ 404 false', 'the apps origin serves nothing of the portal');

  // Portvakt's cookies: none set by the app or its script, on either origin.
  const jar = await context.cookies([portal, apps]);
  const tainted = jar.filter((c) => c.value.startsWith('from-') && /portvakt/i.test(c.name)
    && c.domain !== 'apps.localhost');
  assert.deepEqual(tainted, [], 'no Portvakt cookie set for the portal');
  assert.equal(jar.find((c) => c.name === 'portvakt' && c.domain === 'localhost')?.value, session.value);
  const link = jar.find((c) => c.name === 'portvakt-apps' && c.domain === 'apps.localhost');
  assert.ok(link && !link.value.startsWith('from-'), 'the apps origin keeps its own link cookie');
  assert.ok(link.httpOnly, 'out of scripts’ reach');
  assert.ok(!jar.some((c) => c.value === 'from-the-app'), 'no upstream Set-Cookie for our names');
  assert.ok(jar.some((c) => c.name === 'appsession'), "the app's own cookie is fine");

  // The posted forms changed nothing: still signed in at the portal.
  const check = await context.newPage();
  await check.goto(`${portal}/`);
  await check.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
  await closePage(check);
  await closePage(page);
  await context.close();
});
