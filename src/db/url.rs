//! The database's URL: the options a connection takes from it (no TLS to a server on this
//! machine unless asked), and the same URL with its password hidden, for every message that names
//! it.

use sqlx::postgres::{PgConnectOptions, PgSslMode};

/// The options for `url`. A server on this machine (a loopback address or a Unix socket) is
/// reached without TLS unless the URL or `PGSSLMODE` asks for a mode: sqlx's default, `prefer`,
/// would encrypt every message on a link nobody else can read, and each statement would cost both
/// sides an encryption and a decryption (PostgreSQL on Debian has `ssl = on`).
pub(super) fn connect_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    // sqlx read the same text with the same crate, so it parses here too.
    let mode_asked = url::Url::parse(url).is_ok_and(|u| {
        u.query_pairs()
            .any(|(key, _)| key == "sslmode" || key == "ssl-mode")
    }) || std::env::var_os("PGSSLMODE").is_some();
    Ok(if !mode_asked && is_local(options.get_host()) {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
}

/// `localhost`, a loopback address or a Unix socket directory.
fn is_local(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.starts_with('/')
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, and a `password` query
/// parameter likewise. A text that does not parse as a URL is shown only if it cannot hold a
/// password (no `@`, no `password`).
pub fn redact(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        let may_hold_one = text.contains('@') || text.to_ascii_lowercase().contains("password");
        return if may_hold_one {
            "(an unreadable URL, not shown: it may hold a password)".to_string()
        } else {
            text.to_string()
        };
    };
    if url.password().is_some() {
        // Only a URL with a host has a password, and such a URL accepts a new one.
        let _ = url.set_password(Some("***"));
    }
    let hides_one = url
        .query_pairs()
        .any(|(key, _)| key.eq_ignore_ascii_case("password"));
    if hides_one {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key.eq_ignore_ascii_case("password") {
                    "***".into()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.into()
}

#[cfg(test)]
mod tests {
    use super::{connect_options, redact};

    #[test]
    fn local_servers_go_without_tls_unless_the_url_asks() {
        let mode = |url: &str| format!("{:?}", connect_options(url).unwrap().get_ssl_mode());
        if std::env::var_os("PGSSLMODE").is_none() {
            assert_eq!(mode("postgres://postgres@127.0.0.1:5432/x"), "Disable");
            assert_eq!(mode("postgres://postgres@localhost/x"), "Disable");
            assert_eq!(mode("postgres://postgres@[::1]:5432/x"), "Disable");
            assert_eq!(mode("postgres://postgres@db.example:5432/x"), "Prefer");
        }
        assert_eq!(
            mode("postgres://postgres@127.0.0.1/x?sslmode=require"),
            "Require"
        );
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact("postgres://u:s3cret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(redact("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(redact("not a url"), "not a url");
        assert!(!redact("postgres://u:s3cret@db:port/x").contains("s3cret"));
        assert_eq!(redact("postgres://u:p@ss@db/x"), "postgres://u:***@db/x");
        assert_eq!(
            redact("postgres://u@db/x?sslmode=disable&password=s3cret"),
            "postgres://u@db/x?sslmode=disable&password=***"
        );
    }
}
