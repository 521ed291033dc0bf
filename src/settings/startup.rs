//! Start-up checks: what the settings must agree on before the app starts, each refusal naming
//! the settings and the fix (SPEC "Start-up checks").

use rocket::figment::Figment;

use super::{Settings, CLASSROOM_PROFILE};

/// What a class server cannot guess, checked before anything starts: the origin the students'
/// browsers use (a POST from any other is refused, and the app listens on every address, so it
/// cannot tell which one the room reaches it at) and a key that outlives a restart (a random one
/// would log the whole class out each time).
pub(super) fn classroom_needs(figment: &Figment, s: &Settings) -> Result<(), String> {
    if s.site_origin.is_none() {
        return Err(format!(
            "the {CLASSROOM_PROFILE} profile needs site_origin, the address the students' browsers \
             open: set ROCKET_SITE_ORIGIN=http://<this machine's LAN address>:<port> (find the \
             address with `hostname -I` or `ip -4 addr`; e.g. http://192.168.1.20:8000)"
        ));
    }
    let key_missing = figment.find_value("secret_key").is_err()
        || figment
            .extract_inner::<rocket::config::SecretKey>("secret_key")
            .is_ok_and(|k| k.is_zero());
    if key_missing {
        return Err(format!(
            "the {CLASSROOM_PROFILE} profile needs a secret_key that survives a restart, or every \
             restart logs the class out: make one with `head -c64 /dev/urandom | base64 -w0` and \
             set ROCKET_SECRET_KEY to it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classroom_profile_needs_an_origin_and_a_key() {
        let class = |f: Figment| Settings::from_figment(&f.select(CLASSROOM_PROFILE));
        let key = ("secret_key", vec![7u8; 64]);
        let origin = ("site_origin", "http://192.168.1.20:8000");
        assert!(class(Figment::new().merge(key.clone()))
            .unwrap_err()
            .contains("needs site_origin"));
        assert!(class(Figment::new().merge(origin))
            .unwrap_err()
            .contains("needs a secret_key"));
        assert!(class(
            Figment::new()
                .merge(origin)
                .merge(("secret_key", vec![0u8; 64]))
        )
        .unwrap_err()
        .contains("needs a secret_key"));
        assert!(class(Figment::new().merge(origin).merge(key)).is_ok());
    }
}
