//! Issue 10 L5: whatever path the proxy lets through stays under the
//! app's base for the WHATWG URL parser too, plain or decoded twice.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portvakt_core::app_path::{oracle_stays_inside, stays_inside};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let path = format!("/{raw}");
    if stays_inside(&path) {
        assert!(oracle_stays_inside(&path), "{path:?}");
    }
});
