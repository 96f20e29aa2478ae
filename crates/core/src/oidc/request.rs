//! Authorization requests (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1),
//! checked in the order that decides where an error may go: until the
//! client and its redirect URI are known, nothing is sent anywhere (a page
//! says what is wrong); after that, errors go back to the app.

use super::client::{GrantType, OidcClient};
use serde::{Deserialize, Serialize};

/// A request that passed every check, as it waits through sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// What will be shared: asked for and allowed to the client, sorted.
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 only.
    pub code_challenge: Option<String>,
    pub prompt_none: bool,
    pub prompt_login: bool,
    pub prompt_consent: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// `sv` or `en` when the app asked for one of them.
    pub ui_locale: Option<String>,
}

impl AuthRequest {
    #[must_use]
    pub fn scope_string(&self) -> String {
        self.scope.join(" ")
    }

    #[must_use]
    pub fn has_scope(&self, s: &str) -> bool {
        self.scope.iter().any(|x| x == s)
    }
}

/// Why a request cannot even be answered to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    /// No `client_id`, or one sent twice.
    MissingClient,
    UnknownClient,
    /// No `redirect_uri`, sent twice, or not one the client registered.
    RedirectUri,
    /// The client may not sign people in (no authorization_code grant).
    NotForSignIn,
}

/// What went wrong, and where the answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Page(PageError),
    /// To the app at its (checked) redirect URI.
    ToApp(AppError),
}

/// An error for the app (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub error: &'static str,
    pub description: &'static str,
}

const MAX_PARAMS: usize = 40;
const MAX_STATE: usize = 512;

fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ()> {
    let mut found = params.iter().filter(|(k, _)| k == name);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some((_, v)), None) => Ok((!v.is_empty()).then_some(v.as_str())),
        (Some(_), Some(_)) => Err(()),
    }
}

/// Whether `given` is one of `registered`: byte for byte (RFC 9700
/// §4.1.3), except that a loopback `http` address may use any port
/// (RFC 8252 §7.3: native apps listen on a port they get at run time).
#[must_use]
pub fn redirect_matches(registered: &[String], given: &str) -> bool {
    registered
        .iter()
        .any(|r| r == given || same_but_loopback_port(r, given))
}

fn same_but_loopback_port(registered: &str, given: &str) -> bool {
    let (Ok(mut r), Ok(mut g)) = (url::Url::parse(registered), url::Url::parse(given)) else {
        return false;
    };
    let loopback =
        |u: &url::Url| u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "[::1]"));
    // Only the port may differ: the rest as the app registered it, written
    // in the parser's normal form (so no control characters, case or
    // dot-segment tricks that the parser would quietly undo).
    if !loopback(&r) || !loopback(&g) || given.contains('#') || g.as_str() != given {
        return false;
    }
    if r.set_port(None).is_err() || g.set_port(None).is_err() {
        return false;
    }
    r == g
}

/// Checks an authorization request for `client` (found by `client_id`).
///
/// # Errors
/// A [`Refusal`]: a page before the redirect URI is trusted, an error for
/// the app after.
pub fn parse<'c>(
    params: &[(String, String)],
    find_client: impl Fn(&str) -> Option<&'c OidcClient>,
) -> Result<AuthRequest, Refusal> {
    let page = |e| Err(Refusal::Page(e));
    let client_id = match single(params, "client_id") {
        Ok(Some(c)) => c,
        _ => return page(PageError::MissingClient),
    };
    let Some(client) = find_client(client_id) else {
        return page(PageError::UnknownClient);
    };
    let redirect_uri = match single(params, "redirect_uri") {
        Ok(Some(r)) if redirect_matches(&client.redirect_uris, r) => r.to_owned(),
        _ => return page(PageError::RedirectUri),
    };
    if !client.grants.contains(&GrantType::AuthorizationCode) {
        return page(PageError::NotForSignIn);
    }
    // From here on the app hears about problems. Its `state` goes back
    // with them, if it is sane.
    let state = single(params, "state")
        .ok()
        .flatten()
        .filter(|s| s.len() <= MAX_STATE)
        .map(str::to_owned);
    let to_app = |error: &'static str, description: &'static str| {
        Err(Refusal::ToApp(AppError {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
            description,
        }))
    };
    if params.len() > MAX_PARAMS {
        return to_app("invalid_request", "Too many parameters.");
    }
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return to_app("invalid_request", "A parameter was sent more than once.");
    }
    let get = |name: &str| single(params, name).ok().flatten();
    if get("state").is_some_and(|s| s.len() > MAX_STATE) {
        return to_app("invalid_request", "state is too long.");
    }
    if get("request").is_some() {
        return to_app(
            "request_not_supported",
            "Request objects are not supported.",
        );
    }
    if get("request_uri").is_some() {
        return to_app("request_uri_not_supported", "request_uri is not supported.");
    }
    match get("response_type") {
        None => return to_app("invalid_request", "response_type is missing."),
        Some("code") => {}
        Some(_) => {
            return to_app(
                "unsupported_response_type",
                "Only the authorization code flow (response_type=code) is supported.",
            )
        }
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return to_app("invalid_request", "Only response_mode=query is supported.");
    }
    let asked: Vec<&str> = get("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if !asked.contains(&"openid") {
        return to_app("invalid_scope", "The scope must include openid.");
    }
    // Scopes the client may not have are left out, not refused (RFC 6749
    // §3.3): the app learns what it got from the token response.
    let mut scope: Vec<String> = asked
        .into_iter()
        .filter(|s| client.scopes.contains(*s) || *s == "openid")
        .map(str::to_owned)
        .collect();
    scope.sort();
    scope.dedup();
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        // Every client, confidential too (SECURITY.md D2, RFC 9700 §2.1.1):
        // PKCE is what stops an injected or stolen code.
        (None, None) => {
            return to_app(
                "invalid_request",
                "PKCE (code_challenge with S256) is required.",
            )
        }
        (Some(c), Some("S256")) if is_challenge(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => {
            return to_app(
                "invalid_request",
                "code_challenge is not a valid S256 challenge.",
            )
        }
        (_, Some("plain") | None) => {
            return to_app(
                "invalid_request",
                "Only code_challenge_method=S256 is supported.",
            )
        }
        _ => {
            return to_app(
                "invalid_request",
                "Only code_challenge_method=S256 is supported.",
            )
        }
    };
    let nonce = get("nonce").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_STATE) {
        return to_app("invalid_request", "nonce is too long.");
    }
    let prompts: Vec<&str> = get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return to_app(
            "invalid_request",
            "prompt=none cannot be combined with other values.",
        );
    }
    let max_age = match get("max_age") {
        None => None,
        Some(m) => match m.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => return to_app("invalid_request", "max_age must be a number of seconds."),
        },
    };
    let ui_locale = get("ui_locales").and_then(|l| {
        l.split(' ')
            .map(|t| t.split('-').next().unwrap_or_default().to_ascii_lowercase())
            .find(|t| t == "sv" || t == "en")
    });
    Ok(AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scope,
        state,
        nonce,
        code_challenge,
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        prompt_consent: prompts.contains(&"consent"),
        max_age,
        login_hint: get("login_hint")
            .filter(|h| h.len() <= 256 && !h.chars().any(char::is_control))
            .map(str::to_owned),
        ui_locale,
    })
}

/// RFC 7636 §4.2: 43–128 characters of the unreserved set (a base64url
/// SHA-256 is 43).
fn is_challenge(c: &str) -> bool {
    (43..=128).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.2: the S256 challenge of a verifier.
#[must_use]
pub fn s256_challenge(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    super::jose::b64(&Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6: whether `verifier` is the one `challenge` was made from.
#[must_use]
pub fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    is_challenge(verifier) && s256_challenge(verifier) == challenge
}

#[cfg(test)]
mod tests;
