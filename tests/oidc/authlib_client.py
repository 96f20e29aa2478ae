#!/usr/bin/env python3
"""An OAuth 2.0 / OpenID Connect client that Portvakt did not write (issue 13).

Built on authlib (the OAuth client) and joserfc (JWT and JWKS checks), for the
Rust integration tests to call as a subprocess:

    python3 tests/oidc/authlib_client.py MODE --issuer URL [options]

Modes:
  discover            discovery document (issuer must match exactly) and JWKS
  client_credentials  token (RFC 9068 JWT access token verified), then RFC 7662
  introspect          RFC 7662 introspection of --token
  revoke              RFC 7009 revocation of --token
  code                code -> token (ID token verified, at_hash), userinfo,
                      one refresh, then the OLD refresh token again
  authorize-url       an authorization URL with PKCE S256, state and nonce

It prints ONE JSON object on stdout. Exit 0 also when the server refused (the
refusal is in the JSON: "ok": false, "status", "error"); exit 1 when a check
this script makes fails, or on a bug ("ok": false, "failure": "...").
Only http://127.0.0.1 servers are expected; every request has a 10 s timeout
and follows no redirect.
"""
import argparse
import base64
import hashlib
import json
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

TIMEOUT = 10
ALGS = ["ES256", "RS256"]
AUTH_METHODS = {"basic": "client_secret_basic", "post": "client_secret_post"}


class Failure(Exception):
    """A check made by this script failed."""


def emit(obj, code=0):
    print(json.dumps(obj, sort_keys=True))
    sys.exit(code)


def body_of(resp):
    try:
        return resp.json()
    except ValueError:
        return resp.text


def discover(issuer):
    """The discovery document, the JWKS as served, and the JWKS as a KeySet."""
    resp = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT, allow_redirects=False)
    if resp.status_code != 200:
        raise Failure(f"discovery answered {resp.status_code}: {resp.text[:200]}")
    meta = resp.json()
    if meta.get("issuer") != issuer:
        raise Failure(f"discovery issuer {meta.get('issuer')!r} is not {issuer!r}")
    resp = requests.get(meta["jwks_uri"], timeout=TIMEOUT, allow_redirects=False)
    if resp.status_code != 200:
        raise Failure(f"jwks_uri answered {resp.status_code}")
    jwks = resp.json()
    keyset = KeySet.import_key_set(jwks)
    if any(key.is_private for key in keyset.keys):
        raise Failure("the JWKS holds a private key")
    return meta, jwks, keyset


def session(args, **kw):
    """An authlib session that keeps every token-endpoint response it saw."""
    method = AUTH_METHODS[args.auth]
    s = OAuth2Session(args.client_id, args.client_secret, token_endpoint_auth_method=method,
                      revocation_endpoint_auth_method=method, default_timeout=TIMEOUT, **kw)
    s.responses = []

    def keep(resp):
        s.responses.append(resp)
        return resp

    s.register_compliance_hook("access_token_response", keep)
    s.register_compliance_hook("refresh_token_response", keep)
    return s


def token_call(s, call, *args, **kw):
    """Runs an authlib token request; returns (HTTP status, JSON body)."""
    try:
        call(*args, allow_redirects=False, **kw)
    except (OAuthError, requests.HTTPError):
        pass  # a refusal: the response itself is reported
    resp = s.responses[-1]
    return resp.status_code, body_of(resp)


def check_claims(what, claims, **options):
    try:
        jwt.JWTClaimsRegistry(**options).validate(claims)
    except JoseError as e:
        raise Failure(f"{what}: {e.error}: {e.description}") from e


def decode(what, token, keyset):
    try:
        return jwt.decode(token, keyset, algorithms=ALGS)
    except JoseError as e:
        raise Failure(f"{what}: {e.error}: {e.description}") from e


def verify_access_token(token, keyset, issuer, client_id):
    """An RFC 9068 JWT access token: signature, typ and claims."""
    tok = decode("access token", token, keyset)
    if str(tok.header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
        raise Failure(f"access token typ is {tok.header.get('typ')!r}, not at+jwt (RFC 9068)")
    check_claims("access token", tok.claims, iss={"essential": True, "value": issuer},
                 exp={"essential": True}, iat={"essential": True}, jti={"essential": True},
                 sub={"essential": True}, aud={"essential": True},
                 client_id={"essential": True, "value": client_id})
    return tok


def left_half_hash(alg, value):
    """OIDC Core 3.1.3.6: at_hash / c_hash for a JWS alg."""
    if alg in ("EdDSA", "Ed25519"):
        digest = hashlib.sha512
    else:
        digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[alg[-3:]]
    raw = digest(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw[: len(raw) // 2]).rstrip(b"=").decode()


def verify_id_token(id_token, keyset, issuer, client_id, nonce, access_token):
    """OIDC Core 3.1.3.7: signature, iss, aud (and azp), exp, iat, nonce, at_hash."""
    tok = decode("ID token", id_token, keyset)
    options = dict(iss={"essential": True, "value": issuer}, aud={"essential": True, "value": client_id},
                   exp={"essential": True}, iat={"essential": True}, sub={"essential": True})
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    check_claims("ID token", tok.claims, **options)
    aud = tok.claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and tok.claims.get("azp") != client_id:
        raise Failure("ID token has several audiences and azp is not the client")
    if "at_hash" in tok.claims:
        if not access_token:
            raise Failure("ID token has at_hash but no access token came with it")
        if tok.claims["at_hash"] != left_half_hash(tok.header["alg"], access_token):
            raise Failure("ID token at_hash does not match the access token")
    return tok


def mode_discover(args):
    meta, jwks, _ = discover(args.issuer)
    algs = [{"kty": k.get("kty"), "alg": k.get("alg"), "kid": k.get("kid")} for k in jwks["keys"]]
    emit({"ok": True, "issuer": meta["issuer"], "algs": algs, "metadata": meta})


def mode_client_credentials(args):
    meta, _, keyset = discover(args.issuer)
    s = session(args, scope=args.scope)
    status, body = token_call(s, s.fetch_token, meta["token_endpoint"], grant_type="client_credentials")
    if status != 200:
        emit({"ok": False, "status": status, "error": body})
    tok = verify_access_token(body["access_token"], keyset, args.issuer, args.client_id)
    resp = s.introspect_token(meta["introspection_endpoint"], token=body["access_token"], allow_redirects=False)
    emit({"ok": True, "token_response": body, "header": dict(tok.header), "claims": tok.claims,
          "introspection": body_of(resp), "introspection_status": resp.status_code})


def mode_introspect(args):
    meta, _, _ = discover(args.issuer)
    s = session(args)
    resp = s.introspect_token(meta["introspection_endpoint"], token=args.token,
                              token_type_hint=args.hint, allow_redirects=False)
    emit({"ok": resp.status_code == 200, "status": resp.status_code, "introspection": body_of(resp)})


def mode_revoke(args):
    meta, _, _ = discover(args.issuer)
    s = session(args)
    resp = s.revoke_token(meta["revocation_endpoint"], token=args.token,
                          token_type_hint=args.hint, allow_redirects=False)
    emit({"ok": resp.status_code == 200, "status": resp.status_code, "body": body_of(resp)})


def mode_code(args):
    meta, _, keyset = discover(args.issuer)
    s = session(args, redirect_uri=args.redirect_uri)
    extra = {"code_verifier": args.code_verifier} if args.code_verifier else {}
    url = meta["token_endpoint"]
    status, body = token_call(s, s.fetch_token, url, grant_type="authorization_code", code=args.code,
                              redirect_uri=args.redirect_uri, **extra)
    if status != 200:
        emit({"ok": False, "status": status, "error": body})
    if "id_token" not in body:
        raise Failure("the token response has no id_token")
    idt = verify_id_token(body["id_token"], keyset, args.issuer, args.client_id, args.nonce,
                          body.get("access_token"))
    resp = s.get(meta["userinfo_endpoint"], allow_redirects=False)
    out = {"ok": True, "token_response": body, "id_token_header": dict(idt.header),
           "id_token_claims": idt.claims, "userinfo_status": resp.status_code, "userinfo": body_of(resp)}
    if isinstance(out["userinfo"], dict) and resp.status_code == 200 \
            and out["userinfo"].get("sub") != idt.claims["sub"]:
        raise Failure("userinfo sub is not the ID token's sub")
    old = body.get("refresh_token")
    if old:
        status, new = token_call(s, s.refresh_token, url, refresh_token=old)
        out["refresh"] = {"status": status, "body": new}
        if status == 200 and "id_token" in new:
            verify_id_token(new["id_token"], keyset, args.issuer, args.client_id, None, new.get("access_token"))
        status, again = token_call(s, s.refresh_token, url, refresh_token=old)
        out["old_refresh_reuse"] = {"status": status, "error": again}
    emit(out)


def mode_authorize_url(args):
    meta, _, _ = discover(args.issuer)
    s = OAuth2Session(args.client_id, redirect_uri=args.redirect_uri, scope=args.scope,
                      code_challenge_method="S256")  # makes authlib add code_challenge (S256)
    verifier = generate_token(64)
    nonce = args.nonce or generate_token(32)
    url, state = s.create_authorization_url(meta["authorization_endpoint"], state=args.state,
                                            code_verifier=verifier, nonce=nonce)
    emit({"ok": True, "url": url, "code_verifier": verifier, "state": state, "nonce": nonce})


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)

    def mode(name, client=True, secret=True):
        m = sub.add_parser(name)
        m.add_argument("--issuer", required=True)
        if client:
            m.add_argument("--client-id", required=True)
        if secret:
            m.add_argument("--client-secret", required=True)
            m.add_argument("--auth", choices=AUTH_METHODS, default="basic")
        return m

    mode("discover", client=False, secret=False)
    mode("client_credentials").add_argument("--scope")
    for name in ("introspect", "revoke"):
        m = mode(name)
        m.add_argument("--token", required=True)
        m.add_argument("--hint", choices=["access_token", "refresh_token"])
    m = mode("code")
    m.add_argument("--redirect-uri", required=True)
    m.add_argument("--code", required=True)
    m.add_argument("--code-verifier")
    m.add_argument("--nonce")
    m = mode("authorize-url", secret=False)
    m.add_argument("--redirect-uri", required=True)
    m.add_argument("--scope", default="openid")
    m.add_argument("--nonce")
    m.add_argument("--state")
    return p


MODES = {"discover": mode_discover, "client_credentials": mode_client_credentials,
         "introspect": mode_introspect, "revoke": mode_revoke, "code": mode_code,
         "authorize-url": mode_authorize_url}

if __name__ == "__main__":
    args = parser().parse_args()
    try:
        MODES[args.mode](args)
    except Failure as e:
        emit({"ok": False, "failure": str(e)}, 1)
    except Exception as e:  # a bug here, or a server that broke the protocol
        emit({"ok": False, "failure": f"{type(e).__name__}: {e}"}, 1)
