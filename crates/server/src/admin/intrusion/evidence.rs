//! Evidence for a case: screenshots and exported files, uploaded as the
//! one multipart form, stored with their SHA-256, size, uploader and time,
//! and only ever downloaded as attachments under a name of our own (never
//! the uploader's), with `nosniff` and a sandboxing CSP.

use super::cases::load;
use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang};
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portvakt_core::ids::EventId;
use portvakt_core::intrusion::evidence::{self, MAX_BYTES, MAX_FILES};
use portvakt_core::intrusion::EvidenceRecord;
use sha2::{Digest, Sha256};

/// The request may carry the file and a little form around it.
pub const MAX_REQUEST: usize = MAX_BYTES + 64 * 1024;

/// Why an upload was refused, as the page says it.
enum Refusal {
    TooBig,
    Type,
    Empty,
    Full,
    Broken,
}

impl Refusal {
    fn key(&self) -> &'static str {
        match self {
            Self::TooBig => "case.evidence_too_big",
            Self::Type => "case.evidence_type",
            Self::Empty => "case.evidence_empty",
            Self::Full => "case.evidence_full",
            Self::Broken => "case.evidence_broken",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            Self::TooBig => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Type => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Full => StatusCode::CONFLICT,
            Self::Empty | Self::Broken => StatusCode::BAD_REQUEST,
        }
    }
}

/// Reads the form: the CSRF token first (checked before anything else is
/// read), then the file, at most [`MAX_BYTES`].
async fn read_form(
    mut form: Multipart,
    token: &str,
) -> Result<Result<(String, Vec<u8>), Refusal>, AppError> {
    let first = form.next_field().await.map_err(|_| AppError::BadRequest)?;
    let Some(first) = first else {
        return Err(AppError::Csrf);
    };
    if first.name() != Some("csrf") {
        return Err(AppError::Csrf);
    }
    let sent = first.text().await.map_err(|_| AppError::Csrf)?;
    if !crate::http::csrf::same(&sent, token) {
        return Err(AppError::Csrf);
    }
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(Err(Refusal::Empty)),
            Err(e) => return Ok(Err(from_multipart(&e))),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = evidence::display_name(field.file_name().unwrap_or_default());
        let mut field = field;
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(c)) => {
                    if bytes.len() + c.len() > MAX_BYTES {
                        return Ok(Err(Refusal::TooBig));
                    }
                    bytes.extend_from_slice(&c);
                }
                Ok(None) => break,
                Err(e) => return Ok(Err(from_multipart(&e))),
            }
        }
        if bytes.is_empty() {
            return Ok(Err(Refusal::Empty));
        }
        return Ok(Ok((name, bytes)));
    }
}

fn from_multipart(e: &axum::extract::multipart::MultipartError) -> Refusal {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Refusal::TooBig
    } else {
        Refusal::Broken
    }
}

pub async fn upload_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<Response, AppError> {
    let case = load(&state, &admin, &id).await?;
    let deadline = crate::http::body_deadline::upload_deadline(&state);
    let read = tokio::time::timeout(deadline, read_form(form, &csrf.0))
        .await
        .unwrap_or(Ok(Err(Refusal::Broken)))?;
    let refused = match read {
        Err(r) => r,
        Ok((name, bytes)) => match evidence::sniff(&bytes) {
            None => Refusal::Type,
            Some(kind) => {
                let record = EvidenceRecord {
                    id: EventId::generate(),
                    file_name: name,
                    media_type: kind.media_type.to_owned(),
                    size: bytes.len() as u64,
                    sha256: hex(&Sha256::digest(&bytes)),
                    uploaded_by: admin.user.id.clone(),
                    uploaded_at: state.clock.now(),
                };
                if !case.is_open() {
                    return Err(AppError::Conflict("intrusion case closed".into()));
                }
                if state
                    .store
                    .add_evidence(&admin.organisation.id, &case.id, &record, &bytes, MAX_FILES)
                    .await?
                {
                    audit::record(
                        &state,
                        &admin,
                        &client,
                        "case.evidence",
                        case.id.as_str(),
                        &format!(
                            "case={} sha256={} size={}",
                            case.number, record.sha256, record.size
                        ),
                    )
                    .await;
                    return Ok(super::cases::back(&case.id, "evidence", "evidence"));
                }
                // Closed meanwhile, or full.
                match state.store.case(&admin.organisation.id, &case.id).await? {
                    Some(c) if c.is_open() => Refusal::Full,
                    _ => return Err(AppError::Conflict("intrusion case closed".into())),
                }
            }
        },
    };
    let page = super::page::render(
        &state,
        t,
        &csrf,
        &admin,
        &case,
        None,
        Some(refused.key()),
        None,
        None,
    )
    .await?;
    Ok((refused.status(), page).into_response())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The file as an attachment named `arende-<n>-<id>.<ext>`; its type is
/// the one found in its bytes at upload.
pub async fn download_get(
    State(state): State<AppState>,
    admin: CurrentUser,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let case = load(&state, &admin, &id).await?;
    let (record, bytes) = state
        .store
        .evidence_content(&admin.organisation.id, &case.id, &EventId::from_raw(file))
        .await?
        .ok_or(AppError::NotFound)?;
    let ext = evidence::sniff(&bytes).map_or("bin", |k| k.extension);
    let short: String = record
        .id
        .as_str()
        .trim_start_matches("evt_")
        .chars()
        .take(8)
        .collect();
    let disposition = format!(
        "attachment; filename=\"arende-{}-{short}.{ext}\"",
        case.number
    );
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
