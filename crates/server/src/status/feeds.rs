//! The status page as data: the Atom feed (RFC 4287) and the JSON, for the
//! live page and the static copy alike.

use super::view::StatusData;
use crate::http::time_fmt::stockholm;
use portvakt_core::probe::uptime;
use portvakt_core::status::{current_states, Component, Incident};
use portvakt_core::store::Organisation;

/// Text for XML: the five special characters escaped, and characters XML
/// 1.0 forbids dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// The feed; `base` is where its links point (the live page or the copy).
pub(crate) fn atom_text(
    org: &Organisation,
    incidents: &[Incident],
    base: &str,
    now: i64,
) -> String {
    let newest = incidents
        .iter()
        .flat_map(|i| i.updates.iter().map(|u| u.at))
        .max()
        .unwrap_or(now);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"sv\">\n");
    x.push_str(&format!(
        "<title>Driftinformation – {}</title>\n<id>urn:portvakt:status:{}</id>\n<updated>{}</updated>\n<link rel=\"alternate\" href=\"{base}\"/>\n<author><name>{}</name></author>\n",
        xml(&org.name),
        xml(org.slug.as_str()),
        rfc3339(newest),
        xml(&org.name),
    ));
    for i in incidents {
        let updated = i.updates.iter().map(|u| u.at).max().unwrap_or(i.created_at);
        let mut content = String::new();
        for u in &i.updates {
            content.push_str(&format!(
                "{} ({}): {}\n\n",
                stockholm(u.at),
                u.phase.name(),
                u.body
            ));
        }
        x.push_str(&format!(
            "<entry>\n<id>urn:portvakt:incident:{}</id>\n<title>{}</title>\n<updated>{}</updated>\n<published>{}</published>\n<link rel=\"alternate\" href=\"{base}\"/>\n<category term=\"{}\"/>\n<content type=\"text\">{}</content>\n</entry>\n",
            xml(&i.id),
            xml(&i.title),
            rfc3339(updated),
            rfc3339(i.created_at),
            i.phase.name(),
            xml(content.trim_end()),
        ));
    }
    x.push_str("</feed>\n");
    x
}

pub(crate) fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| String::new(), |t| t.to_string())
}

pub(crate) fn json_text(org: &Organisation, data: &StatusData, now: i64) -> String {
    let (components, incidents) = (&data.components[..], &data.incidents[..]);
    let states = current_states(components, incidents, &data.probes.down);
    let probed = |c: &Component| data.probes.down.iter().any(|p| p.component == c.slug);
    serde_json::json!({
        "organisation": { "slug": org.slug.as_str(), "name": org.name, "contact": org.status_contact },
        "updated_at": rfc3339(now),
        // What the health probes see, for the self-check: how many watch,
        // which components they find down, and their newest check.
        "probes": {
            "watching": data.probes.watching,
            "down": components.iter().filter(|c| probed(c))
                .map(|c| c.slug.as_str()).collect::<Vec<_>>(),
            "checked_at": data.probes.checked_at.map(rfc3339),
        },
        "components": components.iter().zip(&states).map(|(c, (_, st))| {
            let u = uptime(&c.slug, &data.figures, &data.days);
            serde_json::json!({
                "slug": c.slug.as_str(),
                "name": c.name,
                "group": c.group,
                "state": st.name(),
                "detected_by_probe": probed(c),
                // Watched by a health probe: what the self-check names.
                "checked_automatically": data.probes.components.contains(&c.slug),
                "alternatives": c.alternatives,
                "uptime": {
                    "days": data.days.len(),
                    "percent": u.percent_x1000().map(|x| x as f64 / 1000.0),
                    // One row per component and day in the store.
                    "history": data.figures.iter().filter(|f| f.component == c.slug).map(|f| serde_json::json!({
                        "day": f.day, "checks": f.checks, "failures": f.failures,
                    })).collect::<Vec<_>>(),
                },
            })
        }).collect::<Vec<_>>(),
        "incidents": incidents.iter().map(|i| serde_json::json!({
            "id": i.id,
            "title": i.title,
            "title_en": i.title_en,
            "maintenance": i.maintenance,
            "phase": i.phase.name(),
            "created_at": rfc3339(i.created_at),
            "resolved_at": i.resolved_at.map(rfc3339),
            "affected": i.affected.iter().map(|(c, s)| serde_json::json!({
                "component": c.as_str(), "impact": s.name(),
            })).collect::<Vec<_>>(),
            "updates": i.updates.iter().map(|u| serde_json::json!({
                "at": rfc3339(u.at), "phase": u.phase.name(), "body": u.body, "body_en": u.body_en,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
    .to_string()
}
