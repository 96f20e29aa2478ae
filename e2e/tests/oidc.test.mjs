// Issue 13 acceptance 1a and 3: an app signs its user in through Portvakt's
// OpenID provider. The app is `openid-client` (npm), which we did not
// write: discovery, the code flow with PKCE and nonce, the ID token
// validated against the JWK Set (also by `jose` directly), userinfo and a
// refresh. Chromium does what the person does: sign in, consent, step up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as client from 'openid-client';
import * as jose from 'jose';
import { useDemo, assertAccessible, shot, closePage, bounded } from './harness.mjs';

const env = useDemo({ before, after });
const ANNA = 'anna.andersson@exempelkommun.se';
const ERIK = 'erik.larsson@exempelkommun.se';
const CALLBACK = 'http://127.0.0.1:8765/callback';

const issuerUrl = () => new URL(`${env.demo.local}/oidc/exempelkommun`);

function totp(secret, offset = 0) {
  const now = Math.floor(Date.now() / 1000) + offset;
  return execFileSync('oathtool', ['--totp', '-b', secret, '-N', `@${now}`]).toString().trim();
}

/** A page whose requests to the app's callback are answered here, as the app would. */
async function appPage(context) {
  const page = await context.newPage();
  const seen = { url: undefined };
  await page.route('http://127.0.0.1:8765/**', (route) => {
    seen.url = route.request().url();
    return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html lang="sv"><title>Appen</title><main><h1>Appen</h1></main></html>' });
  });
  return { page, seen };
}

async function start(config, scope) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  return { url, verifier, nonce, state };
}

async function signInHere(page, user) {
  await page.getByLabel('Användarnamn').fill(user);
  await page.getByLabel('Lösenord').fill(env.demo.logins[user]);
  await page.getByRole('button', { name: 'Logga in', exact: true }).click();
}

test('an app signs Anna in: consent, code + PKCE + nonce, ID token against the JWK Set, userinfo, refresh', async () => {
  const secret = env.demo.output.match(/DEMO-CLIENT exempel-app (\S+)/)[1];
  const issuer = issuerUrl();
  const config = await client.discovery(issuer, 'exempel-app', secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  assert.equal(config.serverMetadata().issuer, issuer.href);
  const ctx = await env.browser.newContext({ locale: 'sv-SE' });
  try {
    const { page, seen } = await appPage(ctx);
    const req = await start(config, 'openid profile email groups');
    await page.goto(req.url.href);
    await signInHere(page, ANNA);
    await page.getByRole('heading', { level: 1, name: 'Vill du logga in i appen?' }).waitFor();
    assert.ok(await page.getByText('Exempelappen').isVisible());
    assert.ok(await page.getByText('din e-postadress').isVisible());
    await assertAccessible(page, 'consent page');
    await shot(page, '40-oidc-consent');
    await page.getByRole('button', { name: 'Tillåt och fortsätt' }).click();
    await page.waitForURL(/127\.0\.0\.1:8765\/callback/);
    assert.ok(seen.url.includes('code='), seen.url);

    const tokens = await client.authorizationCodeGrant(config, new URL(seen.url), {
      pkceCodeVerifier: req.verifier,
      expectedNonce: req.nonce,
      expectedState: req.state,
    });
    const claims = tokens.claims();
    assert.equal(claims.iss, issuer.href);
    assert.equal(claims.email, ANNA);
    assert.equal(claims.name, 'Anna Andersson');
    assert.deepEqual(claims.groups, ['ovrig-personal']);
    assert.deepEqual(claims.amr, ['pwd']);
    // The same ID token, verified by jose against the published keys.
    const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, {
      issuer: issuer.href,
      audience: 'exempel-app',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.ok(payload.exp - payload.iat <= 300);
    const at = await jose.jwtVerify(tokens.access_token, jwks, { issuer: issuer.href, typ: 'at+jwt' });
    assert.equal(at.payload.client_id, 'exempel-app');

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.email, ANNA);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.equal(refreshed.claims().sub, claims.sub);
    // The old refresh token is used up; showing it again ends the grant.
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token));
    await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token));

    // Consent is remembered: the next sign-in goes straight back.
    // (A redirect straight to the app is not routed by Playwright: the
    // request to the app is what the test reads.)
    const again = await start(config, 'openid profile email');
    const [toApp] = await Promise.all([
      page.waitForRequest((r) => r.url().startsWith(CALLBACK)),
      page.goto(again.url.href).catch(() => {}),
    ]);
    assert.ok(new URL(toApp.url()).searchParams.get('code'));
    await closePage(page);
  } finally {
    await bounded(ctx.close());
  }
});

test('an app that needs an authenticator app: Erik steps up with his, then gets in', async () => {
  // The organisation file gains an app with a method rule (as an admin
  // would write it), keeping the sample app.
  const secret = 'stark-app-hemlighet-som-ar-lang-nog-0123456789';
  const hash = `sha256:${createHash('sha256').update(secret).digest('hex')}`;
  const file = join(env.demo.outbox, '..', 'clients.toml');
  writeFileSync(file, `
[[organisation]]
slug = "exempelkommun"
name = "Exempelkommun"
domains = ["exempelkommun.se"]

[[organisation.group]]
slug = "pedagogisk-personal"
name = "Pedagogisk personal"

[[organisation.group]]
slug = "ovrig-personal"
name = "Övrig personal"

[[organisation.client]]
client_id = "exempel-app"
name = "Exempelappen"
redirect_uris = ["${CALLBACK}"]
scopes = ["openid", "profile", "email", "groups"]
groups = ["pedagogisk-personal", "ovrig-personal"]

[[organisation.client]]
client_id = "stark-app"
name = "Lönesystemet"
redirect_uris = ["${CALLBACK}"]
first_party = true
groups = ["pedagogisk-personal", "ovrig-personal"]
methods = ["app", "passkey"]
client_secret_hash = "${hash}"
`);
  execFileSync(env.demo.bin, ['apply', file, '--config', env.demo.config]);
  await new Promise((r) => setTimeout(r, 1200)); // the provider re-reads clients each second

  const ctx = await env.browser.newContext({ locale: 'sv-SE' });
  try {
    const { page, seen } = await appPage(ctx);
    // Erik adds an authenticator app in his settings.
    await page.goto(`${env.demo.local}/login`);
    await signInHere(page, ERIK);
    await page.getByRole('heading', { level: 1, name: 'Mina tjänster' }).waitFor();
    await page.goto(`${env.demo.local}/settings`);
    await page.getByRole('button', { name: 'Lägg till autentiseringsapp' }).click();
    const totpSecret = (await page.locator('#secret').textContent()).replaceAll(' ', '');
    await page.getByLabel('Namn').fill('Telefonen');
    await page.getByLabel('Engångskod (6 siffror)').fill(totp(totpSecret));
    await page.getByRole('button', { name: 'Lägg till', exact: true }).click();
    await page.getByText('Inloggningsmetoden är tillagd').waitFor();

    const config = await client.discovery(issuerUrl(), 'stark-app', secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const req = await start(config, 'openid profile');
    await page.goto(req.url.href);
    // Signed in with a password only: the app's rule asks for more, and
    // the step-up starts only when Erik says so (a form, not the GET).
    await page.getByRole('heading', { level: 1, name: 'Appen kräver en starkare inloggning' }).waitFor();
    await assertAccessible(page, 'the app asks for a stronger sign-in');
    await page.getByRole('button', { name: 'Bekräfta att det är jag' }).click();
    await page.getByRole('heading', { level: 1, name: 'Bekräfta att det är du' }).waitFor();
    assert.ok(await page.getByText('Tjänsten du vill öppna kräver en starkare inloggning').isVisible());
    await assertAccessible(page, 'step-up for an app');
    await shot(page, '41-oidc-step-up');
    await page.getByLabel('Engångskod (6 siffror)').fill(totp(totpSecret, 30));
    await page.getByRole('button', { name: 'Fortsätt' }).click();
    await page.waitForURL(/127\.0\.0\.1:8765\/callback/);
    const tokens = await client.authorizationCodeGrant(config, new URL(seen.url), {
      pkceCodeVerifier: req.verifier,
      expectedNonce: req.nonce,
      expectedState: req.state,
    });
    const claims = tokens.claims();
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.acr, 'urn:portvakt:acr:mfa');
    assert.equal(claims.preferred_username, ERIK);
    await closePage(page);
  } finally {
    await bounded(ctx.close());
  }
});

test('a request the provider cannot trust shows a page, never a redirect', async () => {
  const ctx = await env.browser.newContext({ locale: 'en-GB' });
  try {
    const page = await ctx.newPage();
    const resp = await page.goto(`${env.demo.local}/oidc/exempelkommun/authorize?client_id=exempel-app&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2Fcb`);
    assert.equal(resp.status(), 400);
    assert.equal(new URL(page.url()).host, new URL(env.demo.local).host);
    await page.getByRole('heading', { level: 1, name: 'The sign-in to the app cannot continue' }).waitFor();
    await assertAccessible(page, 'untrusted request page');
    await shot(page, '42-oidc-untrusted');
    await closePage(page);
  } finally {
    await bounded(ctx.close());
  }
});

test('Mina inställningar lists the apps Anna is signed in to, and removing one signs her out of it', async () => {
  const secret = env.demo.output.match(/DEMO-CLIENT exempel-app (\S+)/)[1];
  const config = await client.discovery(issuerUrl(), 'exempel-app', secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const ctx = await env.browser.newContext({ locale: 'sv-SE' });
  try {
    const { page, seen } = await appPage(ctx);
    const req = await start(config, 'openid profile');
    await page.goto(req.url.href);
    await signInHere(page, ANNA);
    // Anna allowed the app in the first test: straight back.
    await page.waitForURL(/127\.0\.0\.1:8765\/callback/);
    const tokens = await client.authorizationCodeGrant(config, new URL(seen.url), {
      pkceCodeVerifier: req.verifier, expectedNonce: req.nonce, expectedState: req.state,
    });
    await page.goto(`${env.demo.local}/settings`);
    const section = page.getByRole('region', { name: 'Appar du är inloggad i' });
    await section.getByRole('cell', { name: 'Exempelappen', exact: true }).waitFor();
    await assertAccessible(page, 'settings with signed-in apps');
    await section.screenshot({ path: join(env.demo.outbox, '..', 'apps.png') });
    await shot(page, '43-oidc-settings-apps');
    await section.getByRole('button', { name: /Logga ut och ta bort/ }).click();
    await page.getByText('Du är utloggad ur appen').waitFor();
    await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token));
    await closePage(page);
  } finally {
    await bounded(ctx.close());
  }
});
