//! The CORS rules of the Fetch standard (<https://fetch.spec.whatwg.org/>) that decide what a
//! browser sends for a cross-origin `fetch()` and whether it lets the page read the response.
//! Names in quotes are the standard's terms for each rule.
//!
//! Known differences from a browser, which matter only in rare cases:
//!
//! - Request header values are checked as the UTF-8 bytes of the command-line argument, while
//!   `fetch` turns a JavaScript string into bytes one character per byte.
//! - A browser may safelist a few request headers beyond the standard's list, and may not yet
//!   enforce every rule below. The doctor follows the standard.

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
};
use http::{HeaderMap, HeaderName, HeaderValue};

/// A request header as `fetch` would send it: the name lowercased, values of repeated names
/// combined with `, `.
pub type RequestHeader = (HeaderName, HeaderValue);

/// The preflight cache time that applies when `Access-Control-Max-Age` is missing or invalid, in
/// seconds.
pub const DEFAULT_MAX_AGE_SECONDS: u64 = 5;

/// Ports to which a browser never connects ("bad port"), so that a page cannot talk to mail,
/// IRC or other non-HTTP services.
const BAD_PORTS: &[u16] = &[
    0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101,
    102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427,
    465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
    993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
    6668, 6669, 6679, 6697, 10080,
];

/// Tells whether a browser blocks every request to `port` ("bad port").
pub fn is_bad_port(port: u16) -> bool {
    BAD_PORTS.contains(&port)
}

/// Tells whether `method` needs no preflight ("CORS-safelisted method"). The comparison is
/// case-sensitive, after [`normalize_method`].
pub fn is_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// Uppercases the six method names that `fetch` normalizes ("normalize a method"). Every other
/// method keeps its case, so `patch` is sent as `patch`, which `Access-Control-Allow-Methods:
/// PATCH` does not allow.
pub fn normalize_method(method: &str) -> String {
    const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    NORMALIZED
        .iter()
        .find(|name| name.eq_ignore_ascii_case(method))
        .map_or_else(|| method.to_owned(), |name| (*name).to_owned())
}

/// Tells whether `fetch` throws a `TypeError` for `method` ("forbidden method").
pub fn is_forbidden_method(method: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|name| name.eq_ignore_ascii_case(method))
}

/// Tells whether `fetch` silently drops this header ("forbidden request-header"), because the
/// browser alone sets it.
pub fn is_forbidden_request_header(name: &HeaderName, value: &HeaderValue) -> bool {
    const FORBIDDEN: [&str; 21] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    let name = name.as_str();
    if FORBIDDEN.contains(&name) || name.starts_with("proxy-") || name.starts_with("sec-") {
        return true;
    }
    // These headers would let a page smuggle a forbidden method past the browser.
    if matches!(
        name,
        "x-http-method" | "x-http-method-override" | "x-method-override"
    ) {
        return String::from_utf8_lossy(value.as_bytes())
            .split(',')
            .any(|method| is_forbidden_method(method.trim_matches([' ', '\t'])));
    }
    false
}

/// Tells whether a header needs no preflight on its own ("CORS-safelisted request-header").
/// [`unsafe_request_header_names`] also limits the total size of such headers.
pub fn is_safelisted_request_header(name: &HeaderName, value: &[u8]) -> bool {
    if value.len() > 128 {
        return false;
    }
    match name.as_str() {
        "accept" => !value.iter().copied().any(is_unsafe_request_header_byte),
        "accept-language" | "content-language" => value
            .iter()
            .all(|&byte| byte.is_ascii_alphanumeric() || b" *,-.;=".contains(&byte)),
        "content-type" => {
            !value.iter().copied().any(is_unsafe_request_header_byte)
                && is_safelisted_content_type(value)
        }
        "range" => is_safelisted_range(value),
        _ => false,
    }
}

/// Tells whether `byte` makes an `Accept` or `Content-Type` value need a preflight
/// ("CORS-unsafe request-header byte").
fn is_unsafe_request_header_byte(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\t') || b"\"():<>?@[\\]{}\x7f".contains(&byte)
}

/// Tells whether the MIME type essence of `value` is one of the three that an HTML form can
/// send. The parameters after `;` do not matter, as in the MIME Sniffing standard's parser,
/// which skips invalid parameters instead of failing.
fn is_safelisted_content_type(value: &[u8]) -> bool {
    let value = String::from_utf8_lossy(value);
    let value = value.trim_matches(is_http_whitespace);
    let essence = value.split(';').next().unwrap_or_default();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let subtype = subtype.trim_end_matches(is_http_whitespace);
    if !is_token(kind) || !is_token(subtype) {
        return false;
    }
    let essence = format!("{kind}/{subtype}").to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
    )
}

/// Tells whether `value` is a single byte range with a start, such as `bytes=0-` or
/// `bytes=0-499`, written without whitespace. Suffix ranges such as `bytes=-500` need a
/// preflight, because browsers have not historically sent them on their own.
fn is_safelisted_range(value: &[u8]) -> bool {
    let Some(prefix) = value.get(..6) else {
        return false;
    };
    if !prefix.eq_ignore_ascii_case(b"bytes=") {
        return false;
    }
    let Ok(range) = std::str::from_utf8(&value[6..]) else {
        return false;
    };
    let Some((start, end)) = range.split_once('-') else {
        return false;
    };
    let is_digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !is_digits(start) || !(end.is_empty() || is_digits(end)) {
        return false;
    }
    if end.is_empty() {
        return true;
    }
    // Both parse unless they overflow, and an overflowing range is invalid anyway.
    matches!(
        (start.parse::<u64>(), end.parse::<u64>()),
        (Ok(start), Ok(end)) if start <= end
    )
}

/// Returns the names of the request headers that need a preflight, lowercased, deduplicated and
/// sorted ("CORS-unsafe request-header names"). This is also the value of
/// `Access-Control-Request-Headers`, joined with `,`.
///
/// When the safelisted headers add up to more than 1024 bytes of values, they all count as
/// unsafe.
pub fn unsafe_request_header_names(headers: &[RequestHeader]) -> Vec<String> {
    let mut unsafe_names = Vec::new();
    let mut safelisted_names = Vec::new();
    let mut safelisted_size = 0;
    for (name, value) in headers {
        if is_safelisted_request_header(name, value.as_bytes()) {
            safelisted_names.push(name.as_str().to_owned());
            safelisted_size += value.len();
        } else {
            unsafe_names.push(name.as_str().to_owned());
        }
    }
    if safelisted_size > 1024 {
        unsafe_names.append(&mut safelisted_names);
    }
    unsafe_names.sort();
    unsafe_names.dedup();
    unsafe_names
}

/// A reason for a response to fail the "CORS check", which every response to a CORS request must pass, the
/// preflight response included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessFailure {
    /// No `Access-Control-Allow-Origin` header.
    MissingAllowOrigin,
    /// Several `Access-Control-Allow-Origin` headers, or one with a comma-separated list. A
    /// browser combines them into one value, which matches no origin.
    SeveralAllowOrigins(Vec<String>),
    /// `Access-Control-Allow-Origin: *` on a request with credentials.
    WildcardWithCredentials,
    /// `Access-Control-Allow-Origin` names another origin than the page's.
    OtherOrigin(String),
    /// A request with credentials, and `Access-Control-Allow-Credentials` missing (`None`) or
    /// not exactly `true`.
    CredentialsNotAllowed(Option<String>),
}

/// Runs the "CORS check" on a response: `Access-Control-Allow-Origin` must be `*` (only without
/// credentials) or the page's origin byte for byte, and with credentials,
/// `Access-Control-Allow-Credentials` must be exactly `true`.
pub fn check_access(
    headers: &HeaderMap,
    origin: &str,
    credentials: bool,
) -> Result<(), AccessFailure> {
    let allow_origin: Vec<String> = header_lines(headers, &ACCESS_CONTROL_ALLOW_ORIGIN);
    let Some(first) = allow_origin.first() else {
        return Err(AccessFailure::MissingAllowOrigin);
    };
    // A serialized origin never contains a comma, so a comma means a list of values.
    if allow_origin.len() > 1 || first.contains(',') {
        let values = allow_origin
            .iter()
            .flat_map(|line| line.split(','))
            .map(|value| value.trim().to_owned())
            .collect();
        return Err(AccessFailure::SeveralAllowOrigins(values));
    }
    if first == "*" {
        return if credentials {
            Err(AccessFailure::WildcardWithCredentials)
        } else {
            Ok(())
        };
    }
    if first != origin {
        return Err(AccessFailure::OtherOrigin(first.clone()));
    }
    if !credentials {
        return Ok(());
    }
    match combined_value(headers, &ACCESS_CONTROL_ALLOW_CREDENTIALS) {
        Some(value) if value == "true" => Ok(()),
        other => Err(AccessFailure::CredentialsNotAllowed(other)),
    }
}

/// A reason for a preflight response to fail although it passed the CORS check and has an ok
/// status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PreflightFailure {
    /// `Access-Control-Allow-Methods` or `Access-Control-Allow-Headers` contains an item that is
    /// not a method or header name, which fails the whole preflight.
    InvalidList { header: HeaderName, item: String },
    /// The request's method is not safelisted, not listed, and not covered by `*`.
    MethodNotAllowed {
        method: String,
        /// The `Access-Control-Allow-Methods` items.
        allowed: Vec<String>,
    },
    /// The request sends `Authorization`, which `*` never covers, and the allowed headers do
    /// not name it.
    AuthorizationNotListed {
        /// The `Access-Control-Allow-Headers` items.
        allowed: Vec<String>,
    },
    /// A header that needs a preflight is not listed and not covered by `*`.
    HeaderNotAllowed {
        name: String,
        /// The `Access-Control-Allow-Headers` items.
        allowed: Vec<String>,
    },
}

/// The rule by which the preflight allowed the request's method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodAllowance {
    /// `GET`, `HEAD` or `POST` need no listing.
    Safelisted,
    /// `Access-Control-Allow-Methods` lists the method.
    Listed,
    /// `Access-Control-Allow-Methods: *`, which counts only without credentials.
    Wildcard,
}

/// The rule by which the preflight allowed one request header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderAllowance {
    pub name: String,
    /// `false` when only `*` covers the header.
    pub listed: bool,
}

/// The outcome of the method and header rules of a preflight response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreflightResult {
    pub method: Option<MethodAllowance>,
    pub headers: Vec<HeaderAllowance>,
    pub failures: Vec<PreflightFailure>,
}

/// Checks the method and header rules of a "CORS-preflight fetch" on a response that passed the
/// CORS check. Every failure is listed, not only the first one a browser would stop at.
pub fn check_preflight_lists(
    headers: &HeaderMap,
    method: &str,
    unsafe_names: &[String],
    credentials: bool,
) -> PreflightResult {
    let mut result = PreflightResult::default();
    let methods = extract_list(headers, &ACCESS_CONTROL_ALLOW_METHODS);
    let header_names = extract_list(headers, &ACCESS_CONTROL_ALLOW_HEADERS);
    let (methods, header_names) = match (methods, header_names) {
        (Ok(methods), Ok(header_names)) => (methods, header_names),
        (Err(failure), _) | (_, Err(failure)) => {
            result.failures.push(failure);
            return result;
        }
    };

    let wildcard_counts = !credentials;
    if is_safelisted_method(method) {
        result.method = Some(MethodAllowance::Safelisted);
    } else if methods.iter().any(|item| item == method) {
        result.method = Some(MethodAllowance::Listed);
    } else if wildcard_counts && methods.iter().any(|item| item == "*") {
        result.method = Some(MethodAllowance::Wildcard);
    } else {
        result.failures.push(PreflightFailure::MethodNotAllowed {
            method: method.to_owned(),
            allowed: methods,
        });
    }

    let is_listed = |name: &str| {
        header_names
            .iter()
            .any(|item| item.eq_ignore_ascii_case(name))
    };
    let wildcard_headers = wildcard_counts && header_names.iter().any(|item| item == "*");
    for name in unsafe_names {
        if is_listed(name) {
            result.headers.push(HeaderAllowance {
                name: name.clone(),
                listed: true,
            });
        } else if name == "authorization" {
            // "CORS non-wildcard request-header name": `*` never covers it.
            result
                .failures
                .push(PreflightFailure::AuthorizationNotListed {
                    allowed: header_names.clone(),
                });
        } else if wildcard_headers {
            result.headers.push(HeaderAllowance {
                name: name.clone(),
                listed: false,
            });
        } else {
            result.failures.push(PreflightFailure::HeaderNotAllowed {
                name: name.clone(),
                allowed: header_names.clone(),
            });
        }
    }
    result
}

/// Returns the preflight cache time from `Access-Control-Max-Age` in seconds, or `None` when the
/// header is missing or invalid, which means [`DEFAULT_MAX_AGE_SECONDS`].
pub fn max_age_seconds(headers: &HeaderMap) -> Option<u64> {
    let value = combined_value(headers, &ACCESS_CONTROL_MAX_AGE)?;
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    // A value beyond u64 is far over every browser's cap, so saturate instead of failing.
    Some(value.parse().unwrap_or(u64::MAX))
}

/// The response headers of a CORS response, split by whether page JavaScript can read them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseHeaderAccess {
    pub readable: Vec<String>,
    pub hidden: Vec<String>,
}

/// Splits the response header names into those a page can read ("CORS-safelisted
/// response-header name" or listed in `Access-Control-Expose-Headers`, where `*` counts only
/// without credentials) and the rest. `Set-Cookie` is never readable.
pub fn response_header_access(headers: &HeaderMap, credentials: bool) -> ResponseHeaderAccess {
    const SAFELISTED: [&str; 7] = [
        "cache-control",
        "content-language",
        "content-length",
        "content-type",
        "expires",
        "last-modified",
        "pragma",
    ];
    // An invalid list exposes nothing beyond the safelisted names.
    let exposed = extract_list(headers, &ACCESS_CONTROL_EXPOSE_HEADERS).unwrap_or_default();
    let expose_all = !credentials && exposed.iter().any(|item| item == "*");

    let mut access = ResponseHeaderAccess::default();
    for name in headers.keys() {
        let name = name.as_str();
        let forbidden = name == "set-cookie" || name == "set-cookie2";
        let readable = !forbidden
            && (SAFELISTED.contains(&name)
                || expose_all
                || exposed.iter().any(|item| item.eq_ignore_ascii_case(name)));
        if readable {
            access.readable.push(name.to_owned());
        } else {
            access.hidden.push(name.to_owned());
        }
    }
    access
}

/// Returns the comma-separated items of a list header ("extracting header list values"),
/// empty items skipped, or the failure for an item that is not a token.
fn extract_list(headers: &HeaderMap, name: &HeaderName) -> Result<Vec<String>, PreflightFailure> {
    let Some(value) = combined_value(headers, name) else {
        return Ok(Vec::new());
    };
    let mut items = Vec::new();
    for item in value.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return Err(PreflightFailure::InvalidList {
                header: name.clone(),
                item: item.to_owned(),
            });
        }
        items.push(item.to_owned());
    }
    Ok(items)
}

/// Returns every value of the header `name`, one per header line, decoded lossily.
pub fn header_lines(headers: &HeaderMap, name: &HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect()
}

/// Returns the values of the header `name` joined with `, `, as a browser reads a repeated
/// header ("get" a header from a header list), or `None` when it is missing.
fn combined_value(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let lines = header_lines(headers, name);
    if lines.is_empty() {
        None
    } else {
        Some(lines.join(", "))
    }
}

/// Tells whether `text` is an HTTP token, the syntax of method and header names (RFC 9110,
/// section 5.6.2).
pub fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

fn is_http_whitespace(character: char) -> bool {
    matches!(character, ' ' | '\t' | '\n' | '\r')
}
