//! The configurations, requests and inner service shared by the per-request benchmarks.
//!
//! Every benchmark crosses a [`Variant`] (no layer, force-cors or tower-http's `CorsLayer` with
//! the same configuration) with a [`Case`] (the kind of request). [`visit_service`] builds the
//! service for a variant and hands it to a [`Visit`] implementation, which is how one generic
//! measuring function covers the differently typed services.

// Each bench binary uses a different part of this module.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use force_cors::ForceCorsLayer;
use http::header::{
    ACCEPT, ACCEPT_ENCODING, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, HeaderName, HeaderValue, ORIGIN,
    USER_AGENT, WWW_AUTHENTICATE,
};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::Full;
use tower::{Layer, Service};
use tower_http::cors::{AllowHeaders, AllowOrigin, Any, CorsLayer};

/// The response body of the inner service, and so of every variant.
pub type Body = Full<Bytes>;

/// The origin that every allowing configuration allows, and the last entry of the origin lists.
pub const ALLOWED_ORIGIN: &str = "https://app.example.com";
/// An origin that no configuration except the permissive one allows.
pub const DISALLOWED_ORIGIN: &str = "https://evil.example.net";
/// The subdomain pattern of [`Config::Pattern`], which matches [`ALLOWED_ORIGIN`].
pub const PATTERN: &str = "https://*.example.com";

/// A CORS configuration, built the same way for force-cors and for tower-http.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    /// Every origin, method and requested header, every response header exposed, max-age 600 s.
    Permissive,
    /// An exact list of 3 origins, the request's origin last.
    List3,
    /// An exact list of 100 origins, the request's origin last.
    List100,
    /// The subdomain pattern [`PATTERN`].
    Pattern,
}

impl Config {
    pub const ALL: [Config; 4] = [
        Config::Permissive,
        Config::List3,
        Config::List100,
        Config::Pattern,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Config::Permissive => "permissive",
            Config::List3 => "list-3",
            Config::List100 => "list-100",
            Config::Pattern => "pattern",
        }
    }
}

/// The service under measurement: the inner service alone or wrapped in a CORS layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    NoLayer,
    ForceCors(Config),
    TowerHttp(Config),
}

impl Variant {
    /// Returns every variant, the no-layer baseline first.
    pub fn all() -> Vec<Variant> {
        let mut variants = vec![Variant::NoLayer];
        variants.extend(Config::ALL.map(Variant::ForceCors));
        variants.extend(Config::ALL.map(Variant::TowerHttp));
        variants
    }

    /// Returns the name used on the command line and in tables, such as `force-cors/list-3`.
    pub fn name(self) -> String {
        match self {
            Variant::NoLayer => "no-layer".to_owned(),
            Variant::ForceCors(config) => format!("force-cors/{}", config.name()),
            Variant::TowerHttp(config) => format!("tower-http/{}", config.name()),
        }
    }

    /// Parses a name returned by [`Variant::name`].
    pub fn parse(name: &str) -> Option<Variant> {
        Variant::all()
            .into_iter()
            .find(|variant| variant.name() == name)
    }
}

/// The kind of request sent, which also picks the inner service's response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// `GET` with the allowed origin; the inner service returns 200.
    SimpleGet,
    /// `GET` with the allowed origin; the inner service returns 401.
    SimpleGet401,
    /// `OPTIONS` with the allowed origin, `Access-Control-Request-Method: PUT` and
    /// `Access-Control-Request-Headers: content-type, authorization`.
    Preflight,
    /// `GET` without `Origin`; the inner service returns 200.
    NoOrigin,
    /// `GET` with [`DISALLOWED_ORIGIN`]; the inner service returns 200.
    DisallowedOrigin,
    /// `GET` with the allowed origin; the inner service returns 200 without any header, so the
    /// layer's first header insert allocates the response's header table.
    SimpleGetBareResponse,
}

impl Case {
    /// The cases every benchmark runs.
    pub const MAIN: [Case; 5] = [
        Case::SimpleGet,
        Case::SimpleGet401,
        Case::Preflight,
        Case::NoOrigin,
        Case::DisallowedOrigin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::SimpleGet => "simple-get",
            Case::SimpleGet401 => "simple-get-401",
            Case::Preflight => "preflight",
            Case::NoOrigin => "no-origin",
            Case::DisallowedOrigin => "disallowed-origin",
            Case::SimpleGetBareResponse => "simple-get-bare-response",
        }
    }

    pub fn parse(name: &str) -> Option<Case> {
        Case::MAIN
            .into_iter()
            .chain([Case::SimpleGetBareResponse])
            .find(|case| case.name() == name)
    }

    fn inner_response(self) -> InnerResponse {
        match self {
            Case::SimpleGet401 => InnerResponse::Unauthorized,
            Case::SimpleGetBareResponse => InnerResponse::Bare,
            _ => InnerResponse::Ok,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum InnerResponse {
    /// 200 with `content-type` and `content-length`.
    Ok,
    /// 401 with `content-type`, `content-length` and `www-authenticate`.
    Unauthorized,
    /// 200 without headers.
    Bare,
}

/// A trivial inner service that returns a fixed response at once, as a handler would.
#[derive(Clone, Debug)]
pub struct Handler {
    response: InnerResponse,
}

impl Service<Request<()>> for Handler {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<()>) -> Self::Future {
        // The lengths are literals because `HeaderValue::from(usize)` allocates.
        let (status, body, length) = match self.response {
            InnerResponse::Ok | InnerResponse::Bare => (StatusCode::OK, "{\"items\":[]}", "12"),
            InnerResponse::Unauthorized => (StatusCode::UNAUTHORIZED, "missing token", "13"),
        };
        debug_assert_eq!(body.len().to_string(), length);
        let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = status;
        if matches!(self.response, InnerResponse::Bare) {
            return ready(Ok(response));
        }
        // The first insert into an empty `HeaderMap` allocates its table, as in real handlers.
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static(length));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ready(Ok(response))
    }
}

/// Receives the service built for a variant; generic over its type.
pub trait Visit {
    type Output;

    fn visit<S>(self, service: S) -> Self::Output
    where
        S: Service<Request<()>, Response = Response<Body>, Error = Infallible>;
}

/// Builds the service for `variant`, with the inner service that `case` calls for, and passes it
/// to `visitor`.
pub fn visit_service<V: Visit>(variant: Variant, case: Case, visitor: V) -> V::Output {
    let handler = Handler {
        response: case.inner_response(),
    };
    match variant {
        Variant::NoLayer => visitor.visit(handler),
        Variant::ForceCors(config) => visitor.visit(force_cors_layer(config).layer(handler)),
        Variant::TowerHttp(config) => visitor.visit(tower_http_layer(config).layer(handler)),
    }
}

/// Returns the allowed origins of a list configuration: `count - 1` others, then
/// [`ALLOWED_ORIGIN`].
pub fn origin_list(count: usize) -> Vec<String> {
    let mut origins: Vec<String> = (1..count)
        .map(|index| format!("https://site{index}.example.org"))
        .collect();
    origins.push(ALLOWED_ORIGIN.to_owned());
    origins
}

const LIST_METHODS: [Method; 4] = [Method::GET, Method::POST, Method::PUT, Method::DELETE];
const LIST_HEADERS: [HeaderName; 2] = [CONTENT_TYPE, AUTHORIZATION];
const MAX_AGE: Duration = Duration::from_secs(600);

pub fn force_cors_layer(config: Config) -> ForceCorsLayer {
    let origins = match config {
        Config::Permissive => return ForceCorsLayer::permissive(),
        Config::List3 => origin_list(3),
        Config::List100 => origin_list(100),
        Config::Pattern => vec![PATTERN.to_owned()],
    };
    ForceCorsLayer::builder()
        .allow_origins(origins)
        .allow_methods(LIST_METHODS.iter().map(Method::as_str))
        .allow_headers(LIST_HEADERS.iter().map(HeaderName::as_str))
        .max_age(Some(MAX_AGE))
        .build()
        .expect("the benchmark configurations are valid")
}

/// Builds tower-http's `CorsLayer` with the configuration closest to [`force_cors_layer`]'s.
///
/// The permissive configuration mirrors the requested headers and sets a max-age, as
/// `ForceCorsLayer::permissive` does; tower-http's own `CorsLayer::permissive` sends `*` and no
/// max-age. The pattern becomes a predicate, since tower-http has no subdomain patterns.
pub fn tower_http_layer(config: Config) -> CorsLayer {
    let origins = match config {
        Config::Permissive => {
            return CorsLayer::new()
                .allow_origin(Any)
                .allow_methods(Any)
                .allow_headers(AllowHeaders::mirror_request())
                .expose_headers(Any)
                .max_age(MAX_AGE);
        }
        Config::List3 => origin_list_values(3),
        Config::List100 => origin_list_values(100),
        Config::Pattern => {
            AllowOrigin::predicate(|origin, _parts| is_example_com_subdomain(origin.as_bytes()))
        }
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(LIST_METHODS)
        .allow_headers(LIST_HEADERS)
        .max_age(MAX_AGE)
}

fn origin_list_values(count: usize) -> AllowOrigin {
    let values = origin_list(count).into_iter().map(|origin| {
        HeaderValue::try_from(origin).expect("the benchmark origins are valid header values")
    });
    AllowOrigin::list(values)
}

/// Tells whether `origin` matches [`PATTERN`]: `https://`, one or more DNS labels, then
/// `.example.com`, with no port.
fn is_example_com_subdomain(origin: &[u8]) -> bool {
    let Some(labels) = origin
        .strip_prefix(b"https://")
        .and_then(|rest| rest.strip_suffix(b".example.com"))
    else {
        return false;
    };
    !labels.is_empty()
        && labels.split(|&byte| byte == b'.').all(|label| {
            !label.is_empty()
                && label
                    .iter()
                    .all(|&byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        })
}

/// Builds requests whose header values share one `Bytes` buffer, as hyper's parser makes them,
/// so that cloning a value only increments a reference count.
pub struct RequestFactory {
    host: HeaderValue,
    user_agent: HeaderValue,
    accept: HeaderValue,
    accept_encoding: HeaderValue,
    allowed_origin: HeaderValue,
    disallowed_origin: HeaderValue,
    request_method: HeaderValue,
    request_headers: HeaderValue,
}

impl Default for RequestFactory {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestFactory {
    pub fn new() -> Self {
        let fields = [
            "127.0.0.1:3000",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
            "*/*",
            "gzip, deflate, br",
            ALLOWED_ORIGIN,
            DISALLOWED_ORIGIN,
            "PUT",
            "content-type,authorization",
        ];
        let mut buffer = BytesMut::new();
        let mut ranges = Vec::new();
        for field in fields {
            let start = buffer.len();
            buffer.extend_from_slice(field.as_bytes());
            ranges.push(start..buffer.len());
        }
        let buffer: Bytes = buffer.freeze();
        let mut values = ranges.into_iter().map(|range| {
            HeaderValue::from_maybe_shared(buffer.slice(range))
                .expect("the benchmark header values are valid")
        });
        let mut next = || values.next().expect("one value per field");
        Self {
            host: next(),
            user_agent: next(),
            accept: next(),
            accept_encoding: next(),
            allowed_origin: next(),
            disallowed_origin: next(),
            request_method: next(),
            request_headers: next(),
        }
    }

    /// Builds the request of `case`. Its header map is allocated here, outside the layer.
    pub fn build(&self, case: Case) -> Request<()> {
        let mut headers = HeaderMap::with_capacity(8);
        headers.insert(HOST, self.host.clone());
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.insert(ACCEPT, self.accept.clone());
        headers.insert(ACCEPT_ENCODING, self.accept_encoding.clone());
        match case {
            Case::SimpleGet | Case::SimpleGet401 | Case::SimpleGetBareResponse => {
                headers.insert(ORIGIN, self.allowed_origin.clone());
            }
            Case::Preflight => {
                headers.insert(ORIGIN, self.allowed_origin.clone());
                headers.insert(ACCESS_CONTROL_REQUEST_METHOD, self.request_method.clone());
                headers.insert(ACCESS_CONTROL_REQUEST_HEADERS, self.request_headers.clone());
            }
            Case::NoOrigin => {}
            Case::DisallowedOrigin => {
                headers.insert(ORIGIN, self.disallowed_origin.clone());
            }
        }
        let method = match case {
            Case::Preflight => Method::OPTIONS,
            _ => Method::GET,
        };
        let mut request = Request::new(());
        *request.method_mut() = method;
        *request.uri_mut() = Uri::from_static("/api/items");
        *request.headers_mut() = headers;
        request
    }
}

/// Calls `service` and polls the response future once, without a runtime.
///
/// Every service here is always ready and its future completes on the first poll, so a no-op
/// waker is enough. The cost is the same for every variant.
pub fn call_now<S>(service: &mut S, request: Request<()>) -> Response<Body>
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
    let mut context = Context::from_waker(Waker::noop());
    match service.poll_ready(&mut context) {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => panic!("the benchmark services are always ready"),
    }
    let mut future = pin!(service.call(request));
    match future.as_mut().poll(&mut context) {
        Poll::Ready(Ok(response)) => response,
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => panic!("the benchmark responses are ready on the first poll"),
    }
}

/// Checks that `response` is what `variant` should return for `case`, so that a benchmark never
/// measures a misconfigured layer.
pub fn check_response(variant: Variant, case: Case, response: &Response<Body>) {
    let allow_origin = response.headers().get("access-control-allow-origin");
    let expected_status = match (variant, case) {
        // The inner service responds to an `OPTIONS` as to a `GET`, and tower-http responds to a
        // preflight with the default status of an empty response.
        (Variant::NoLayer | Variant::TowerHttp(_), Case::Preflight) => StatusCode::OK,
        (Variant::ForceCors(_), Case::Preflight) => StatusCode::NO_CONTENT,
        (_, Case::SimpleGet401) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::OK,
    };
    let expect_cors = match (variant, case) {
        (Variant::NoLayer, _) => false,
        (Variant::ForceCors(Config::Permissive) | Variant::TowerHttp(Config::Permissive), _) => {
            true
        }
        (_, Case::NoOrigin | Case::DisallowedOrigin) => false,
        _ => true,
    };
    let name = variant.name();
    let case_name = case.name();
    assert_eq!(
        response.status(),
        expected_status,
        "{name} returned an unexpected status for {case_name}",
    );
    assert_eq!(
        allow_origin.is_some(),
        expect_cors,
        "{name} returned an unexpected access-control-allow-origin for {case_name}: {allow_origin:?}",
    );
}
