//! The declarative configuration file (`portvakt apply FILE`): parsing and
//! validation. Every problem is reported with file, line and field, all at
//! once, and nothing is written unless the whole file is valid.

mod access;
mod clients;
mod crisis;
mod organisation;
mod probes;
mod raw;
#[cfg(test)]
mod tests;

use portvakt_core::apply::DesiredOrganisation;
use portvakt_core::domain::Slug;
use std::collections::BTreeSet;
use toml::Spanned;

use organisation::check_org;
use raw::RawFile;

type S<T> = Spanned<T>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// All problems found in one file, printed one per line as `file:line: field: message`.
#[derive(Debug)]
pub struct FileErrors {
    pub file: String,
    pub errors: Vec<FileError>,
}

impl std::fmt::Display for FileErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.errors {
            writeln!(f, "{}:{}: {}: {}", self.file, e.line, e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FileErrors {}

/// The longest free text we accept for names and descriptions.
const MAX_TEXT: usize = 500;

pub(super) struct Checker {
    /// Byte offset where each line starts, for line numbers in O(log n).
    line_starts: Vec<usize>,
    errors: Vec<FileError>,
    min_password: usize,
}

impl Checker {
    fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn err<T>(&mut self, s: &Spanned<T>, field: &str, message: impl Into<String>) {
        let line = self.line(s.span().start);
        self.errors.push(FileError {
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    fn text(&mut self, s: &S<String>, field: &str) -> String {
        let v = s.get_ref().trim();
        if v.is_empty() {
            self.err(s, field, "must not be empty");
        } else if v.chars().count() > MAX_TEXT {
            self.err(s, field, format!("longer than {MAX_TEXT} characters"));
        } else if v.chars().any(char::is_control) {
            self.err(s, field, "contains control characters");
        }
        v.to_owned()
    }

    fn slug(&mut self, s: &S<String>, field: &str) -> Option<Slug> {
        let r = Slug::parse(s.get_ref());
        if r.is_none() {
            self.err(
                s,
                field,
                "use lowercase letters a-z, digits and '-' (at most 64)",
            );
        }
        r
    }
}

/// Parses and validates a configuration file.
///
/// # Errors
/// Every problem found, with line numbers.
pub fn parse(
    file: &str,
    src: &str,
    min_password: usize,
) -> Result<Vec<DesiredOrganisation>, FileErrors> {
    let line_starts = std::iter::once(0)
        .chain(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let mut c = Checker {
        line_starts,
        errors: Vec::new(),
        min_password,
    };
    let raw: RawFile = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            let line = e.span().map_or(1, |s| c.line(s.start));
            let msg = e.message().to_owned();
            return Err(FileErrors {
                file: file.into(),
                errors: vec![FileError {
                    line,
                    field: "toml".into(),
                    message: msg,
                }],
            });
        }
    };
    let mut out = Vec::new();
    let mut org_slugs = BTreeSet::new();
    let mut domains_seen = BTreeSet::new();
    for (i, o) in raw.organisation.iter().enumerate() {
        let f = format!("organisation[{i}]");
        let slug = c.slug(&o.slug, &format!("{f}.slug"));
        if let Some(s) = &slug {
            if !org_slugs.insert(s.clone()) {
                c.err(&o.slug, &format!("{f}.slug"), "organisation listed twice");
            }
        }
        let name = c.text(&o.name, &format!("{f}.name"));
        let mut domains = Vec::new();
        for d in &o.domains {
            match portvakt_core::domain::DomainName::parse(d.get_ref()) {
                Err(why) => c.err(d, &format!("{f}.domains"), why.to_string()),
                Ok(v) if !domains_seen.insert(v.clone()) => {
                    c.err(d, &format!("{f}.domains"), "domain listed twice");
                }
                Ok(v) => domains.push(v.as_str().to_owned()),
            }
        }
        let org = check_org(&mut c, &f, o, slug, name, domains);
        if let Some(org) = org {
            out.push(org);
        }
    }
    if c.errors.is_empty() {
        Ok(out)
    } else {
        Err(FileErrors {
            file: file.into(),
            errors: c.errors,
        })
    }
}
