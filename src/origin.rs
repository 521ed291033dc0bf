//! A site's origin as browsers send it in `Origin`, and the origins the app serves by default: a
//! leaf, so the settings that hold the allowed origins and the CSRF check that compares them both
//! use it without either importing the other.

use std::fmt;
use std::net::IpAddr;

/// An origin as browsers send it in `Origin`: scheme, host and port, compared as a whole. Host
/// names are kept lower-case and the port explicit, so `HTTP://Lab.Example` and
/// `http://lab.example:80` are the same origin and `https://lab.example` another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOrigin {
    scheme: &'static str,
    host: String,
    port: u16,
}

impl SiteOrigin {
    /// Reads `scheme://host[:port]` (a trailing `/` allowed, nothing else after the port);
    /// `None` for anything else, `null` included.
    pub fn parse(origin: &str) -> Option<SiteOrigin> {
        let (scheme, rest) = origin.split_once("://")?;
        let (scheme, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => ("http", 80),
            "https" => ("https", 443),
            _ => return None,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return None;
        }
        // An IPv6 literal keeps its brackets: `[::1]:8000`.
        let (host, port) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (addr, after) = v6.split_once(']')?;
                (format!("[{addr}]"), after)
            }
            None => match rest.split_once(':') {
                Some((host, _)) => (host.to_string(), &rest[host.len()..]),
                None => (rest.to_string(), ""),
            },
        };
        let port = match port {
            "" => default_port,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        if host.is_empty() || host == "[]" {
            return None;
        }
        Some(SiteOrigin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// What the app itself serves when no `site_origin` is set: plain http on its address and
    /// port. A loopback or unspecified address is reached as `localhost` too (the same browser,
    /// the same machine); the guide (csrf-and-headers.md) says to set `site_origin` behind a proxy or TLS.
    pub fn served(address: IpAddr, port: u16) -> Vec<SiteOrigin> {
        let at = |host: String| SiteOrigin {
            scheme: "http",
            host,
            port,
        };
        let literal = match address {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        if address.is_loopback() {
            vec![at(literal), at("localhost".into())]
        } else if address.is_unspecified() {
            vec![
                at("localhost".into()),
                at("127.0.0.1".into()),
                at("[::1]".into()),
            ]
        } else {
            vec![at(literal)]
        }
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The host as browsers send it (lower-case; an IPv6 literal in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether only a browser on this machine can reach it: `localhost` (and its subdomains,
    /// which browsers resolve to loopback) or a loopback address.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for SiteOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        write!(f, "{}://{}", self.scheme, self.host)?;
        if self.port != default_port {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::SiteOrigin;

    fn parsed(s: &str) -> Option<String> {
        SiteOrigin::parse(s).map(|o| o.to_string())
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            parsed("http://127.0.0.1:8000").as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            parsed("https://Lab.Example/").as_deref(),
            Some("https://lab.example")
        );
        assert_eq!(
            parsed("http://lab.example:80").as_deref(),
            Some("http://lab.example")
        );
        assert_eq!(
            parsed("http://[::1]:8000").as_deref(),
            Some("http://[::1]:8000")
        );
        assert_ne!(
            SiteOrigin::parse("https://127.0.0.1:8000"),
            SiteOrigin::parse("http://127.0.0.1:8000")
        );
        for bad in [
            "null",
            "",
            "ftp://lab.example",
            "http://",
            "http://lab.example/path",
            "http://user@lab.example",
            "http://lab.example:port",
            "http://lab.example:99999",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }

    #[test]
    fn loopback_origins_are_the_ones_only_this_machine_reaches() {
        for (origin, loopback) in [
            ("http://localhost:8000", true),
            ("http://app.localhost:8000", true),
            ("http://127.0.0.1:8000", true),
            ("http://127.0.0.2", true),
            ("http://[::1]:8000", true),
            ("http://192.168.1.20:8000", false),
            ("https://lab.example", false),
            ("http://[fe80::1]:8000", false),
        ] {
            let o = SiteOrigin::parse(origin).unwrap();
            assert_eq!(o.is_loopback(), loopback, "{origin}");
        }
    }
}
