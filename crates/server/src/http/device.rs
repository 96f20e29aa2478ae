//! A browser and device in words, from a `User-Agent`, for people reading
//! where they signed in ("Firefox på Windows"). Rough on purpose: it names
//! what a person recognises and decides nothing.

use crate::http::i18n::Tr;

/// "Firefox på Windows", "Safari on iPhone"; "okänd webbläsare" when
/// nothing is recognised.
#[must_use]
pub fn in_words(t: Tr, ua: &str) -> String {
    // Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
    const BROWSERS: [(&str, &str); 9] = [
        ("Edg/", "Edge"),
        ("EdgiOS/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const DEVICES: [(&str, &str); 7] = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("CrOS", "ChromeOS"),
        ("Macintosh", "Mac"),
        ("Linux", "Linux"),
    ];
    let find = |list: &[(&str, &'static str)]| {
        list.iter()
            .find(|(needle, _)| ua.contains(needle))
            .map(|(_, name)| *name)
    };
    match (find(&BROWSERS), find(&DEVICES)) {
        (Some(b), Some(d)) => format!("{b} {} {d}", t.get("device.on")),
        (Some(b), None) => b.to_owned(),
        (None, Some(d)) => format!("{} {} {d}", t.get("device.unknown"), t.get("device.on")),
        (None, None) => t.get("device.unknown").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::i18n::Lang;

    #[test]
    fn common_browsers_in_words() {
        let sv = Tr::new(Lang::Sv);
        let en = Tr::new(Lang::En);
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0", "Firefox på Windows"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 Edg/141.0.0.0", "Edge på Windows"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1", "Safari på iPhone"),
            ("Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36", "Chrome på Android"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15", "Safari på Mac"),
            ("curl/8.5.0", "okänd webbläsare"),
            ("", "okänd webbläsare"),
        ];
        for (ua, words) in cases {
            assert_eq!(in_words(sv, ua), words, "{ua}");
        }
        assert_eq!(in_words(en, cases[0].0), "Firefox on Windows");
    }
}
