// The benchmark baseline of issue 13 (acceptance 5): node `oidc-provider` 9,
// configured like Portvakt's provider, started by bench/oidc_bench.py as
//   NODE_ENV=production taskset -c 1 node_modules/.bin/node server.mjs
// Environment: PORT (the provider, issuer http://127.0.0.1:PORT),
// MINT_PORT (the bench-only code minting route, see below), SECRET (the
// clients' secret). Loopback only. Prints "READY" on stdout when listening.
//
// Keys: one ES256 and one RS256 key (discovery must list RS256), made at
// start. Clients:
//   cc       client_credentials, client_secret_basic; access tokens are
//            RFC 9068 JWTs signed ES256 for the resource urn:bench
//   cc-post  the same with client_secret_post (for tests/oidc/authlib_client.py)
//   web      authorization_code + refresh_token, ES256 ID tokens,
//            redirect URI http://127.0.0.1:PORT/cb, client_secret_basic
//   web-post the same with client_secret_post
//
// Storage: a plain in-process Map (BenchAdapter below). The bundled
// MemoryAdapter is an LRU of 1,000 entries, which would evict the codes
// minted ahead of a code -> token run; a Map is the cheapest store there
// is, so the baseline pays less for storage than any real deployment.
import http from 'node:http';
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK, calculateJwkThumbprint } from 'jose';

const PORT = Number(process.env.PORT || 18500);
const MINT_PORT = Number(process.env.MINT_PORT || PORT + 1);
const SECRET = process.env.SECRET || 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const ISSUER = `http://127.0.0.1:${PORT}`;
const REDIRECT_URI = `${ISSUER}/cb`;
const RESOURCE = 'urn:bench';

async function privateJwk(alg) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

// Map-backed adapter with the semantics oidc-provider expects (expiry,
// consume, lookups by uid and user code, revocation of a whole grant).
const store = new Map(); // "Model:id" -> { payload, expiresAt }
const grants = new Map(); // grantId -> Set of "Model:id"
class BenchAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  get(key) {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) { store.delete(key); return undefined; }
    return entry?.payload;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(key, { payload, expiresAt });
    if (payload.grantId) {
      if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set());
      grants.get(payload.grantId).add(key);
    }
    if (payload.uid) store.set(`uid:${payload.uid}`, { payload: id, expiresAt });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, expiresAt });
  }

  async find(id) { return this.get(this.key(id)); }

  async findByUid(uid) { const id = this.get(`uid:${uid}`); return id && this.find(id); }

  async findByUserCode(code) { const id = this.get(`userCode:${code}`); return id && this.find(id); }

  async consume(id) { const p = this.get(this.key(id)); if (p) p.consumed = Math.floor(Date.now() / 1000); }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) store.delete(key);
    grants.delete(grantId);
  }
}

const provider = new Provider(ISSUER, {
  adapter: BenchAdapter,
  jwks: { keys: [await privateJwk('ES256'), await privateJwk('RS256')] },
  clients: [
    { client_id: 'cc', client_secret: SECRET, grant_types: ['client_credentials'],
      response_types: [], redirect_uris: [] },
    { client_id: 'cc-post', client_secret: SECRET, grant_types: ['client_credentials'],
      response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_post' },
    { client_id: 'web', client_secret: SECRET, redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'], id_token_signed_response_alg: 'ES256' },
    { client_id: 'web-post', client_secret: SECRET, redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'], id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_post' },
  ],
  scopes: ['openid', 'profile', 'email', 'offline_access', 'api'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: 'Bench Person', email: `${sub}@bench.se`, email_verified: true }),
  }),
  // As Portvakt: a client allowed refresh_token gets one, rotated on every use.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  // Lifetimes as Portvakt's defaults (access and ID tokens 5 min, codes 60 s, grants 12 h).
  ttl: {
    AccessToken: 300, AuthorizationCode: 60, ClientCredentials: 300, IdToken: 300,
    Grant: 12 * 3600, RefreshToken: 12 * 3600, Interaction: 600, Session: 12 * 3600,
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => oneOf ?? (client.clientId.startsWith('cc') ? RESOURCE : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api', audience: RESOURCE, accessTokenTTL: 300,
        accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

// BENCH ONLY -- not part of any real deployment. A second listener on its
// own loopback port mints authorization codes directly in the provider's
// store, as if `n` people had just signed in and been redirected back:
//   POST http://127.0.0.1:MINT_PORT/mint?n=N[&client=web][&resource=1]
//        [&nonce=..][&code_challenge=..(S256)][&sub=..]
// answers the codes, one per line;
//   POST http://127.0.0.1:MINT_PORT/reset
// empties the store (codes, grants, refresh tokens) so that every run
// starts from the same heap. Each code has its own grant (openid
// scope; with resource=1 also the api scope of urn:bench, so the exchange
// signs an ES256 JWT access token and an ES256 ID token and stores a
// refresh token: the same work Portvakt's exchange does).
async function mint(params) {
  const n = Math.min(Number(params.get('n') || 1), 200000);
  const client = await provider.Client.find(params.get('client') || 'web');
  const withResource = params.get('resource') === '1';
  const scope = withResource ? 'openid offline_access api' : 'openid profile email offline_access';
  const sub = params.get('sub') || 'bench-user';
  const authTime = Math.floor(Date.now() / 1000);
  const codes = [];
  for (let i = 0; i < n; i += 1) {
    const grant = new provider.Grant({ accountId: sub, clientId: client.clientId });
    grant.addOIDCScope(withResource ? 'openid offline_access' : 'openid profile email offline_access');
    if (withResource) grant.addResourceScope(RESOURCE, 'api');
    const grantId = await grant.save();
    const code = new provider.AuthorizationCode({
      accountId: sub, grantId, client, redirectUri: REDIRECT_URI, scope, authTime,
      expiresWithSession: false, nonce: params.get('nonce') || undefined,
      codeChallenge: params.get('code_challenge') || undefined,
      codeChallengeMethod: params.get('code_challenge') ? 'S256' : undefined,
      resource: withResource ? RESOURCE : undefined,
    });
    codes.push(await code.save());
  }
  return codes;
}

const mintServer = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${MINT_PORT}`);
  if (req.method === 'POST' && url.pathname === '/reset') {
    store.clear(); grants.clear(); res.writeHead(204).end(); return;
  }
  if (req.method !== 'POST' || url.pathname !== '/mint') { res.writeHead(404).end(); return; }
  try {
    const codes = await mint(url.searchParams);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${codes.join('\n')}\n`);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err.stack));
  }
});

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 60000;
await new Promise((resolve) => { server.listen(PORT, '127.0.0.1', resolve); });
await new Promise((resolve) => { mintServer.listen(MINT_PORT, '127.0.0.1', resolve); });
console.log('READY');
