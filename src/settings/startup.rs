//! Start-up checks: settings that contradict each other stop the start with one message naming
//! them and the fix (SPEC "Start-up checks"), and the classroom profile says at start the URL the
//! students type. Each contradiction here once started silently and failed in the room: every form
//! answered 403, or the class settings were never read.

use std::net::{IpAddr, Ipv4Addr, UdpSocket};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::figment::{Figment, Profile};
use rocket::{Build, Config, Orbit, Rocket};

use super::key_file::{key_missing, KEEP_A_KEY};
use super::{source, Settings, CLASSROOM_PROFILE};
use crate::origin::SiteOrigin;

/// Every check, the first that fails named. Runs on settings already read and resolved
/// ([`Settings::from_figment`]), so a bad value is reported as such before any contradiction.
pub(super) fn check(figment: &Figment, s: &Settings) -> Result<(), String> {
    profile_is_defined(figment)?;
    // Profile names are case-insensitive (`UncasedStr`).
    if figment.profile().as_str() == CLASSROOM_PROFILE {
        classroom_needs(figment, s)?;
    }
    let Some(origin) = given_origin(s) else {
        // What the app serves is what browsers reach: nothing to contradict.
        return Ok(());
    };
    secure_cookies_travel_to(figment, s, origin)?;
    every_address_reaches(figment, origin)
}

/// `site_origin` as set, parsed; `None` when unset (the origins are then the app's own).
fn given_origin(s: &Settings) -> Option<&SiteOrigin> {
    s.site_origin.as_ref().and(s.origins.first())
}

/// A profile no provider defines selects nothing: Rocket starts on its defaults (on 127.0.0.1,
/// none of the profile's settings) without a word. Rocket's own profiles need no file.
fn profile_is_defined(figment: &Figment) -> Result<(), String> {
    let selected = figment.profile();
    let built_in = [
        Profile::Default,
        Profile::Global,
        Config::DEBUG_PROFILE,
        Config::RELEASE_PROFILE,
    ];
    if built_in.contains(selected) || figment.profiles().any(|p| p == selected) {
        return Ok(());
    }
    let files = source::files_read(figment);
    let read = if files.is_empty() {
        let asked = match std::env::var("ROCKET_CONFIG") {
            Ok(path) => format!("ROCKET_CONFIG names {path}, which is not there"),
            Err(_) => format!(
                "none in the working directory or above it, nor at {}",
                source::beside_sources().display()
            ),
        };
        format!("no {} was found ({asked})", source::CONFIG_FILE)
    } else {
        let defined: Vec<String> = figment
            .profiles()
            .filter(|p| *p != Profile::Global)
            .map(|p| p.as_str().to_string())
            .collect();
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        format!(
            "{} defines only {}",
            files.join(" and "),
            defined.join(", ")
        )
    };
    Err(format!(
        "ROCKET_PROFILE={selected} names a profile that no {config} defines: {read}. The app would \
         start on the defaults instead (listening on 127.0.0.1 only, none of the profile's \
         settings). Correct the name, or point ROCKET_CONFIG at the {config} that has a \
         [{selected}] table.",
        config = source::CONFIG_FILE
    ))
}

/// What a class server cannot guess, checked before anything starts: the origin the students'
/// browsers use (a POST from any other is refused, and the app listens on every address, so it
/// cannot tell which one the room reaches it at) and a key that outlives a restart (a random one
/// would log the whole class out each time).
fn classroom_needs(figment: &Figment, s: &Settings) -> Result<(), String> {
    if s.site_origin.is_none() {
        let port = port(figment);
        let example = match lan_address() {
            Some(ip) => format!("here probably http://{ip}:{port}"),
            None => format!("e.g. http://192.168.1.20:{port}"),
        };
        return Err(format!(
            "the {CLASSROOM_PROFILE} profile needs site_origin, the address the students' browsers \
             open: set ROCKET_SITE_ORIGIN=http://<this machine's LAN address>:<port> (find the \
             address with `hostname -I` or `ip -4 addr`; {example})"
        ));
    }
    if key_missing(figment) {
        return Err(format!(
            "the {CLASSROOM_PROFILE} profile needs a secret_key that survives a restart, or every \
             restart logs the class out and erases its progress: {KEEP_A_KEY}"
        ));
    }
    Ok(())
}

/// Browsers drop a `Secure` cookie sent over plain http, so the CSRF cookie never comes back and
/// every form is 403 "no CSRF cookie": nobody can even sign up.
fn secure_cookies_travel_to(
    figment: &Figment,
    s: &Settings,
    origin: &SiteOrigin,
) -> Result<(), String> {
    if !s.secure() || origin.scheme() != "http" {
        return Ok(());
    }
    let given = if figment.find_value("session_cookie_secure").is_ok() {
        ""
    } else {
        " (the default outside the debug profile)"
    };
    Err(format!(
        "session_cookie_secure = true{given} with site_origin = {origin}: browsers drop Secure \
         cookies sent over http, so every form would be refused 403 (no CSRF cookie) and nobody \
         could sign up or log in. Either put TLS in front (deploy/nginx.conf) and set \
         site_origin = \"https://…\", or send cookies over http: \
         ROCKET_SESSION_COOKIE_SECURE=false."
    ))
}

/// Listening on every address is for other machines (a class on the LAN); their browsers send
/// the origin they opened, never this machine's loopback, so every form they post would be 403.
fn every_address_reaches(figment: &Figment, origin: &SiteOrigin) -> Result<(), String> {
    let address = address(figment);
    if !address.is_unspecified() || !origin.is_loopback() {
        return Ok(());
    }
    let port = port(figment);
    let lan = lan_address().map_or("<this machine's LAN address>".into(), |ip| ip.to_string());
    Err(format!(
        "site_origin = {origin} is this machine's loopback, but address = {address} listens on \
         every address for other machines: their browsers send the origin they opened, so every \
         form they post would be refused 403. Set site_origin to the address they open, \
         ROCKET_SITE_ORIGIN=http://{lan}:{port} (`hostname -I` lists this machine's addresses), \
         or listen on this machine only: ROCKET_ADDRESS=127.0.0.1."
    ))
}

fn address(figment: &Figment) -> IpAddr {
    figment
        .extract_inner(Config::ADDRESS)
        .unwrap_or(Ipv4Addr::LOCALHOST.into())
}

fn port(figment: &Figment) -> u16 {
    figment.extract_inner(Config::PORT).unwrap_or(8000)
}

/// This machine's address on its default route: the one a LAN most likely reaches it at. A UDP
/// socket "connected" to an outside address (a documentation one, RFC 5737) only picks the route;
/// no packet is sent. `None` without a route (no network).
pub(super) fn lan_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified() && !ip.is_loopback()).then_some(ip)
}

/// The settings stage: reads the settings into managed state at ignite, or stops the launch with
/// the message; at liftoff, in the classroom profile, says the URL the students type (Rocket's
/// own banner names the address it listens on, `0.0.0.0`, which no browser opens).
pub(super) struct Stage;

#[rocket::async_trait]
impl Fairing for Stage {
    fn info(&self) -> Info {
        Info {
            name: "Settings",
            kind: Kind::Ignite | Kind::Liftoff,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        match Settings::from_figment(rocket.figment()) {
            Ok(settings) => Ok(rocket.manage(settings)),
            Err(e) => {
                eprintln!("session-lab: bad setting: {e}");
                Err(rocket)
            }
        }
    }

    async fn on_liftoff(&self, rocket: &Rocket<Orbit>) {
        if rocket.figment().profile().as_str() != CLASSROOM_PROFILE {
            return;
        }
        let Some(origin) = rocket.state::<Settings>().and_then(given_origin) else {
            return;
        };
        // Once per process: `--mode both` lifts off two apps.
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            println!("session-lab: students open {origin}");
            // A name, or an address this machine may not have: a hint, not a refusal (a machine
            // on two networks has two addresses, and the room may use either).
            let lan = lan_address();
            if let (Some(lan), Ok(named)) = (lan, origin.host().parse::<IpAddr>()) {
                if lan != named {
                    println!(
                        "session-lab: this machine's address on its default route is {lan}; if \
                         the students cannot open {origin}, set \
                         ROCKET_SITE_ORIGIN=http://{lan}:{}",
                        rocket.config().port
                    );
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::figment::providers::Serialized;

    /// A figment whose classroom profile is defined, as `Rocket.toml` defines it.
    fn classroom() -> Figment {
        Figment::new()
            .merge(Serialized::default(Config::ADDRESS, "0.0.0.0").profile(CLASSROOM_PROFILE))
            .merge(Serialized::default("session_cookie_secure", false).profile(CLASSROOM_PROFILE))
            .select(CLASSROOM_PROFILE)
    }

    #[test]
    fn the_classroom_profile_needs_an_origin_and_a_key() {
        let class = |f: Figment| Settings::from_figment(&f);
        let key = ("secret_key", vec![7u8; 64]);
        let origin = ("site_origin", "http://192.168.1.20:8000");
        assert!(class(classroom().merge(key.clone()))
            .unwrap_err()
            .contains("needs site_origin"));
        assert!(class(classroom().merge(origin))
            .unwrap_err()
            .contains("needs a secret_key"));
        let zero = ("secret_key", vec![0u8; 64]);
        let err = class(classroom().merge(origin).merge(zero)).unwrap_err();
        assert!(err.contains("needs a secret_key"), "{err}");
        assert!(err.contains("> ~/session-lab.key"), "{err}");
        assert!(class(classroom().merge(origin).merge(key)).is_ok());
    }

    #[test]
    fn an_undefined_profile_is_refused_and_rockets_own_need_no_file() {
        let err = Settings::from_figment(&Figment::new().select("clasroom")).unwrap_err();
        assert!(err.contains("ROCKET_PROFILE=clasroom"), "{err}");
        for profile in ["default", "debug", "release"] {
            let f = Figment::new().select(profile);
            assert!(Settings::from_figment(&f).is_ok(), "{profile}");
        }
        assert!(Settings::from_figment(
            &classroom()
                .merge(("secret_key", vec![7u8; 64]))
                .merge(("site_origin", "http://192.168.1.20:8000"))
        )
        .is_ok());
    }

    #[test]
    fn secure_cookies_need_an_https_origin() {
        let f = Figment::new()
            .merge(("session_cookie_secure", true))
            .merge(("site_origin", "http://lab.example"));
        let err = Settings::from_figment(&f).unwrap_err();
        assert!(
            err.starts_with("session_cookie_secure = true with"),
            "{err}"
        );
        // The release default is named as a default.
        let f = Figment::new()
            .merge(("site_origin", "http://lab.example"))
            .select(Config::RELEASE_PROFILE);
        let err = Settings::from_figment(&f).unwrap_err();
        assert!(
            err.contains("(the default outside the debug profile)"),
            "{err}"
        );
        let https = ("site_origin", "https://lab.example");
        let f = Figment::new()
            .merge(("session_cookie_secure", true))
            .merge(https);
        assert!(Settings::from_figment(&f).is_ok());
        // Unset, the origin is what the app serves: Secure over http://127.0.0.1 is a tests' and
        // developers' setting (browsers treat localhost as secure).
        let f = Figment::new().merge(("session_cookie_secure", true));
        assert!(Settings::from_figment(&f).is_ok());
    }

    #[test]
    fn a_loopback_origin_is_refused_when_listening_on_every_address() {
        for origin in [
            "http://localhost:8000",
            "http://127.0.0.1:8000",
            "http://[::1]:8000",
        ] {
            for every in ["0.0.0.0", "::"] {
                let f = Figment::new()
                    .merge(("session_cookie_secure", false))
                    .merge((Config::ADDRESS, every))
                    .merge(("site_origin", origin));
                let err = Settings::from_figment(&f).unwrap_err();
                assert!(err.contains("is this machine's loopback"), "{err}");
                assert!(err.contains("ROCKET_ADDRESS=127.0.0.1"), "{err}");
            }
            let f = Figment::new()
                .merge(("session_cookie_secure", false))
                .merge((Config::ADDRESS, "127.0.0.1"))
                .merge(("site_origin", origin));
            assert!(Settings::from_figment(&f).is_ok(), "{origin}");
        }
    }
}
