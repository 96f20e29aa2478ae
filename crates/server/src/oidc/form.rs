//! The form bodies of the token, introspection and revocation endpoints
//! (`application/x-www-form-urlencoded`, RFC 6749 §3.2). A parameter sent
//! twice is refused (§3.1), so two parts of a request cannot disagree.

use crate::oidc::error::OAuthError;
use axum::extract::FromRequest;
use axum::extract::Request;
use axum::http::header;

pub struct OAuthForm(Vec<(String, String)>);

impl OAuthForm {
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, OAuthError> {
        let form_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return Err(OAuthError::InvalidRequest(
                "The body must be application/x-www-form-urlencoded.",
            ));
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| OAuthError::InvalidRequest("The request body could not be read."))?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(&body) {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(OAuthError::InvalidRequest(
                    "A parameter was sent more than once.",
                ));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self(pairs))
    }
}
