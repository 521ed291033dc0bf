//! The range each number may take and the name an instance may give itself: the checks one
//! setting needs on its own, whatever the others say (the ones between settings are in
//! [`super::startup`]).

use super::Settings;

/// Ten years at most: past any sensible session, and far from where date arithmetic ends.
const MAX_TIMEOUT: i64 = 10 * 366 * 24 * 3600;

/// The longest `instance` name: it is shown in every footer and sent in every response.
pub const MAX_INSTANCE_CHARS: usize = 64;

/// Every number within its range, or a message naming the key and the range.
pub(super) fn check(s: &Settings) -> Result<(), String> {
    for (name, value) in [
        ("session_idle_timeout", s.idle_timeout),
        ("session_absolute_timeout", s.absolute_timeout),
        ("login_device_lifetime", s.login_device_lifetime),
    ] {
        if !(1..=MAX_TIMEOUT).contains(&value) {
            return Err(format!(
                "{name} must be 1 to {MAX_TIMEOUT} seconds, not {value}"
            ));
        }
    }
    for (name, value) in [
        ("login_name_burst", s.login_name_burst),
        ("login_address_burst", s.login_address_burst),
        ("signup_address_burst", s.signup_address_burst),
        ("signup_device_burst", s.signup_device_burst),
        ("new_session_address_burst", s.new_session_address_burst),
        ("learner_address_burst", s.learner_address_burst),
        ("max_sessions_per_account", s.max_sessions_per_account),
        ("login_device_burst", s.login_device_burst),
        ("denylist_address_burst", s.denylist_address_burst),
        ("session_write_burst", s.session_write_burst),
    ] {
        if value == 0 {
            return Err(format!("{name} must be at least 1"));
        }
    }
    for (name, value) in [
        ("login_name_interval", s.login_name_interval),
        ("login_address_interval", s.login_address_interval),
        ("signup_address_interval", s.signup_address_interval),
        ("signup_device_interval", s.signup_device_interval),
        (
            "new_session_address_interval",
            s.new_session_address_interval,
        ),
        ("learner_address_interval", s.learner_address_interval),
        ("login_device_interval", s.login_device_interval),
        ("denylist_address_interval", s.denylist_address_interval),
        ("session_write_interval", s.session_write_interval),
    ] {
        if !(1..=MAX_TIMEOUT as u64).contains(&value) {
            return Err(format!(
                "{name} must be 1 to {MAX_TIMEOUT} seconds, not {value}"
            ));
        }
    }
    if s.password_min_score > 4 {
        return Err(format!(
            "password_min_score must be 0 to 4, not {}",
            s.password_min_score
        ));
    }
    if !(1..=3600).contains(&s.report_keep_seconds) {
        return Err(format!(
            "report_keep_seconds must be 1 to 3600, not {}",
            s.report_keep_seconds
        ));
    }
    if !(16..=16 * 1024 * 1024).contains(&s.max_bytes) {
        return Err(format!(
            "session_max_bytes must be 16 to 16777216, not {}",
            s.max_bytes
        ));
    }
    Ok(())
}

/// The instance's name: the one given, else this machine's hostname and `port`.
pub(super) fn instance(given: Option<String>, port: u16) -> Result<String, String> {
    let instance = match given {
        Some(name) => name,
        None => format!("{}:{port}", hostname()),
    };
    // It goes into a response header as is: no control characters, nothing a header could
    // not carry, and short enough to read in a footer.
    if instance.is_empty()
        || instance.chars().count() > MAX_INSTANCE_CHARS
        || !instance.chars().all(|c| c.is_ascii_graphic() || c == ' ')
    {
        return Err(format!(
            "instance must be 1 to {MAX_INSTANCE_CHARS} printable ASCII characters, not \
             {instance:?}"
        ));
    }
    Ok(instance)
}

/// This machine's name, as the kernel has it (Linux); `localhost` where it cannot be read. Only
/// the default of `instance`, so a plain file read is enough: no crate, no system call.
fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Mode;
    use rocket::figment::Figment;

    #[test]
    fn defaults_and_bounds() {
        let s = Settings::from_figment(&Figment::new()).unwrap();
        assert_eq!(
            (s.mode, s.idle_timeout, s.trace),
            (Mode::Server, 1800, true)
        );
        let bad = Figment::new().merge(("session_mode", "both-ways"));
        assert!(Settings::from_figment(&bad)
            .unwrap_err()
            .contains("session_mode"));
        let bad = Figment::new().merge(("session_idle_timeout", 0));
        assert!(Settings::from_figment(&bad)
            .unwrap_err()
            .contains("session_idle_timeout"));
        let bad = Figment::new().merge(("site_origin", "https://lab.example/path"));
        assert!(Settings::from_figment(&bad)
            .unwrap_err()
            .contains("site_origin"));
    }

    #[test]
    fn the_instance_defaults_to_the_hostname_and_port_and_refuses_what_a_header_cannot_carry() {
        let s = Settings::from_figment(&Figment::new().merge(("port", 8123))).unwrap();
        assert_eq!(s.instance_name(), format!("{}:8123", hostname()));
        let s = Settings::from_figment(&Figment::new().merge(("instance", "lab-a"))).unwrap();
        assert_eq!(s.instance_name(), "lab-a");
        for bad in [
            "",
            "a\r\nSet-Cookie: x=1",
            "é",
            &"x".repeat(MAX_INSTANCE_CHARS + 1),
        ] {
            let err = Settings::from_figment(&Figment::new().merge(("instance", bad))).unwrap_err();
            assert!(err.contains("instance"), "{bad:?}: {err}");
        }
    }
}
