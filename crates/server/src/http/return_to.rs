//! Where a person may be sent back to after signing in or changing a
//! setting: only this server's own paths.

/// Where the built-in proxy publishes apps (`/apps/{slug}/…`) on the apps
/// origin; a return address there is followed after sign-in.
pub const APPS_PREFIX: &str = "/apps/";

/// An OpenID authorization request waiting for the person to sign in
/// (`/oidc/{org}/continue/{id}`).
pub const OIDC_PREFIX: &str = "/oidc/";

/// Only our own paths are valid return addresses (no `//host`, `/\host`).
pub fn local_path(s: &str) -> &str {
    let ok = s.starts_with('/')
        && !s.starts_with("//")
        && !s.starts_with("/\\")
        && s.len() < 512
        && s.chars().all(|c| c.is_ascii_graphic());
    if ok {
        s
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_local_paths_are_followed() {
        for bad in [
            "//evil",
            "/\\evil",
            "https://evil",
            "javascript:alert(1)",
            "/a b",
            "",
        ] {
            assert_eq!(super::local_path(bad), "/", "{bad}");
        }
        assert_eq!(super::local_path("/password"), "/password");
    }
}
