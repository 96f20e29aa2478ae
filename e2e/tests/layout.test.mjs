// Every page of the recorded route table (`portvakt routes --json`), as the
// role it needs, at phone and desktop widths, in Swedish and English: no
// sideways scrolling (WCAG 2.1 1.4.10 reflow) and no serious axe findings
// (2.2 2.5.8 target size included). A new GET route without a way to reach
// it here fails the test, so the list cannot fall behind the router.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { useDemo, assertAccessible, shot, closePage, bounded, smsCode } from './harness.mjs';

const env = useDemo({ before, after });
const WIDTHS = [[320, 640], [390, 844], [1280, 800]];
const OUTSIDE = '203.0.113.7';
const SARA = 'sara.lind@exempelkommun.se';
const ANNA = 'anna.andersson@exempelkommun.se';
const seen = new Set();

// GET routes that are not pages a person reads.
const NOT_PAGES = (path) =>
  path.startsWith('/static/') || path.startsWith('/favicon') ||
  ['/healthz', '/readyz', '/auth/verify'].includes(path) ||
  // A case's evidence: a download, never shown in the browser.
  path === '/admin/cases/{id}/evidence/{file}';

function getRoutes() {
  const out = execFileSync(env.demo.bin, ['routes', '--json']).toString();
  return JSON.parse(out).filter((r) => r.method === 'GET' && r.surface !== 'api' && !NOT_PAGES(r.path)).map((r) => r.path);
}

/** Checks one page at every width; `url` is reloaded at each. */
async function checkAllWidths(page, url, name, screenshots = false) {
  for (const [width, height] of WIDTHS) {
    await page.setViewportSize({ width, height });
    await page.goto(url);
    const { scroll, inner } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      inner: window.innerWidth,
    }));
    assert.ok(scroll <= inner, `${name} at ${width}px scrolls sideways: ${scroll} > ${inner}`);
    await assertAccessible(page, `${name} at ${width}px`);
    if (screenshots && width === 390) await shot(page, `layout-390-${name.replaceAll('/', '_')}`);
  }
}

/** Signs in whatever the page's language (by the fields' ids). */
async function signInAny(page, user) {
  await page.goto(`${env.demo.base}/login`);
  await page.locator('#username').fill(user);
  await page.locator('#password').fill(env.demo.logins[user]);
  await page.locator('form[action="/login"] button[type=submit]').click();
}

async function signedIn(context, user) {
  const page = await context.newPage();
  await signInAny(page, user);
  await page.waitForURL(`${env.demo.base}/`);
  return page;
}

for (const [lang, locale] of [['sv', 'sv-SE'], ['en', 'en-GB']]) {
  test(`every page fits phones and desktops, ${lang}`, async () => {
    const base = env.demo.base;
    const routes = getRoutes();
    const visited = new Set();
    const visit = async (page, route, url, shots) => {
      await checkAllWidths(page, url, `${lang}${route}`, shots && lang === 'sv');
      visited.add(route);
    };
    const ctx = await env.browser.newContext({ locale });
    try {
      // Public pages.
      const anon = await ctx.newPage();
      for (const r of ['/login', '/signed-out', '/reset', '/status', '/status/check', '/auth/denied']) {
        await visit(anon, r, `${base}${r}`);
      }
      await visit(anon, '/status/{org}', `${base}/status/exempelkommun`);
      // The OpenID pages a person can land on without an app: a request
      // that cannot be answered, and one that has expired.
      await visit(anon, '/oidc/{org}/authorize', `${base}/oidc/exempelkommun/authorize`);
      await visit(anon, '/oidc/{org}/continue/{request}', `${base}/oidc/exempelkommun/continue/${'x'.repeat(43)}`);
      await anon.goto(`${base}/reset`);
      await anon.locator('#username').fill(ANNA);
      await anon.locator('form[action="/reset"] button[type=submit]').click();
      await anon.waitForURL(/\/reset\/code/);
      await visit(anon, '/reset/code', anon.url());
      await closePage(anon);

      // Anna registers a number (the confirmation page), then signs in
      // from outside: the second step.
      const anna = await signedIn(ctx, ANNA);
      await anna.goto(`${base}/settings`);
      const digits = lang === 'sv' ? '46701112233' : '46701112244';
      await anna.locator('#number').fill(`+${digits}`);
      await anna.locator('form[action="/settings/sms"] button[type=submit]').click();
      await anna.waitForURL(/\/settings\/verify\//);
      const verify = anna.url();
      await visit(anna, '/settings/verify/{id}', verify);
      await anna.goto(verify);
      await anna.locator('input[name=code]').fill(await smsCode(env.demo.outbox, digits, seen));
      await anna.locator('form[action^="/settings/verify/"] button[type=submit]').click();
      await anna.waitForURL(/\/settings\?done=added/);
      await closePage(anna);
      const away = await env.browser.newContext({ locale, extraHTTPHeaders: { 'X-Forwarded-For': OUTSIDE } });
      try {
        const page = await away.newPage();
        await signInAny(page, ANNA);
        await page.waitForURL(/\/login\/factor/);
        await visit(page, '/login/factor', `${base}/login/factor`, true);
        await closePage(page);
      } finally {
        await bounded(away.close());
      }
      // The servicedesk user (also org admin and so status editor).
      const saraCtx = await env.browser.newContext({ locale });
      const sara = await signedIn(saraCtx, SARA);
      for (const r of ['/', '/settings', '/settings/signins', '/reauth', '/password', '/admin/users', '/admin/audit']) {
        await visit(sara, r, `${base}${r}`, true);
      }
      await sara.goto(`${base}/settings/signins`);
      const notMe = await sara.locator('a[href$="/not-me"]').first().getAttribute('href');
      await visit(sara, '/settings/signins/{id}/not-me', `${base}${notMe}`, true);
      await sara.goto(`${base}/admin/users`);
      const userLink = await sara.locator('a[href^="/admin/users/"]').first().getAttribute('href');
      await visit(sara, '/admin/users/{id}', `${base}${userLink}`, true);
      await visit(sara, '/admin/cases', `${base}/admin/cases`, true);
      await visit(sara, '/admin/freeze', `${base}/admin/freeze`, true);
      await sara.goto(`${base}/admin/cases`);
      await sara.locator('#accounts').fill(ANNA);
      await sara.locator('form[action="/admin/cases"] button[type=submit]').click();
      await sara.waitForURL(/\/admin\/cases\/case_/);
      const caseUrl = sara.url();
      await visit(sara, '/admin/cases/{id}', caseUrl, true);
      await visit(sara, '/admin/cases/{id}/export', `${caseUrl}/export`, true);
      await sara.goto(`${base}/settings`);
      await sara.locator('form[action="/settings/totp"] button').click();
      await sara.waitForURL(/\/settings\/totp\//);
      await visit(sara, '/settings/totp/{id}', sara.url());
      await visit(sara, '/admin/status', `${base}/admin/status`, true);
      // A crisis rotation of Erik's group only (the test signs in as Anna
      // and Sara): the plan, the progress page, his manager's list, the desk.
      await visit(sara, '/admin/crisis', `${base}/admin/crisis`, true);
      await sara.goto(`${base}/admin/crisis`);
      await sara.locator('#group').selectOption('pedagogisk-personal');
      await sara.locator('form[action="/admin/crisis/plan"] button[type=submit]').click();
      await sara.locator('#confirm').check();
      if (await sara.locator('#replace').count()) await sara.locator('#replace').check();
      await sara.locator('form[action="/admin/crisis/start"] button[type=submit]').click();
      await sara.waitForURL(/\/admin\/crisis\/rot_/);
      const rotUrl = sara.url().split('?')[0];
      for (let i = 0; i < 40 && !(await sara.textContent('main')).match(/Alla har fått|Everyone has/); i++) {
        await new Promise((r) => setTimeout(r, 250));
        await sara.goto(rotUrl);
      }
      await visit(sara, '/admin/crisis/{id}', rotUrl, true);
      await visit(sara, '/admin/crisis/{id}/print', `${rotUrl}/print`, true);
      await visit(sara, '/admin/crisis/{id}/desk', `${rotUrl}/desk?q=erik.larsson%40exempelkommun.se`, true);
      // The breach register (Sara is the demo's data protection officer).
      await visit(sara, '/dpo/breaches', `${base}/dpo/breaches`, true);
      await sara.goto(`${base}/dpo/breaches`);
      await sara.locator('#title').fill('Lärplattformen');
      await sara.locator('form[action="/dpo/breaches"] button[type=submit]').click();
      await sara.waitForURL(/\/dpo\/breaches\/brc_/);
      const brUrl = sara.url().split('?')[0];
      await visit(sara, '/dpo/breaches/{id}', brUrl, true);
      await visit(sara, '/dpo/breaches/{id}/export', `${brUrl}/export`, true);
      await closePage(sara);
      await bounded(saraCtx.close());

    } finally {
      await bounded(ctx.close());
    }
    const missing = routes.filter((r) => !visited.has(r));
    assert.deepEqual(missing, [], 'GET routes this test does not visit yet');
  });
}

test('on a phone the header is a menu that opens without JavaScript', async () => {
  const ctx = await env.browser.newContext({ javaScript: false, locale: 'sv-SE' });
  try {
    const page = await signedIn(ctx, SARA);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${env.demo.base}/settings`);
    const menu = page.locator('details.menu summary');
    assert.ok(await menu.isVisible(), 'the menu button is shown');
    const settings = page.getByRole('link', { name: 'Mina inställningar' });
    assert.equal(await settings.count(), 0, 'links are folded away (only the menu is in the tree)');
    await menu.click();
    await settings.waitFor();
    assert.equal(await settings.getAttribute('aria-current'), 'page');
    assert.ok(await page.getByRole('link', { name: 'Administration' }).isVisible());
    assert.ok(await page.getByRole('button', { name: 'Logga ut' }).isVisible());
    await shot(page, 'layout-390-menu-open');
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.waitForURL(/\/admin\/users/);

    await page.setViewportSize({ width: 1280, height: 800 });
    assert.ok(!(await page.locator('details.menu').isVisible()), 'no menu on a wide screen');
    assert.ok(await page.getByRole('link', { name: 'Mina tjänster' }).isVisible());
    await closePage(page);
  } finally {
    await bounded(ctx.close());
  }
});
