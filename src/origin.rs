//! Deciding whether a request's `Origin` is allowed.
//!
//! Browsers send an origin serialized as `scheme://host[:port]`, in lower case and without the
//! scheme's default port. Configured origins are normalized to that form when the layer is built,
//! so a request's `Origin` is compared byte for byte and never rewritten.

use std::collections::HashSet;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use http::HeaderValue;

use crate::ConfigError;

/// A user-supplied origin check, called with the request's `Origin` header.
pub(crate) type Predicate = Arc<dyn Fn(&HeaderValue) -> bool + Send + Sync>;

/// The origins a configuration allows.
#[derive(Clone)]
pub(crate) enum OriginPolicy {
    /// Every origin, `null` included, allowed with `Access-Control-Allow-Origin: *`.
    Any,
    /// The origins matched by a list, patterns or a predicate, each echoed in the response.
    Matching(OriginMatcher),
}

/// The exact origins, subdomain patterns and predicate of an allow-list.
#[derive(Clone, Default)]
pub(crate) struct OriginMatcher {
    exact: HashSet<Box<[u8]>>,
    patterns: Vec<SubdomainPattern>,
    predicate: Option<Predicate>,
    allow_null: bool,
}

impl OriginMatcher {
    /// Builds a matcher from configured entries: exact origins, `scheme://*.domain[:port]`
    /// patterns, and the literal `null`.
    pub(crate) fn new<'a>(
        entries: impl IntoIterator<Item = &'a str>,
        predicate: Option<Predicate>,
    ) -> Result<Self, ConfigError> {
        let mut matcher = Self {
            predicate,
            ..Self::default()
        };
        for entry in entries {
            if entry == "null" {
                matcher.allow_null = true;
            } else if entry.trim() == "*" {
                return Err(ConfigError::WildcardInOriginList);
            } else if entry.contains('*') {
                matcher.patterns.push(SubdomainPattern::parse(entry)?);
            } else {
                matcher
                    .exact
                    .insert(normalize_origin(entry)?.into_bytes().into_boxed_slice());
            }
        }
        Ok(matcher)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.exact.is_empty()
            && self.patterns.is_empty()
            && self.predicate.is_none()
            && !self.allow_null
    }

    /// Tells whether `origin` is allowed. The opaque origin `null` is allowed only when listed:
    /// patterns and the predicate never see it.
    pub(crate) fn allows(&self, origin: &HeaderValue) -> bool {
        let bytes = origin.as_bytes();
        if bytes == b"null" {
            return self.allow_null;
        }
        self.exact.contains(bytes)
            || self.patterns.iter().any(|pattern| pattern.matches(bytes))
            || self
                .predicate
                .as_ref()
                .is_some_and(|predicate| predicate(origin))
    }
}

impl fmt::Debug for OriginMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut exact: Vec<_> = self
            .exact
            .iter()
            .map(|o| String::from_utf8_lossy(o))
            .collect();
        exact.sort();
        f.debug_struct("OriginMatcher")
            .field("exact", &exact)
            .field("patterns", &self.patterns)
            .field(
                "predicate",
                &self.predicate.as_ref().map(|_| "Fn(&HeaderValue) -> bool"),
            )
            .field("allow_null", &self.allow_null)
            .finish()
    }
}

impl fmt::Debug for OriginPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("Any"),
            Self::Matching(matcher) => matcher.fmt(f),
        }
    }
}

/// A pattern `scheme://*.domain[:port]`: one or more labels before `domain`, not `domain` itself.
#[derive(Clone)]
struct SubdomainPattern {
    /// `scheme://`
    prefix: Box<[u8]>,
    /// `.domain` or `.domain:port`
    suffix: Box<[u8]>,
}

impl SubdomainPattern {
    fn parse(pattern: &str) -> Result<Self, ConfigError> {
        let invalid = |reason| ConfigError::InvalidOriginPattern {
            pattern: pattern.to_owned(),
            reason,
        };
        let (scheme, rest) = split_scheme(pattern).map_err(invalid)?;
        let Some(domain_and_port) = rest.strip_prefix("*.") else {
            return Err(invalid(
                "the only wildcard allowed is a leading \"*.\" before the domain",
            ));
        };
        if domain_and_port.contains('*') {
            return Err(invalid(
                "the only wildcard allowed is a leading \"*.\" before the domain",
            ));
        }
        let (domain, port) = split_host_port(domain_and_port, &scheme).map_err(invalid)?;
        if domain.starts_with('[') || domain.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(invalid("a pattern needs a domain name, not an IP address"));
        }
        if !domain.contains('.') {
            return Err(invalid("a pattern needs at least two labels after \"*.\""));
        }
        let suffix = match port {
            Some(port) => format!(".{domain}:{port}"),
            None => format!(".{domain}"),
        };
        Ok(Self {
            prefix: format!("{scheme}://").into_bytes().into_boxed_slice(),
            suffix: suffix.into_bytes().into_boxed_slice(),
        })
    }

    fn matches(&self, origin: &[u8]) -> bool {
        let Some(rest) = origin.strip_prefix(&*self.prefix) else {
            return false;
        };
        let Some(labels) = rest.strip_suffix(&*self.suffix) else {
            return false;
        };
        is_subdomain_labels(labels)
    }
}

impl fmt::Debug for SubdomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = String::from_utf8_lossy(&self.prefix);
        let suffix = String::from_utf8_lossy(&self.suffix);
        write!(f, "\"{prefix}*{suffix}\"")
    }
}

/// Tells whether `labels` is one or more dot-separated DNS labels in a browser's serialization.
fn is_subdomain_labels(labels: &[u8]) -> bool {
    !labels.is_empty()
        && labels.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.iter().all(|&b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                })
        })
}

/// Checks a configured origin and returns it as a browser serializes it: scheme and host in lower
/// case, the scheme's default port removed.
pub(crate) fn normalize_origin(origin: &str) -> Result<String, ConfigError> {
    let invalid = |reason| ConfigError::InvalidOrigin {
        origin: origin.to_owned(),
        reason,
    };
    let (scheme, rest) = split_scheme(origin).map_err(invalid)?;
    let (host, port) = split_host_port(rest, &scheme).map_err(invalid)?;
    Ok(match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Splits `scheme://rest`, returning the scheme in lower case.
fn split_scheme(origin: &str) -> Result<(String, &str), &'static str> {
    if origin.trim() != origin {
        return Err("it has leading or trailing whitespace");
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err("the scheme is missing");
    };
    let mut chars = scheme.chars();
    let valid_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return Err("the scheme is not valid");
    }
    Ok((scheme.to_ascii_lowercase(), rest))
}

/// Splits `host[:port]` after the scheme, returning the host in lower case and the port unless it
/// is the scheme's default.
fn split_host_port(rest: &str, scheme: &str) -> Result<(String, Option<u16>), &'static str> {
    if rest.is_empty() {
        return Err("the host is missing");
    }
    if rest.ends_with('/') {
        return Err("an origin has no path, not even a trailing \"/\"; remove it");
    }
    if rest.contains(['/', '?', '#']) {
        return Err("an origin has no path, query or fragment; remove them");
    }
    if rest.contains('@') {
        return Err("an origin has no user name or password; remove them");
    }
    if !rest.is_ascii() {
        return Err("write an internationalized domain name in its ASCII form (xn--...)");
    }
    let (host, port) = match rest.rfind(':') {
        Some(colon) if !rest[colon..].contains(']') => (&rest[..colon], Some(&rest[colon + 1..])),
        _ => (rest, None),
    };
    let host = normalize_host(host)?;
    let port = match port {
        None => None,
        Some(port) => {
            let number = port
                .parse::<u16>()
                .ok()
                .filter(|&n| n != 0 && port.bytes().all(|b| b.is_ascii_digit()))
                .ok_or("the port is not a number from 1 to 65535")?;
            let default = match scheme {
                "http" | "ws" => Some(80),
                "https" | "wss" => Some(443),
                _ => None,
            };
            (default != Some(number)).then_some(number)
        }
    };
    Ok((host, port))
}

/// Checks a host and returns it as a browser's URL parser serializes it: a domain in lower case,
/// an IPv4 address as four decimal numbers, an IPv6 address compressed in brackets.
///
/// Hosts that a browser would rewrite, such as `127.1` or `[0:0:0:0:0:0:0:1]`, are normalized or
/// rejected here, since the request's `Origin` always carries the rewritten form.
fn normalize_host(host: &str) -> Result<String, &'static str> {
    if host.is_empty() {
        return Err("the host is missing");
    }
    if let Some(inner) = host.strip_prefix('[') {
        let address = inner
            .strip_suffix(']')
            .and_then(|address| address.parse::<Ipv6Addr>().ok())
            .ok_or("the IPv6 address in brackets is not valid")?;
        return Ok(serialize_ipv6(address));
    }
    let valid_characters = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    // A single trailing dot is kept: `example.com.` is a distinct origin to a browser.
    if !valid_characters || host.starts_with('.') || host.contains("..") {
        return Err("the host is not a valid domain name or IP address");
    }
    if ends_in_number(host) {
        // Browsers read a host ending in a number as IPv4 and rewrite forms such as `127.1`,
        // `0x7f.0.0.1` or `2130706433` to `127.0.0.1`. Only the dotted form can ever match.
        return host
            .parse::<Ipv4Addr>()
            .map(|address| address.to_string())
            .map_err(|_| "write an IPv4 address as four decimal numbers, such as 127.0.0.1");
    }
    Ok(host.to_ascii_lowercase())
}

/// Tells whether the last label of a host is a number, which makes a browser parse the host as
/// an IPv4 address.
fn ends_in_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or(host);
    let hex = last
        .strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    hex || (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
}

/// Serializes an IPv6 address as a browser does: lower-case hexadecimal groups, the first
/// longest run of two or more zero groups written as `::`, and no embedded IPv4 notation.
fn serialize_ipv6(address: Ipv6Addr) -> String {
    let groups = address.segments();
    let mut longest = 0..0;
    let mut index = 0;
    while index < groups.len() {
        let start = index;
        while index < groups.len() && groups[index] == 0 {
            index += 1;
        }
        if index - start > longest.len().max(1) {
            longest = start..index;
        }
        index = index.max(start + 1);
    }
    let hex = |groups: &[u16]| {
        let parts: Vec<String> = groups.iter().map(|group| format!("{group:x}")).collect();
        parts.join(":")
    };
    if longest.is_empty() {
        return format!("[{}]", hex(&groups));
    }
    format!(
        "[{}::{}]",
        hex(&groups[..longest.start]),
        hex(&groups[longest.end..])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(entries: &[&str]) -> OriginMatcher {
        OriginMatcher::new(entries.iter().copied(), None).unwrap()
    }

    fn allows(matcher: &OriginMatcher, origin: &'static str) -> bool {
        matcher.allows(&HeaderValue::from_static(origin))
    }

    #[test]
    fn exact_origin_matches_only_itself() {
        let m = matcher(&["https://app.example.com"]);
        assert!(allows(&m, "https://app.example.com"));
        assert!(!allows(&m, "http://app.example.com"));
        assert!(!allows(&m, "https://app.example.com:8443"));
        assert!(!allows(&m, "https://app.example.com.evil.net"));
    }

    #[test]
    fn configured_origin_normalized() {
        assert_eq!(
            normalize_origin("HTTPS://App.Example.COM:443").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:80").unwrap(),
            "http://127.0.0.1"
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:8000").unwrap(),
            "http://127.0.0.1:8000"
        );
        assert_eq!(
            normalize_origin("http://[::1]:8000").unwrap(),
            "http://[::1]:8000"
        );
        assert_eq!(normalize_origin("http://[::1]").unwrap(), "http://[::1]");
        assert_eq!(
            normalize_origin("http://[0:0:0:0:0:0:0:1]:8000").unwrap(),
            "http://[::1]:8000"
        );
        assert_eq!(
            normalize_origin("http://[::FFFF:127.0.0.1]").unwrap(),
            "http://[::ffff:7f00:1]"
        );
        assert_eq!(
            normalize_origin("http://[2001:DB8:0:0:1:0:0:1]").unwrap(),
            "http://[2001:db8::1:0:0:1]"
        );
        assert_eq!(
            normalize_origin("http://[1:0:2:0:3:0:4:0]").unwrap(),
            "http://[1:0:2:0:3:0:4:0]"
        );
        assert_eq!(normalize_origin("http://[1::]").unwrap(), "http://[1::]");
        assert_eq!(
            normalize_origin("https://Example.COM.").unwrap(),
            "https://example.com."
        );
        assert_eq!(
            normalize_origin("http://10.0.0.1:8000").unwrap(),
            "http://10.0.0.1:8000"
        );
    }

    #[test]
    fn configured_origin_rejections() {
        for bad in [
            "app.example.com",
            "https://",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://user@app.example.com",
            "https://app.example.com:0",
            "https://app.example.com:99999",
            "https://app.example.com:",
            "https://bücher.example",
            " https://app.example.com",
            "1https://app.example.com",
            "https://app..example.com",
            "https://[zz]",
            "http://127.1:8000",
            "http://0x7f.0.0.1",
            "http://2130706433",
            "http://127.000.000.001",
            "http://1.2.3.4.5",
            "http://[::1",
        ] {
            assert!(
                matches!(
                    normalize_origin(bad),
                    Err(ConfigError::InvalidOrigin { .. })
                ),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn pattern_matches_subdomains_not_apex() {
        let m = matcher(&["https://*.example.com"]);
        assert!(allows(&m, "https://app.example.com"));
        assert!(allows(&m, "https://a.b.example.com"));
        assert!(!allows(&m, "https://example.com"));
        assert!(!allows(&m, "https://.example.com"));
    }

    #[test]
    fn pattern_rejects_lookalike_hosts() {
        let m = matcher(&["https://*.example.com"]);
        assert!(!allows(&m, "https://evil-example.com"));
        assert!(!allows(&m, "https://example.com.evil.net"));
        assert!(!allows(&m, "https://app.example.com.evil.net"));
        assert!(!allows(&m, "https://evil.net/.example.com"));
        assert!(!allows(&m, "http://app.example.com"));
    }

    #[test]
    fn pattern_port_matches_only_when_written() {
        let without_port = matcher(&["https://*.example.com"]);
        assert!(!allows(&without_port, "https://app.example.com:8443"));
        let with_port = matcher(&["https://*.example.com:8443"]);
        assert!(allows(&with_port, "https://app.example.com:8443"));
        assert!(!allows(&with_port, "https://app.example.com"));
        let default_port = matcher(&["https://*.example.com:443"]);
        assert!(allows(&default_port, "https://app.example.com"));
    }

    #[test]
    fn pattern_rejections() {
        for bad in [
            "https://*example.com",
            "https://app.*.example.com",
            "https://*.*.example.com",
            "https://*.com",
            "https://*.127.0.0.1",
            "*.example.com",
            "https://*.example.com/",
        ] {
            assert!(
                matches!(
                    OriginMatcher::new([bad], None),
                    Err(ConfigError::InvalidOriginPattern { .. })
                ),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn null_origin_only_when_listed() {
        let listed = matcher(&["null"]);
        assert!(allows(&listed, "null"));
        let predicate: Predicate = Arc::new(|_| true);
        let by_predicate = OriginMatcher::new([], Some(predicate)).unwrap();
        assert!(!allows(&by_predicate, "null"));
        assert!(allows(&by_predicate, "https://anything.example"));
    }

    #[test]
    fn wildcard_entry_rejected() {
        assert_eq!(
            OriginMatcher::new(["https://a.example", "*"], None).unwrap_err(),
            ConfigError::WildcardInOriginList
        );
    }
}
