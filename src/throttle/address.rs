//! The client address a request is counted against, per /64 for IPv6.

use std::net::{IpAddr, Ipv6Addr};

use rocket::request::{FromRequest, Outcome, Request};

/// The address a request is counted against: Rocket's `client_ip` (the `ip_header`, by default
/// `X-Real-IP`, as set by the reverse proxy in `deploy/`; else the peer). IPv6 addresses count
/// per /64, the block one subscriber gets: counting single addresses would let one machine
/// rotate through billions of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The address `req` is counted against (also outside a guard: the response step).
    pub fn of(req: &Request<'_>) -> ClientAddr {
        // No address at all (a local test client without one): all such requests share a bucket.
        let ip = req.client_ip().unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        ClientAddr(block_of(ip))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientAddr::of(req))
    }
}

fn block_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(block_of(a), block_of(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(block_of(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
