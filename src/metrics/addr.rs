//! `--metrics-addr`: where to serve `/metrics`. Loopback unless the user
//! names another host: a metrics endpoint tells anyone who can reach it
//! which errors the workloads hit, so exposing it is a decision to make
//! explicitly, not a default.
//!
//! Accepted forms: `:9464` or `9464` (127.0.0.1), `127.0.0.1:9464`,
//! `[::1]:9464`, `0.0.0.0:9464` (every interface), `localhost:9464`,
//! `HOST:9464` (resolved once, at start-up).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsAddr(pub SocketAddr);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid metrics address {given:?}: {why}; write [HOST]:PORT, e.g. :9464 (loopback), 127.0.0.1:9464 or 0.0.0.0:9464 (every interface)"
)]
pub struct AddrError {
    pub given: String,
    pub why: String,
}

impl FromStr for MetricsAddr {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<MetricsAddr, AddrError> {
        let err = |why: &str| AddrError {
            given: s.to_string(),
            why: why.to_string(),
        };
        let port = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| err("the port must be a number from 0 to 65535"))
        };
        let s = s.trim();
        if s.is_empty() {
            return Err(err("empty"));
        }
        // No host: loopback.
        if let Some(p) = s.strip_prefix(':') {
            return Ok(MetricsAddr((Ipv4Addr::LOCALHOST, port(p)?).into()));
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(MetricsAddr((Ipv4Addr::LOCALHOST, port(s)?).into()));
        }
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Ok(MetricsAddr(a));
        }
        let Some((host, p)) = s.rsplit_once(':') else {
            return Err(err("no port"));
        };
        let p = port(p)?;
        if host.is_empty() || host.contains(['/', '[', ']', ':']) {
            return Err(err("not a host name or IP address"));
        }
        if host.eq_ignore_ascii_case("localhost") {
            return Ok(MetricsAddr((Ipv4Addr::LOCALHOST, p).into()));
        }
        match (host, p).to_socket_addrs() {
            Ok(mut addrs) => addrs
                .next()
                .map(MetricsAddr)
                .ok_or_else(|| err("the host name has no address")),
            Err(e) => Err(err(&format!("cannot resolve {host:?}: {e}"))),
        }
    }
}

impl fmt::Display for MetricsAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<String, AddrError> {
        s.parse::<MetricsAddr>().map(|a| a.to_string())
    }

    #[test]
    fn no_host_means_loopback() {
        assert_eq!(parse(":9464").unwrap(), "127.0.0.1:9464");
        assert_eq!(parse("9464").unwrap(), "127.0.0.1:9464");
        assert_eq!(parse("localhost:9464").unwrap(), "127.0.0.1:9464");
    }

    #[test]
    fn explicit_addresses_are_taken_as_given() {
        assert_eq!(parse("127.0.0.1:1").unwrap(), "127.0.0.1:1");
        assert_eq!(parse("0.0.0.0:9464").unwrap(), "0.0.0.0:9464");
        assert_eq!(parse("[::1]:9464").unwrap(), "[::1]:9464");
        assert_eq!(parse("[::]:9464").unwrap(), "[::]:9464");
    }

    #[test]
    fn bad_addresses_say_what_to_write() {
        for bad in [
            "",
            "abc",
            ":port",
            ":70000",
            "1.2.3.4",
            "1.2.3.4:",
            "http://x:1",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("[HOST]:PORT"), "{bad}: {e}");
        }
    }
}
