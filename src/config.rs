//! The validated configuration shared by every clone of the service, with every constant header
//! value computed once.

use bytes::{BufMut, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::origin::{OriginMatcher, OriginPolicy};
use crate::{ConfigError, ForceCorsBuilder};

const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
const PREFLIGHT_VARY_WITH_PRIVATE_NETWORK: &str = "Origin, Access-Control-Request-Method, \
    Access-Control-Request-Headers, Access-Control-Request-Private-Network";

/// The allowed methods, with the `Access-Control-Allow-Methods` value computed once.
#[derive(Clone, Debug)]
pub(crate) enum MethodPolicy {
    /// Every method: `*` in the response, or the requested method under credentials.
    Any,
    List {
        methods: Vec<Method>,
        value: HeaderValue,
    },
}

/// The allowed request headers, with the `Access-Control-Allow-Headers` value computed once.
#[derive(Clone, Debug)]
pub(crate) enum HeaderPolicy {
    /// Every header: the response repeats the preflight's `Access-Control-Request-Headers`.
    Mirror,
    List {
        names: Vec<HeaderName>,
        value: Option<HeaderValue>,
    },
}

/// The exposed response headers.
#[derive(Clone, Debug)]
pub(crate) enum ExposePolicy {
    None,
    Value(HeaderValue),
    /// Every header under credentials: the configured names and the response's own header names
    /// are listed.
    ResponseHeaderNames(Vec<HeaderName>),
}

/// A validated configuration with every constant header value computed, shared by `Arc`.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) origins: OriginPolicy,
    pub(crate) methods: MethodPolicy,
    pub(crate) headers: HeaderPolicy,
    pub(crate) expose: ExposePolicy,
    pub(crate) credentials: bool,
    pub(crate) max_age: Option<HeaderValue>,
    pub(crate) private_network: bool,
    pub(crate) preflight_status: StatusCode,
    pub(crate) rejection_status: StatusCode,
    pub(crate) preflight_vary: HeaderValue,
    pub(crate) catch_panic: bool,
    pub(crate) catch_errors: bool,
}

impl Config {
    /// Tells whether the response depends on the request's origin, which calls for `Vary: Origin`.
    pub(crate) fn varies_by_origin(&self) -> bool {
        !matches!(self.origins, OriginPolicy::Any)
    }
}

impl TryFrom<ForceCorsBuilder> for Config {
    type Error = ConfigError;

    fn try_from(mut builder: ForceCorsBuilder) -> Result<Self, ConfigError> {
        if let Some(error) = builder.pending_error.take() {
            return Err(error);
        }
        let origins = origin_policy(&builder)?;
        let methods = method_policy(&builder)?;
        let headers = header_policy(&builder)?;
        let expose = expose_policy(&builder)?;

        let preflight_status = builder.preflight_status;
        if !preflight_status.is_success() {
            return Err(ConfigError::PreflightStatusNotOk {
                status: preflight_status.as_u16(),
            });
        }
        let rejection_status = builder.rejection_status;
        if !(rejection_status.is_client_error() || rejection_status.is_server_error()) {
            return Err(ConfigError::RejectionStatusNotError {
                status: rejection_status.as_u16(),
            });
        }

        let preflight_vary = HeaderValue::from_static(if builder.private_network {
            PREFLIGHT_VARY_WITH_PRIVATE_NETWORK
        } else {
            PREFLIGHT_VARY
        });
        Ok(Self {
            origins,
            methods,
            headers,
            expose,
            credentials: builder.credentials,
            max_age: builder.max_age.map(|age| HeaderValue::from(age.as_secs())),
            private_network: builder.private_network,
            preflight_status,
            rejection_status,
            preflight_vary,
            catch_panic: builder.catch_panic,
            catch_errors: builder.catch_errors,
        })
    }
}

fn origin_policy(builder: &ForceCorsBuilder) -> Result<OriginPolicy, ConfigError> {
    let matcher = OriginMatcher::new(
        builder.origins.iter().map(String::as_str),
        builder.predicate.clone(),
    )?;
    if builder.any_origin {
        if builder.credentials {
            return Err(ConfigError::AnyOriginWithCredentials);
        }
        if !matcher.is_empty() {
            return Err(ConfigError::AnyOriginWithOriginList);
        }
        return Ok(OriginPolicy::Any);
    }
    if matcher.is_empty() {
        return Err(ConfigError::NoOriginAllowed);
    }
    Ok(OriginPolicy::Matching(matcher))
}

fn method_policy(builder: &ForceCorsBuilder) -> Result<MethodPolicy, ConfigError> {
    if builder.any_method {
        return Ok(MethodPolicy::Any);
    }
    let mut methods: Vec<Method> = Vec::with_capacity(builder.methods.len());
    for name in &builder.methods {
        let method = parse_method(name).ok_or_else(|| ConfigError::InvalidMethod {
            method: name.clone(),
        })?;
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    let value = join_header_value(methods.iter().map(Method::as_str));
    Ok(MethodPolicy::List { methods, value })
}

/// Parses a method the way a browser writes it in `Access-Control-Request-Method`: the six
/// methods the Fetch standard normalizes (`DELETE`, `GET`, `HEAD`, `OPTIONS`, `POST`, `PUT`) in
/// upper case, every other method exactly as written, since `patch` and `PATCH` differ.
fn parse_method(name: &str) -> Option<Method> {
    let name = name.trim();
    if name.is_empty() || name == "*" {
        return None;
    }
    const NORMALIZED: [Method; 6] = [
        Method::DELETE,
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::POST,
        Method::PUT,
    ];
    if let Some(method) = NORMALIZED
        .iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(name))
    {
        return Some(method.clone());
    }
    name.parse().ok()
}

fn header_policy(builder: &ForceCorsBuilder) -> Result<HeaderPolicy, ConfigError> {
    let names = header_names("allow_headers", &builder.headers)?;
    if builder.any_header {
        return Ok(HeaderPolicy::Mirror);
    }
    let value =
        (!names.is_empty()).then(|| join_header_value(names.iter().map(HeaderName::as_str)));
    Ok(HeaderPolicy::List { names, value })
}

fn expose_policy(builder: &ForceCorsBuilder) -> Result<ExposePolicy, ConfigError> {
    let names = header_names("expose_headers", &builder.exposed)?;
    Ok(match (builder.expose_any, builder.credentials) {
        (true, false) => ExposePolicy::Value(HeaderValue::from_static("*")),
        (true, true) => ExposePolicy::ResponseHeaderNames(names),
        (false, _) if names.is_empty() => ExposePolicy::None,
        (false, _) => ExposePolicy::Value(join_header_value(names.iter().map(HeaderName::as_str))),
    })
}

/// Parses header names, lowercased and without duplicates.
fn header_names(setting: &'static str, names: &[String]) -> Result<Vec<HeaderName>, ConfigError> {
    let mut parsed: Vec<HeaderName> = Vec::with_capacity(names.len());
    for name in names {
        if name.trim() == "*" {
            return Err(ConfigError::WildcardInHeaderList { setting });
        }
        let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            ConfigError::InvalidHeaderName {
                setting,
                name: name.clone(),
            }
        })?;
        if !parsed.contains(&header) {
            parsed.push(header);
        }
    }
    Ok(parsed)
}

/// Joins validated tokens into one `a, b, c` header value.
fn join_header_value<'a>(tokens: impl Iterator<Item = &'a str>) -> HeaderValue {
    let mut joined = BytesMut::new();
    for (index, token) in tokens.enumerate() {
        if index > 0 {
            joined.put_slice(b", ");
        }
        joined.put_slice(token.as_bytes());
    }
    // Method tokens and header names never contain bytes a header value rejects.
    HeaderValue::from_maybe_shared(joined.freeze()).unwrap_or_else(|_| HeaderValue::from_static(""))
}
