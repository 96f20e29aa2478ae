//! Why a service is closed, in plain words ("öppen vardagar 07.00–18.00",
//! "kräver inloggning med app eller passkey", "endast från Skolnätet").

use crate::http::i18n::{Lang, Tr};
use portvakt_core::access::{Denial, Method, Window};
use portvakt_core::apply::ZoneRecord;

/// "a, b och c" (`and`) or "a, b eller c" (alternatives).
fn list(t: Tr, items: &[String], and: bool) -> String {
    let word = t.get(if and { "access.and" } else { "access.or" });
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

fn method(t: Tr, m: Method) -> String {
    t.get(&format!("access.method.{}", m.name())).to_owned()
}

fn clock(t: Tr, minutes: u16) -> String {
    let sep = if t.lang == Lang::Sv { '.' } else { ':' };
    format!("{:02}{sep}{:02}", minutes / 60, minutes % 60)
}

/// "måndag–fredag 07.00–18.00"
pub fn window(t: Tr, w: &Window) -> String {
    let name = |d: u8| t.get(&format!("access.day.{d}")).to_owned();
    let parts: Vec<String> = w
        .day_runs()
        .into_iter()
        .map(|(a, b)| {
            if a == b {
                name(a)
            } else {
                format!("{}–{}", name(a), name(b))
            }
        })
        .collect();
    let (s, e) = w.hours();
    format!("{} {}–{}", list(t, &parts, true), clock(t, s), clock(t, e))
}

/// One sentence per reason; `NotInGroup` has none (such services are not shown).
pub fn reasons(t: Tr, denials: &[Denial], zones: &[ZoneRecord]) -> Vec<String> {
    denials
        .iter()
        .filter_map(|d| match d {
            Denial::NotInGroup => None,
            Denial::Zone(allowed) => {
                let names: Vec<String> = allowed
                    .iter()
                    .map(|slug| {
                        zones
                            .iter()
                            .find(|z| &z.slug == slug)
                            .map_or_else(|| slug.as_str().to_owned(), |z| z.name.clone())
                    })
                    .collect();
                Some(
                    t.get("access.reason.zone")
                        .replace("{zones}", &list(t, &names, false)),
                )
            }
            Denial::Method(allowed) => {
                let names: Vec<String> = allowed.iter().map(|m| method(t, *m)).collect();
                Some(
                    t.get("access.reason.method")
                        .replace("{methods}", &list(t, &names, false)),
                )
            }
            Denial::Closed(windows) => {
                let texts: Vec<String> = windows.iter().map(|w| window(t, w)).collect();
                Some(
                    t.get("access.reason.closed")
                        .replace("{hours}", &list(t, &texts, true)),
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_read_naturally_in_both_languages() {
        let w = Window::parse("mon-fri 07:00-18:00").unwrap();
        assert_eq!(window(Tr::new(Lang::Sv), &w), "måndag–fredag 07.00–18.00");
        assert_eq!(window(Tr::new(Lang::En), &w), "Monday–Friday 07:00–18:00");
        let w = Window::parse("mon,wed,sat-sun 10:00-14:30").unwrap();
        assert_eq!(
            window(Tr::new(Lang::Sv), &w),
            "måndag, onsdag och lördag–söndag 10.00–14.30"
        );
        let d = [Denial::Method([Method::App, Method::Passkey].into())];
        assert_eq!(
            reasons(Tr::new(Lang::Sv), &d, &[]),
            ["Kräver inloggning med autentiseringsapp eller passkey."]
        );
    }
}
