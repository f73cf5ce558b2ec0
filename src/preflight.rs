//! Recognizing a preflight request and building the preflight response.

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, HeaderMap, HeaderName, HeaderValue, VARY,
};
use http::{Method, Request};

use crate::config::{Config, HeaderPolicy, MethodPolicy};
use crate::future::LayerResponse;
use crate::header_list::elements;
use crate::origin::OriginPolicy;

/// The request header of a Private Network Access preflight.
const ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");
/// The preflight response header that allows a Private Network Access request.
const ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");

/// The methods a browser never preflights on their own and accepts in any preflight response.
const SAFELISTED_METHODS: [Method; 3] = [Method::GET, Method::HEAD, Method::POST];

/// Tells whether a request is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`. A plain `OPTIONS` is an ordinary request.
pub(crate) fn is_preflight<B>(request: &Request<B>, origin: &RequestOrigin<'_>) -> bool {
    request.method() == Method::OPTIONS
        && !matches!(origin, RequestOrigin::Absent)
        && request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The `Origin` header of a request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RequestOrigin<'a> {
    Absent,
    Single(&'a HeaderValue),
    /// More than one `Origin` header: no browser sends that, so no origin in it is trusted.
    Several,
}

impl<'a> RequestOrigin<'a> {
    pub(crate) fn of(headers: &'a HeaderMap) -> Self {
        let mut values = headers.get_all(http::header::ORIGIN).iter();
        match (values.next(), values.next()) {
            (None, _) => Self::Absent,
            (Some(origin), None) => Self::Single(origin),
            (Some(_), Some(_)) => Self::Several,
        }
    }
}

/// Returns the `Access-Control-Allow-Origin` value for a request's origin, or `None` if the
/// origin is not allowed. Under [`OriginPolicy::Any`] that is `*` whatever the request carries;
/// otherwise the request's own value, whose clone shares its bytes.
pub(crate) fn allowed_origin(config: &Config, origin: RequestOrigin<'_>) -> Option<HeaderValue> {
    match (&config.origins, origin) {
        (OriginPolicy::Any, _) => Some(HeaderValue::from_static("*")),
        (OriginPolicy::Matching(matcher), RequestOrigin::Single(origin)) => {
            matcher.allows(origin).then(|| origin.clone())
        }
        (OriginPolicy::Matching(_), RequestOrigin::Absent | RequestOrigin::Several) => None,
    }
}

/// The reason a preflight was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    Origin,
    Method,
    Header,
}

impl Rejection {
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Origin => "origin not allowed",
            Self::Method => "requested method not allowed",
            Self::Header => "a requested header is not allowed",
        }
    }
}

/// Builds the response to a preflight: the allow headers when origin, method and every requested header are
/// allowed, otherwise the rejection status without CORS headers.
pub(crate) fn respond(
    config: &Config,
    request: &HeaderMap,
    origin: RequestOrigin<'_>,
) -> LayerResponse {
    // The preflight response has at most 5 headers, or 7 with credentials and Private Network
    // Access. Up to 6 fit http 1's smallest table: one 656-byte allocation on 64-bit targets,
    // small enough for glibc's per-thread cache (up to 1,032 bytes). A capacity of 8 doubled it.
    let capacity = 5 + usize::from(config.credentials) + usize::from(config.private_network);
    let mut headers = HeaderMap::with_capacity(capacity);
    headers.insert(VARY, config.preflight_vary.clone());

    let allow_origin = match check(config, request, origin) {
        Ok(allow_origin) => allow_origin,
        Err(rejection) => {
            crate::log::rejected_preflight(rejection, request, origin);
            return LayerResponse {
                status: config.rejection_status,
                headers,
            };
        }
    };

    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    if config.credentials {
        headers.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    insert_allow_methods(config, request, &mut headers);
    insert_allow_headers(config, request, &mut headers);
    if let Some(max_age) = &config.max_age {
        headers.insert(ACCESS_CONTROL_MAX_AGE, max_age.clone());
    }
    if config.private_network && requests_private_network(request) {
        headers.insert(
            ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK,
            HeaderValue::from_static("true"),
        );
    }
    LayerResponse {
        status: config.preflight_status,
        headers,
    }
}

/// Runs the checks a preflight must pass, returning the `Access-Control-Allow-Origin` value.
fn check(
    config: &Config,
    request: &HeaderMap,
    origin: RequestOrigin<'_>,
) -> Result<HeaderValue, Rejection> {
    let allow_origin = allowed_origin(config, origin).ok_or(Rejection::Origin)?;
    if !method_allowed(config, request) {
        return Err(Rejection::Method);
    }
    if !headers_allowed(config, request) {
        return Err(Rejection::Header);
    }
    Ok(allow_origin)
}

fn method_allowed(config: &Config, request: &HeaderMap) -> bool {
    if matches!(config.methods, MethodPolicy::Any) && !config.credentials {
        return true;
    }
    let Some(requested) = request.get(ACCESS_CONTROL_REQUEST_METHOD) else {
        return false;
    };
    let requested = requested.as_bytes();
    let MethodPolicy::List { methods, .. } = &config.methods else {
        // Only under credentials, where the response names the requested method: a browser must
        // not see `*` there, and no browser requests a method called `*`.
        return requested != b"*";
    };
    SAFELISTED_METHODS
        .iter()
        .chain(methods)
        .any(|method| method.as_str().as_bytes() == requested)
}

fn headers_allowed(config: &Config, request: &HeaderMap) -> bool {
    let HeaderPolicy::List { names, .. } = &config.headers else {
        // The response repeats the requested names, and under credentials a `*` among them must
        // not reach the browser. No browser requests a header called `*`.
        return !config.credentials
            || !elements(request.get_all(ACCESS_CONTROL_REQUEST_HEADERS)).any(|name| name == b"*");
    };
    // Browsers send the names in lower case (Fetch standard, "CORS-unsafe request-header
    // names"), as they are stored, so the exact comparison usually decides before the
    // byte-by-byte case-insensitive one.
    elements(request.get_all(ACCESS_CONTROL_REQUEST_HEADERS)).all(|requested| {
        names.iter().any(|name| {
            let name = name.as_str().as_bytes();
            name == requested || name.eq_ignore_ascii_case(requested)
        })
    })
}

fn insert_allow_methods(config: &Config, request: &HeaderMap, headers: &mut HeaderMap) {
    let value = match &config.methods {
        MethodPolicy::List { value, .. } => value.clone(),
        // With credentials a browser reads `*` as a method name, so name the requested one.
        MethodPolicy::Any if config.credentials => match request.get(ACCESS_CONTROL_REQUEST_METHOD)
        {
            Some(requested) => requested.clone(),
            None => return,
        },
        MethodPolicy::Any => HeaderValue::from_static("*"),
    };
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, value);
}

fn insert_allow_headers(config: &Config, request: &HeaderMap, headers: &mut HeaderMap) {
    match &config.headers {
        HeaderPolicy::List {
            value: Some(value), ..
        } => {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, value.clone());
        }
        HeaderPolicy::List { value: None, .. } => {}
        // Requested headers may span several lines. The response repeats them line for line,
        // which a browser reads as one list, so no joined copy is allocated.
        HeaderPolicy::Mirror => {
            for line in request.get_all(ACCESS_CONTROL_REQUEST_HEADERS) {
                headers.append(ACCESS_CONTROL_ALLOW_HEADERS, line.clone());
            }
        }
    }
}

fn requests_private_network(request: &HeaderMap) -> bool {
    request
        .get(ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"))
}
