//! Fuzzes what a cookie-mode request decodes: the decrypted payload parser, and opening an
//! arbitrary cookie value. Any input must give "no session" or a session, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_lab::crypto::Keys;
use session_lab::session::cookie::decode_payload;

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let figment = rocket::figment::Figment::new().merge(("secret_key", vec![7u8; 64]));
        Keys::from_figment(&figment, &[]).expect("a fixed key")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = decode_payload(text);
    if let Some(opened) = keys().open("session_data", text) {
        let _ = decode_payload(&opened.plaintext);
    }
});
