//! The doctor's command line. Arguments are checked the way `fetch()` checks its own: an input
//! for which `fetch` throws a `TypeError` is a usage error here.

use std::ffi::OsString;
use std::time::Duration;

use http::uri::Authority;
use http::{HeaderName, HeaderValue, Uri};

use crate::cli::ArgumentReader;
use crate::fetch_rules::{self, RequestHeader};

/// The exit code for invalid arguments.
pub const USAGE_EXIT_CODE: u8 = 2;

/// The content type that `fetch` adds for a string body when the page sets none.
pub const STRING_BODY_CONTENT_TYPE: &str = "text/plain;charset=UTF-8";

const DEFAULT_TIMEOUT_SECONDS: u64 = 10;

/// The URL that the page fetches, split into the parts the client needs.
#[derive(Clone, Debug)]
pub struct Target {
    /// The URL as given, without a `#fragment`, which a browser never sends.
    pub url: String,
    /// The host to resolve, without the brackets of an IPv6 address.
    pub host: String,
    pub port: u16,
    /// The `Host` header: the lowercase host, and the port unless it is 80.
    pub host_header: String,
    /// The request target: path and query, `/` when the URL has no path.
    pub path_and_query: String,
    /// The URL's serialized origin, such as `http://127.0.0.1:9000`.
    pub origin: String,
}

/// The parsed command line: a `fetch()` call and the page origin it runs on.
#[derive(Clone, Debug)]
pub struct Options {
    pub target: Target,
    /// The page's serialized origin, sent as `Origin`.
    pub origin: String,
    /// The method after `fetch`'s normalization.
    pub method: String,
    /// The request headers in the order given, one entry per `--header`, with the content type
    /// that `fetch` adds for a string body.
    pub headers: Vec<RequestHeader>,
    /// The `--header` options that `fetch` would drop, because only the browser may set them.
    pub dropped_headers: Vec<RequestHeader>,
    /// Whether `fetch` added `Content-Type: text/plain;charset=UTF-8` for the body.
    pub added_content_type: bool,
    /// `credentials: "include"`.
    pub credentials: bool,
    /// The body size in bytes, `None` for no body.
    pub body_bytes: Option<u64>,
    /// The limit for each of name resolution, connecting, and waiting for a response.
    pub timeout: Duration,
}

/// The action that the command line requests.
pub enum Command {
    Run(Box<Options>),
    Help,
}

/// Returns the text that `--help` prints.
pub fn help_text() -> String {
    format!(
        "\
Sends the requests a browser would send for a cross-origin fetch() and explains whether the
page could read the response, and if not, why and how to fix it.

Usage: cargo run --example doctor -- URL --origin ORIGIN [OPTIONS]

Arguments:
  URL                    The http:// URL that the page fetches. https is not supported.

Options:
  --origin ORIGIN        The origin of the page that calls fetch(), such as
                         http://127.0.0.1:8000, or null. Required.
  --method METHOD        The request method [default: GET].
  --header NAME[:VALUE]  A request header, as in fetch()'s headers option. Repeat the
                         option for more headers.
  --credentials          Send the request as credentials: \"include\" would. The doctor
                         has no cookies to send, but the CORS rules change.
  --body-bytes N         Send a body of N bytes, as fetch() does for a string body:
                         with Content-Type: {STRING_BODY_CONTENT_TYPE} unless a
                         --header sets one.
  --timeout SECONDS      The limit for connecting and for each response [default: {DEFAULT_TIMEOUT_SECONDS}].
  -h, --help             Print this help.

The doctor follows the Fetch standard's CORS rules, which browsers may enforce with small
differences. It speaks HTTP/1.1 only, and it does not follow redirects of the request
itself: it checks the redirect response and names the URL to check next.

Exit codes: 0 when the page could read the response, or for a redirect that passes the
CORS check (its target is not checked); 1 when a browser would block it; 2 for invalid
arguments; 3 when no response came: the connection failed or timed out, the reply is not
HTTP/1.x, or its head is larger than 256 KiB.
"
    )
}

/// Parses the arguments after the program name.
pub fn parse(arguments: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut url = None;
    let mut origin = None;
    let mut method = String::from("GET");
    let mut raw_headers = Vec::new();
    let mut credentials = false;
    let mut body_bytes = None;
    let mut timeout_seconds = DEFAULT_TIMEOUT_SECONDS;

    let mut reader = ArgumentReader::new(arguments);
    while let Some(argument) = reader.next_argument()? {
        let mut value = || reader.value(&argument);

        match argument.name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--origin" => origin = Some(value()?),
            "--method" => method = value()?,
            "--header" => raw_headers.push(value()?),
            "--body-bytes" => body_bytes = Some(parse_number("--body-bytes", &value()?)?),
            "--timeout" => timeout_seconds = parse_timeout(&value()?)?,
            "--credentials" if argument.inline_value.is_none() => credentials = true,
            "--credentials" => return Err("--credentials takes no value".into()),
            other if other.starts_with('-') => return Err(format!("unknown option '{other}'")),
            other if url.is_none() => url = Some(other.to_owned()),
            other => return Err(format!("unexpected argument '{other}': give one URL")),
        }
    }

    let url = url.ok_or("missing URL: give the http:// URL that the page fetches")?;
    let origin = origin.ok_or("missing --origin: give the origin of the page that fetches")?;
    let target = parse_url(&url)?;
    let origin = parse_origin(&origin)?;
    let method = parse_method(&method)?;

    let mut headers = Vec::new();
    let mut dropped_headers = Vec::new();
    for raw in &raw_headers {
        let (name, value) = parse_header(raw)?;
        if fetch_rules::is_forbidden_request_header(&name, &value) {
            dropped_headers.push((name, value));
        } else {
            headers.push((name, value));
        }
    }

    if body_bytes.is_some() && (method == "GET" || method == "HEAD") {
        return Err(format!(
            "--body-bytes with --method {method}: fetch() rejects a body on a GET or HEAD \
             request with a TypeError"
        ));
    }
    let has_content_type = headers
        .iter()
        .any(|(name, _)| name == http::header::CONTENT_TYPE);
    let added_content_type = body_bytes.is_some() && !has_content_type;
    if added_content_type {
        let value = HeaderValue::from_static(STRING_BODY_CONTENT_TYPE);
        headers.push((http::header::CONTENT_TYPE, value));
    }

    Ok(Command::Run(Box::new(Options {
        target,
        origin,
        method,
        headers,
        dropped_headers,
        added_content_type,
        credentials,
        body_bytes,
        timeout: Duration::from_secs(timeout_seconds),
    })))
}

/// Parses an `http://` URL. The doctor speaks no TLS, so `https://` is a usage error.
fn parse_url(text: &str) -> Result<Target, String> {
    // A browser strips the fragment before sending, and `Uri` does not accept one.
    let url = text.split('#').next().unwrap_or_default();
    let uri: Uri = url.parse().map_err(|error| {
        format!("invalid URL '{text}': {error}; expected http://HOST[:PORT][/PATH]")
    })?;

    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(format!(
                "unsupported URL '{text}': the doctor speaks plain HTTP only, without TLS. \
                 Give the http:// address of the same server, such as the port that the TLS \
                 proxy forwards to"
            ));
        }
        Some(other) => {
            return Err(format!(
                "unsupported URL scheme '{other}' in '{text}': expected http://"
            ));
        }
        None => {
            return Err(format!(
                "invalid URL '{text}': expected http://HOST[:PORT][/PATH]"
            ));
        }
    }

    let authority = uri
        .authority()
        .ok_or_else(|| format!("invalid URL '{text}': missing host"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "invalid URL '{text}': fetch() rejects a URL with credentials (user:password@) \
             with a TypeError"
        ));
    }
    let host = authority.host().to_ascii_lowercase();
    if host.is_empty() {
        return Err(format!("invalid URL '{text}': missing host"));
    }
    let port = explicit_port(authority)
        .map_err(|port| format!("invalid URL '{text}': invalid port '{port}'"))?
        .unwrap_or(80);

    let host_header = if port == 80 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let path_and_query = match uri.path_and_query().map(|path| path.as_str()) {
        None | Some("") => String::from("/"),
        Some(path) if path.starts_with('?') => format!("/{path}"),
        Some(path) => path.to_owned(),
    };
    Ok(Target {
        url: url.to_owned(),
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        origin: format!("http://{host_header}"),
        host_header,
        path_and_query,
    })
}

/// Accepts an origin as a browser serializes it: `null`, or `scheme://host[:port]` with a
/// lowercase scheme and host, no path and no default port.
fn parse_origin(text: &str) -> Result<String, String> {
    if text == "null" {
        return Ok(text.to_owned());
    }
    let expected = "expected scheme://host[:port], such as http://127.0.0.1:8000, or null";
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(format!("invalid origin '{text}': {expected}"));
    };
    if rest.contains(['/', '?', '#']) {
        let base = rest.split(['/', '?', '#']).next().unwrap_or_default();
        return Err(format!(
            "invalid origin '{text}': an origin has no path, query or trailing slash; use \
             '{scheme}://{base}'"
        ));
    }
    if rest.contains('@') {
        return Err(format!(
            "invalid origin '{text}': an origin has no user name or password; {expected}"
        ));
    }

    let uri: Uri = text
        .parse()
        .map_err(|error| format!("invalid origin '{text}': {error}; {expected}"))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(format!("invalid origin '{text}': {expected}"));
    };
    if authority.host().is_empty() {
        return Err(format!("invalid origin '{text}': missing host; {expected}"));
    }

    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    };
    let port = explicit_port(authority)
        .map_err(|port| format!("invalid origin '{text}': invalid port '{port}'"))?
        .filter(|port| Some(*port) != default_port);
    let mut serialized = format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.host().to_ascii_lowercase()
    );
    if let Some(port) = port {
        serialized.push_str(&format!(":{port}"));
    }
    if serialized != text {
        return Err(format!(
            "invalid origin '{text}': a browser sends it as '{serialized}' (lowercase, without \
             the default port); give that"
        ));
    }
    Ok(serialized)
}

/// Returns the port written in `authority`, `None` when there is none or it is empty, or the
/// text of a port that is not a number from 0 to 65535. `Authority::port` alone returns `None`
/// for such a port.
fn explicit_port(authority: &Authority) -> Result<Option<u16>, String> {
    let after_host = authority
        .as_str()
        .strip_prefix(authority.host())
        .unwrap_or_default();
    match after_host.strip_prefix(':') {
        None | Some("") => Ok(None),
        Some(port) => port.parse().map(Some).map_err(|_| port.to_owned()),
    }
}

/// Checks a method as `fetch` does and returns it normalized.
fn parse_method(text: &str) -> Result<String, String> {
    if !fetch_rules::is_token(text) {
        return Err(format!(
            "invalid method '{text}': expected a token such as GET, POST or DELETE"
        ));
    }
    if fetch_rules::is_forbidden_method(text) {
        return Err(format!(
            "method '{text}' is forbidden: fetch() rejects CONNECT, TRACE and TRACK with a \
             TypeError"
        ));
    }
    Ok(fetch_rules::normalize_method(text))
}

/// Parses `NAME[:VALUE]`. The value loses leading and trailing whitespace, as `fetch` normalizes
/// it, and an empty value is allowed.
fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text.split_once(':').unwrap_or((text, ""));
    let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        format!("invalid header name '{name}' in --header '{text}': expected a token such as x-upload-token")
    })?;
    let value = value.trim_matches([' ', '\t', '\r', '\n']);
    let header_value = HeaderValue::from_str(value).map_err(|_| {
        format!(
            "invalid value {value:?} for header '{name}': control characters other than tab \
             cannot be sent"
        )
    })?;
    Ok((header_name, header_value))
}

fn parse_number(flag: &str, text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("invalid value '{text}' for {flag}: expected a number of bytes"))
}

fn parse_timeout(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(seconds @ 1..=3600) => Ok(seconds),
        _ => Err(format!(
            "invalid value '{text}' for --timeout: expected whole seconds from 1 to 3600"
        )),
    }
}
