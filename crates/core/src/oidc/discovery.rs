//! The issuer of an organisation and its discovery document (OpenID
//! Connect Discovery 1.0 §3, RFC 8414).

use crate::domain::Slug;
use serde::Serialize;

/// `{issuer_base}/oidc/{organisation}`: one issuer per organisation, so a
/// token of one organisation never names another's issuer (seed 001).
#[must_use]
pub fn issuer(base: &str, org: &Slug) -> String {
    format!("{}/oidc/{}", base.trim_end_matches('/'), org.as_str())
}

/// What the provider supports; every value here is honoured by the
/// endpoints it names.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub scopes_supported: &'static [&'static str],
    pub response_types_supported: &'static [&'static str],
    pub response_modes_supported: &'static [&'static str],
    pub grant_types_supported: &'static [&'static str],
    pub subject_types_supported: &'static [&'static str],
    pub id_token_signing_alg_values_supported: &'static [&'static str],
    pub token_endpoint_auth_methods_supported: &'static [&'static str],
    pub introspection_endpoint_auth_methods_supported: &'static [&'static str],
    pub revocation_endpoint_auth_methods_supported: &'static [&'static str],
    pub code_challenge_methods_supported: &'static [&'static str],
    pub claims_supported: &'static [&'static str],
    pub prompt_values_supported: &'static [&'static str],
    pub ui_locales_supported: &'static [&'static str],
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    pub authorization_response_iss_parameter_supported: bool,
}

const CLIENT_AUTH: &[&str] = &["client_secret_basic", "client_secret_post"];

impl Metadata {
    #[must_use]
    pub fn new(issuer: String) -> Self {
        let at = |path: &str| format!("{issuer}/{path}");
        Self {
            authorization_endpoint: at("authorize"),
            token_endpoint: at("token"),
            userinfo_endpoint: at("userinfo"),
            jwks_uri: at("jwks"),
            introspection_endpoint: at("introspect"),
            revocation_endpoint: at("revoke"),
            issuer,
            scopes_supported: &["openid", "profile", "email", "groups", "offline_access"],
            response_types_supported: &["code"],
            response_modes_supported: &["query"],
            grant_types_supported: &["authorization_code", "refresh_token", "client_credentials"],
            subject_types_supported: &["public"],
            id_token_signing_alg_values_supported: &["ES256", "RS256"],
            token_endpoint_auth_methods_supported: &[
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            introspection_endpoint_auth_methods_supported: CLIENT_AUTH,
            revocation_endpoint_auth_methods_supported: &[
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            code_challenge_methods_supported: &["S256"],
            claims_supported: &[
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "acr",
                "amr",
                "azp",
                "name",
                "preferred_username",
                "email",
                "email_verified",
                "groups",
            ],
            prompt_values_supported: &["none", "login"],
            ui_locales_supported: &["sv", "en"],
            claims_parameter_supported: false,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            authorization_response_iss_parameter_supported: true,
        }
    }
}
