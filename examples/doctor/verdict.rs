//! Plain-language reasons and fixes for each way a browser blocks a cross-origin response, and
//! the closing verdict paragraphs.

use http::StatusCode;

use crate::client::SendError;
use crate::fetch_rules::{AccessFailure, PreflightFailure, is_safelisted_method};

/// A reason for a browser to block the request or its response.
#[derive(Clone, Debug)]
pub enum Problem {
    /// The URL's port is one browsers never connect to.
    BadPort(u16),
    /// The preflight response is a redirect.
    PreflightRedirect {
        status: StatusCode,
        location: Option<String>,
    },
    /// The preflight response's status is outside 200-299.
    PreflightStatus {
        status: StatusCode,
        /// Whether the response carried `Access-Control-Allow-Origin` anyway.
        has_allow_origin: bool,
    },
    /// The response fails the CORS check.
    Access(AccessFailure),
    /// The preflight response does not allow the method or a header.
    Preflight(PreflightFailure),
}

/// The response that a problem is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Preflight,
    Request,
}

/// The evidence from earlier steps about the server's CORS setup for the page's origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorsEvidence {
    /// The preflight passed, so a CORS layer handles this origin.
    PreflightPassed,
    /// The doctor's own preflight probe got CORS headers for this origin.
    ProbePassed,
    /// Nothing showed CORS headers for this origin.
    None,
}

/// The facts about the request that the texts mention.
pub struct Facts<'a> {
    pub origin: &'a str,
    pub method: &'a str,
    /// The header names the preflight requested.
    pub unsafe_names: &'a [String],
    pub credentials: bool,
}

/// Returns the reason as a clause without a capital or final period, for "fail: …" lines and the
/// verdict.
pub fn reason(problem: &Problem, stage: Stage, facts: &Facts<'_>) -> String {
    let response = match stage {
        Stage::Preflight => "the preflight response",
        Stage::Request => "the response",
    };
    match problem {
        Problem::BadPort(port) => format!(
            "port {port} is on the Fetch standard's list of bad ports, to which browsers never \
             connect"
        ),
        Problem::PreflightRedirect { status, location } => format!(
            "the preflight got a {} redirect{}, and browsers never follow a redirect of a \
             preflight",
            status.as_u16(),
            location
                .as_deref()
                .map(|location| format!(" to {location}"))
                .unwrap_or_default()
        ),
        Problem::PreflightStatus { status, .. } => format!(
            "the preflight got status {}, and a preflight needs a status from 200 to 299",
            status.as_u16()
        ),
        Problem::Access(failure) => access_reason(failure, response, facts),
        Problem::Preflight(failure) => preflight_reason(failure, facts),
    }
}

fn access_reason(failure: &AccessFailure, response: &str, facts: &Facts<'_>) -> String {
    match failure {
        AccessFailure::MissingAllowOrigin => {
            format!("{response} has no Access-Control-Allow-Origin header")
        }
        AccessFailure::SeveralAllowOrigins(values) => format!(
            "{response} has {} Access-Control-Allow-Origin values ({}), and a browser accepts \
             exactly one",
            values.len(),
            values.join(", ")
        ),
        AccessFailure::WildcardWithCredentials => String::from(
            "Access-Control-Allow-Origin is *, which a browser rejects for a request with \
             credentials",
        ),
        AccessFailure::OtherOrigin(value) => {
            let mut text = format!(
                "Access-Control-Allow-Origin is {value}, not the page's origin {}",
                facts.origin
            );
            if value.trim_end_matches('/') == facts.origin {
                text.push_str(" (a serialized origin has no trailing slash)");
            } else if value.eq_ignore_ascii_case(facts.origin) {
                text.push_str(" (browsers compare origins byte for byte, case included)");
            }
            text
        }
        AccessFailure::CredentialsNotAllowed(None) => format!(
            "the request has credentials, and {response} has no \
             Access-Control-Allow-Credentials: true"
        ),
        AccessFailure::CredentialsNotAllowed(Some(value)) => format!(
            "Access-Control-Allow-Credentials is {value:?}, and a request with credentials \
             needs exactly \"true\""
        ),
    }
}

fn preflight_reason(failure: &PreflightFailure, facts: &Facts<'_>) -> String {
    match failure {
        PreflightFailure::InvalidList { header, item } => format!(
            "{} contains {item:?}, which is not a valid name, so browsers reject the whole \
             preflight",
            display_header_name(header.as_str())
        ),
        PreflightFailure::MethodNotAllowed { method, allowed } => {
            let other_case = allowed
                .iter()
                .find(|item| item.eq_ignore_ascii_case(method));
            if let Some(item) = other_case {
                format!(
                    "Access-Control-Allow-Methods lists {item}, but method names are \
                     case-sensitive and the request uses {method}"
                )
            } else if facts.credentials && allowed.iter().any(|item| item == "*") {
                String::from(
                    "Access-Control-Allow-Methods is *, which covers no method for a request \
                     with credentials",
                )
            } else if allowed.is_empty() {
                format!(
                    "method {method} is not CORS-safelisted, and the preflight response has no \
                     Access-Control-Allow-Methods"
                )
            } else {
                format!(
                    "method {method} is not in Access-Control-Allow-Methods ({})",
                    allowed.join(", ")
                )
            }
        }
        PreflightFailure::AuthorizationNotListed { allowed } => {
            if allowed.iter().any(|item| item == "*") {
                String::from(
                    "the request sends Authorization, and the * in \
                     Access-Control-Allow-Headers never covers Authorization",
                )
            } else {
                header_not_listed("authorization", allowed)
            }
        }
        PreflightFailure::HeaderNotAllowed { name, allowed } => {
            if facts.credentials && allowed.iter().any(|item| item == "*") {
                format!(
                    "request header {name} is covered only by the * in \
                     Access-Control-Allow-Headers, which counts only without credentials"
                )
            } else {
                header_not_listed(name, allowed)
            }
        }
    }
}

fn header_not_listed(name: &str, allowed: &[String]) -> String {
    if allowed.is_empty() {
        format!(
            "request header {name} needs a preflight, and the preflight response has no \
             Access-Control-Allow-Headers"
        )
    } else {
        format!(
            "request header {name} is not in Access-Control-Allow-Headers ({})",
            allowed.join(", ")
        )
    }
}

/// Returns one or more sentences naming the likely cause and the fix.
pub fn fix(
    problem: &Problem,
    stage: Stage,
    status: StatusCode,
    evidence: CorsEvidence,
    facts: &Facts<'_>,
) -> String {
    let origin = facts.origin;
    match problem {
        Problem::BadPort(_) => String::from("Fix: serve the API on another port, such as 8080."),
        Problem::PreflightRedirect { .. } => String::from(
            "Fix: send the request to the URL the server redirects to (a missing or extra \
             trailing slash, or http to https, is the usual cause), or have the CORS layer \
             answer OPTIONS before the layer that redirects: ForceCorsLayer, outermost, answers \
             preflights itself.",
        ),
        Problem::PreflightStatus {
            status,
            has_allow_origin,
        } => preflight_status_fix(*status, *has_allow_origin, facts),
        Problem::Access(AccessFailure::MissingAllowOrigin) => match stage {
            Stage::Preflight => format!(
                "The server answered OPTIONS without CORS headers: it has no CORS layer, its \
                 CORS layer does not allow {origin}, or a layer in front of it answered. Fix: \
                 add ForceCorsLayer as the outermost layer, allowing {origin}."
            ),
            Stage::Request => missing_allow_origin_fix(status, evidence, origin),
        },
        Problem::Access(AccessFailure::SeveralAllowOrigins(_)) => String::from(
            "Two layers, or a proxy and the app, each add the header. Fix: keep one. \
             ForceCorsLayer as the outermost layer replaces the Access-Control-* headers that \
             inner layers set, so exactly one leaves the app; a proxy that adds its own must \
             stop doing so.",
        ),
        Problem::Access(AccessFailure::WildcardWithCredentials) => format!(
            "Fix: with credentials, the server must echo the page's origin and send \
             Access-Control-Allow-Credentials: true, which {} does. If the page needs no \
             cookies or HTTP authentication, drop credentials: \"include\" instead.",
            credentialed_builder(facts)
        ),
        Problem::Access(AccessFailure::OtherOrigin(_)) => format!(
            "Fix: allow {origin} in the server's CORS configuration, for example with \
             ForceCorsLayer::builder().allow_origins([\"{origin}\"])."
        ),
        Problem::Access(AccessFailure::CredentialsNotAllowed(_)) => format!(
            "Fix: send Access-Control-Allow-Credentials: true, which {} does, or drop \
             credentials: \"include\" from the page's fetch.",
            credentialed_builder(facts)
        ),
        Problem::Preflight(PreflightFailure::InvalidList { .. }) => {
            String::from("Fix: send a comma-separated list of names, such as GET, POST, DELETE.")
        }
        Problem::Preflight(PreflightFailure::MethodNotAllowed { method, .. }) => {
            let mut text = format!(
                "Fix: allow {method} by name, for example with \
                 ForceCorsLayer::builder().allow_methods([\"{method}\", ...])."
            );
            if facts.credentials {
                text.push_str(" With credentials, * means a method named *.");
            }
            text
        }
        Problem::Preflight(PreflightFailure::AuthorizationNotListed { .. }) => String::from(
            "Fix: list authorization by name in Access-Control-Allow-Headers, for example with \
             ForceCorsLayer::builder().allow_headers([\"authorization\", ...]). \
             ForceCorsLayer::permissive() and allow_any_header() mirror the requested header \
             names, which covers it. Browser versions differ in when they started to enforce \
             this rule of the Fetch standard, so the request may work in one browser and fail \
             in another.",
        ),
        Problem::Preflight(PreflightFailure::HeaderNotAllowed { name, .. }) => format!(
            "Fix: allow {name} by name, for example with \
             ForceCorsLayer::builder().allow_headers([\"{name}\", ...]), or use \
             allow_any_header(), which mirrors the requested header names."
        ),
    }
}

/// Returns a `ForceCorsLayer::builder()` call that allows this request with credentials. It
/// lists the method and the request headers only when they need a preflight, because
/// CORS-safelisted methods and headers need no entry in the builder.
fn credentialed_builder(facts: &Facts<'_>) -> String {
    let mut builder = format!(
        "ForceCorsLayer::builder().allow_origins([{:?}])",
        facts.origin
    );
    if !is_safelisted_method(facts.method) {
        builder.push_str(&format!(".allow_methods([{:?}])", facts.method));
    }
    if !facts.unsafe_names.is_empty() {
        let names: Vec<String> = facts
            .unsafe_names
            .iter()
            .map(|name| format!("{name:?}"))
            .collect();
        builder.push_str(&format!(".allow_headers([{}])", names.join(", ")));
    }
    builder.push_str(".allow_credentials(true)");
    builder
}

fn preflight_status_fix(status: StatusCode, has_allow_origin: bool, facts: &Facts<'_>) -> String {
    let outermost = "Fix: put ForceCorsLayer outermost: it answers preflights itself, before \
                     authentication or routing can reject them.";
    if has_allow_origin {
        return format!(
            "The server's CORS layer added its headers but passed the preflight on to a layer \
             that rejected it. {outermost}"
        );
    }
    let cause = match status.as_u16() {
        401 | 407 => String::from(
            "An authentication check in front of the CORS layer rejected the preflight, which \
             never carries credentials or custom headers.",
        ),
        403 => {
            let headers = if facts.unsafe_names.is_empty() {
                String::new()
            } else {
                format!(" and headers {}", facts.unsafe_names.join(", "))
            };
            format!(
                "CORS layers, ForceCorsLayer among them, reject a preflight with 403 and no CORS \
                 headers when they do not allow its origin, method or headers: check that the \
                 configuration allows {}, method {}{headers}. If the CORS layer did not send \
                 the 403, an access check in front of it did.",
                facts.origin, facts.method
            )
        }
        404 | 405 => String::from(
            "No CORS layer answered the preflight, and the router has no OPTIONS route for \
             this path.",
        ),
        _ => {
            String::from("A layer in front of the CORS layer, or the app, answered the preflight.")
        }
    };
    format!("{cause} {outermost}")
}

fn missing_allow_origin_fix(status: StatusCode, evidence: CorsEvidence, origin: &str) -> String {
    let code = status.as_u16();
    let seen_by = match evidence {
        CorsEvidence::PreflightPassed => Some("The preflight passed"),
        CorsEvidence::ProbePassed => Some("The probe preflight got CORS headers for this origin"),
        CorsEvidence::None => None,
    };
    if let Some(seen_by) = seen_by {
        return format!(
            "{seen_by}, so the server has a CORS layer, but it sits inside the layer that \
             produced this {code} (such as a token check or a body limit) and never sees this \
             response. Fix: put ForceCorsLayer outermost, so that it wraps every layer that can \
             respond early: in axum, call .layer(ForceCorsLayer::...) last; in a tower \
             ServiceBuilder, add it first."
        );
    }
    if status.is_client_error() || status.is_server_error() {
        format!(
            "The probe preflight got no CORS headers for this origin either: the server has no \
             CORS layer, its CORS layer does not allow {origin}, or the layer that produced \
             this {code} also answers preflights. Fix: add ForceCorsLayer as the outermost \
             layer, allowing {origin}: it answers preflights itself and puts CORS headers on \
             every response, errors included."
        )
    } else {
        format!(
            "The server sends no CORS headers for {origin}. Fix: allow {origin}, for example \
             with ForceCorsLayer::builder().allow_origins([\"{origin}\"]), added as the \
             outermost layer."
        )
    }
}

/// Returns the verdict for a request that the browser stops at the preflight.
pub fn blocked_at_preflight(problem: &Problem, status: StatusCode, facts: &Facts<'_>) -> String {
    format!(
        "A browser would block this request at the preflight: {}. The page's fetch would \
         reject with TypeError: Failed to fetch, and the browser would never send the {} \
         request. {}",
        reason(problem, Stage::Preflight, facts),
        facts.method,
        fix(problem, Stage::Preflight, status, CorsEvidence::None, facts)
    )
}

/// Returns the verdict for a response that fails the CORS check.
pub fn blocked_response(
    problem: &Problem,
    status: StatusCode,
    evidence: CorsEvidence,
    facts: &Facts<'_>,
) -> String {
    format!(
        "A browser would block this response: {}. The page's fetch would reject with \
         TypeError: Failed to fetch and never see the {}. {}",
        reason(problem, Stage::Request, facts),
        status.as_u16(),
        fix(problem, Stage::Request, status, evidence, facts)
    )
}

/// Returns the verdict for a request that a browser would not even send.
pub fn blocked_before_sending(problem: &Problem, facts: &Facts<'_>) -> String {
    format!(
        "A browser would block this request before sending it: {}. The page's fetch would \
         reject with TypeError: Failed to fetch. {}",
        reason(problem, Stage::Request, facts),
        fix(
            problem,
            Stage::Request,
            StatusCode::OK,
            CorsEvidence::None,
            facts
        )
    )
}

/// Returns the verdict for a response that the page can read.
pub fn readable(status: StatusCode, readable: &[String], hidden: &[String]) -> String {
    let mut text = format!(
        "A browser would let the page read this {} response: its status, its body",
        status.as_u16()
    );
    if readable.is_empty() {
        text.push_str(", and none of its headers.");
    } else {
        text.push_str(&format!(", and the headers {}.", readable.join(", ")));
    }
    if !hidden.is_empty() {
        text.push_str(&format!(
            " The headers {} stay hidden from page JavaScript unless \
             Access-Control-Expose-Headers lists them.",
            hidden.join(", ")
        ));
    }
    text
}

/// Returns the verdict for a redirect that passes the CORS check. The doctor does not follow
/// it, so the final response remains unchecked.
pub fn followed_redirect(status: StatusCode, location: &str, target_origin: &str) -> String {
    let mut text = format!(
        "A browser would follow this {} redirect to {location} and give the page the final \
         response, which the doctor does not fetch. Run the doctor again with that URL",
        status.as_u16()
    );
    if location.starts_with("http://") || location.starts_with("https://") {
        let same_origin = location
            .strip_prefix(target_origin)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']));
        if !same_origin {
            text.push_str(
                " and --origin null, because after a redirect to another origin the browser \
                 sends Origin: null",
            );
        }
    }
    text.push('.');
    text
}

/// Returns the verdict for a page and URL of the same origin, where CORS does not apply.
pub fn same_origin(status: StatusCode, origin: &str) -> String {
    format!(
        "The page and the URL share the origin {origin}, so CORS does not apply: a browser \
         would let the page read this {} response and every header except Set-Cookie.",
        status.as_u16()
    )
}

/// Returns the explanation for a request that got no HTTP response.
pub fn no_response(error: &SendError) -> String {
    let not_cors = "This is not a CORS problem: a browser would fail the same way for a page on \
                    any origin, and the page's fetch would reject with TypeError: Failed to \
                    fetch.";
    match error {
        SendError::Refused { addresses } => {
            let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
            format!(
                "Could not connect: {} refused the connection, so nothing is listening on that \
                 address: wrong port, or the server is down. {not_cors}",
                addresses.join(" and ")
            )
        }
        SendError::Resolve { host, error } => format!(
            "Could not connect: failed to resolve the host name {host} ({error}). Check the \
             host name. {not_cors}"
        ),
        SendError::ConnectTimeout { host, timeout } => format!(
            "Could not connect: {host} did not answer within {} s, so a firewall drops the \
             packets or the host is down. {not_cors}",
            timeout.as_secs()
        ),
        SendError::Connect { address, error } => {
            format!("Could not connect: failed to connect to {address} ({error}). {not_cors}")
        }
        SendError::ResponseTimeout { timeout } => format!(
            "No response: the server accepted the connection but sent no response head within \
             {} s. It is stuck, slow, or waiting for a body that never comes. {not_cors}",
            timeout.as_secs()
        ),
        SendError::NoResponse {
            error,
            body_bytes: Some(bytes),
        } => format!(
            "No response: the server closed the connection while the doctor was sending the \
             {bytes}-byte body ({error}). Servers do this when they reject a body as too large \
             without reading it, and a browser then fails the same way. {not_cors}"
        ),
        SendError::NoResponse {
            error,
            body_bytes: None,
        } => format!(
            "No response: the server closed the connection without a response ({error}). \
             {not_cors}"
        ),
        SendError::InvalidResponse { error } => format!(
            "No response: the reply is not HTTP/1.1 ({error}), as happens on an HTTPS port or \
             a port of another protocol. {not_cors}"
        ),
        SendError::ResponseHeadTooLarge { max_bytes } => format!(
            "No response the doctor accepts: the response head (status line and headers) is \
             larger than {} KiB ({max_bytes} bytes), the maximum the doctor reads. Chromium has \
             the same limit and fails such a response with ERR_RESPONSE_HEADERS_TOO_BIG, so the \
             page's fetch would reject with TypeError: Failed to fetch. Fix: send fewer or \
             shorter response headers. This is not a CORS problem.",
            max_bytes / 1024
        ),
        SendError::InvalidRequest { error } => {
            format!("The doctor could not build the request: {error}.")
        }
    }
}

/// Writes a header name as the CORS standard does, such as `Access-Control-Allow-Methods`.
pub fn display_header_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut characters = part.chars();
            match characters.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + characters.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}
