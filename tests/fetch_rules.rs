//! One test per rule of the Fetch standard's CORS protocol that the layer implements, each
//! asserting the exact header values a browser reads.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use force_cors::{ForceCorsBuilder, ForceCorsLayer};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use tower::{Layer, ServiceExt, service_fn};

const ORIGIN: &str = "https://app.example";

/// What the inner service returns, and how often it was called.
#[derive(Clone)]
struct Inner {
    status: StatusCode,
    headers: Vec<(&'static str, &'static str)>,
    calls: Arc<AtomicUsize>,
}

impl Inner {
    fn status(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            calls: Arc::default(),
        }
    }

    fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Sends `request` through `layer` around `inner` and returns the response.
async fn send(layer: &ForceCorsLayer, inner: &Inner, request: Request<()>) -> Response<String> {
    let inner = inner.clone();
    let service = layer.layer(service_fn(move |_request: Request<()>| {
        let inner = inner.clone();
        async move {
            inner.calls.fetch_add(1, Ordering::SeqCst);
            let mut response = Response::new(String::from("inner body"));
            *response.status_mut() = inner.status;
            for (name, value) in &inner.headers {
                response.headers_mut().append(
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
            Ok::<_, Infallible>(response)
        }
    }));
    service.oneshot(request).await.unwrap()
}

fn request(method: Method, headers: &[(&'static str, &'static str)]) -> Request<()> {
    let mut builder = Request::builder().method(method).uri("/upload");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap()
}

fn preflight(extra: &[(&'static str, &'static str)]) -> Request<()> {
    let mut headers = vec![
        ("origin", ORIGIN),
        ("access-control-request-method", "POST"),
    ];
    headers.extend_from_slice(extra);
    request(Method::OPTIONS, &headers)
}

/// Returns every value of `name`, in order, as strings.
fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn allow_list() -> ForceCorsBuilder {
    ForceCorsLayer::builder()
        .allow_origins([ORIGIN, "https://*.example.org"])
        .allow_methods(["GET", "POST", "DELETE"])
        .allow_headers(["content-type", "x-upload-token-9368"])
        .expose_headers(["x-upload-id"])
}

const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

// ===== Preflight requests =====

#[tokio::test]
async fn preflight_answered_without_inner_service() {
    let inner = Inner::status(StatusCode::UNAUTHORIZED);
    let response = send(&ForceCorsLayer::permissive(), &inner, preflight(&[])).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.body(), "");
    assert_eq!(inner.calls(), 0);
}

#[tokio::test]
async fn preflight_permissive_exact_headers() {
    let inner = Inner::status(StatusCode::OK);
    let request = preflight(&[(
        "access-control-request-headers",
        "authorization,x-upload-token-9368",
    )]);
    let response = send(&ForceCorsLayer::permissive(), &inner, request).await;
    let headers = response.headers();
    assert_eq!(values(headers, "access-control-allow-origin"), ["*"]);
    assert_eq!(values(headers, "access-control-allow-methods"), ["*"]);
    assert_eq!(
        values(headers, "access-control-allow-headers"),
        ["authorization,x-upload-token-9368"]
    );
    assert_eq!(values(headers, "access-control-max-age"), ["600"]);
    assert_eq!(values(headers, "vary"), [PREFLIGHT_VARY]);
    assert!(headers.get("access-control-allow-credentials").is_none());
    assert_eq!(headers.len(), 5);
}

#[tokio::test]
async fn preflight_request_headers_on_several_lines_mirrored() {
    let inner = Inner::status(StatusCode::OK);
    let request = preflight(&[
        ("access-control-request-headers", "content-type"),
        ("access-control-request-headers", "Authorization"),
    ]);
    let response = send(&ForceCorsLayer::permissive(), &inner, request).await;
    assert_eq!(
        values(response.headers(), "access-control-allow-headers"),
        ["content-type", "Authorization"]
    );
}

#[tokio::test]
async fn preflight_without_request_headers_sends_no_allow_headers() {
    let inner = Inner::status(StatusCode::OK);
    let response = send(&ForceCorsLayer::permissive(), &inner, preflight(&[])).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-headers")
            .is_none()
    );
}

#[tokio::test]
async fn preflight_allow_list_exact_headers() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = preflight(&[(
        "access-control-request-headers",
        "X-Upload-Token-9368, content-type",
    )]);
    let response = send(&layer, &inner, request).await;
    let headers = response.headers();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(values(headers, "access-control-allow-origin"), [ORIGIN]);
    assert_eq!(
        values(headers, "access-control-allow-methods"),
        ["GET, POST, DELETE"]
    );
    assert_eq!(
        values(headers, "access-control-allow-headers"),
        ["content-type, x-upload-token-9368"]
    );
    assert_eq!(values(headers, "access-control-max-age"), ["600"]);
    assert_eq!(values(headers, "vary"), [PREFLIGHT_VARY]);
    assert!(headers.get("access-control-expose-headers").is_none());
}

#[tokio::test]
async fn preflight_disallowed_origin_rejected() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = request(
        Method::OPTIONS,
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "POST"),
        ],
    );
    let response = send(&layer, &inner, request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.body(), "");
    assert_eq!(values(response.headers(), "vary"), [PREFLIGHT_VARY]);
    assert_eq!(response.headers().len(), 1);
    assert_eq!(inner.calls(), 0);
}

#[tokio::test]
async fn preflight_disallowed_method_rejected() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = request(
        Method::OPTIONS,
        &[("origin", ORIGIN), ("access-control-request-method", "PUT")],
    );
    let response = send(&layer, &inner, request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn preflight_method_compared_case_sensitively() {
    let layer = allow_list().allow_methods(["PATCH"]).build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let lower = request(
        Method::OPTIONS,
        &[
            ("origin", ORIGIN),
            ("access-control-request-method", "patch"),
        ],
    );
    assert_eq!(
        send(&layer, &inner, lower).await.status(),
        StatusCode::FORBIDDEN
    );
    let upper = request(
        Method::OPTIONS,
        &[
            ("origin", ORIGIN),
            ("access-control-request-method", "PATCH"),
        ],
    );
    assert_eq!(
        send(&layer, &inner, upper).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn preflight_configured_lowercase_delete_normalized() {
    let layer = allow_list().allow_methods(["delete"]).build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = request(
        Method::OPTIONS,
        &[
            ("origin", ORIGIN),
            ("access-control-request-method", "DELETE"),
        ],
    );
    let response = send(&layer, &inner, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        values(response.headers(), "access-control-allow-methods"),
        ["DELETE"]
    );
}

#[tokio::test]
async fn preflight_safelisted_method_always_allowed() {
    let layer = allow_list().allow_methods(["DELETE"]).build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = preflight(&[("access-control-request-headers", "content-type")]);
    let response = send(&layer, &inner, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        values(response.headers(), "access-control-allow-methods"),
        ["DELETE"]
    );
}

#[tokio::test]
async fn preflight_disallowed_header_rejected() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = preflight(&[(
        "access-control-request-headers",
        "content-type, authorization",
    )]);
    let response = send(&layer, &inner, request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(
        response
            .headers()
            .get("access-control-allow-headers")
            .is_none()
    );
}

#[tokio::test]
async fn preflight_rejection_status_configurable() {
    let layer = allow_list()
        .rejection_status(StatusCode::BAD_REQUEST)
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = preflight(&[("access-control-request-headers", "authorization")]);
    assert_eq!(
        send(&layer, &inner, request).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn preflight_status_200_configurable() {
    let layer = allow_list()
        .preflight_status(StatusCode::OK)
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK);
    assert_eq!(
        send(&layer, &inner, preflight(&[])).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn preflight_max_age_configurable_or_omitted() {
    let inner = Inner::status(StatusCode::OK);
    let hour = allow_list()
        .max_age(Some(std::time::Duration::from_secs(3600)))
        .build()
        .unwrap();
    let response = send(&hour, &inner, preflight(&[])).await;
    assert_eq!(
        values(response.headers(), "access-control-max-age"),
        ["3600"]
    );
    let none = allow_list().max_age(None).build().unwrap();
    let response = send(&none, &inner, preflight(&[])).await;
    assert!(response.headers().get("access-control-max-age").is_none());
}

#[tokio::test]
async fn plain_options_goes_to_inner_service() {
    let inner = Inner::status(StatusCode::METHOD_NOT_ALLOWED);
    let request = request(Method::OPTIONS, &[("origin", ORIGIN)]);
    let response = send(&ForceCorsLayer::permissive(), &inner, request).await;
    assert_eq!(inner.calls(), 1);
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        ["*"]
    );
}

#[tokio::test]
async fn options_with_request_method_but_no_origin_goes_to_inner_service() {
    let inner = Inner::status(StatusCode::OK);
    let request = request(
        Method::OPTIONS,
        &[("access-control-request-method", "POST")],
    );
    send(&ForceCorsLayer::permissive(), &inner, request).await;
    assert_eq!(inner.calls(), 1);
}

// ===== Private Network Access =====

#[tokio::test]
async fn private_network_answered_when_enabled() {
    let layer = allow_list().allow_private_network(true).build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = preflight(&[("access-control-request-private-network", "true")]);
    let response = send(&layer, &inner, request).await;
    assert_eq!(
        values(response.headers(), "access-control-allow-private-network"),
        ["true"]
    );
    assert_eq!(
        values(response.headers(), "vary"),
        [
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, \
             Access-Control-Request-Private-Network"
        ]
    );
}

#[tokio::test]
async fn private_network_not_answered_by_default() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = preflight(&[("access-control-request-private-network", "true")]);
    let response = send(&layer, &inner, request).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-private-network")
            .is_none()
    );
}

#[tokio::test]
async fn private_network_not_answered_unless_requested() {
    let layer = allow_list().allow_private_network(true).build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let response = send(&layer, &inner, preflight(&[])).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-private-network")
            .is_none()
    );
}

#[tokio::test]
async fn private_network_not_answered_for_disallowed_origin() {
    let layer = allow_list().allow_private_network(true).build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = request(
        Method::OPTIONS,
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "GET"),
            ("access-control-request-private-network", "true"),
        ],
    );
    let response = send(&layer, &inner, request).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .headers()
            .get("access-control-allow-private-network")
            .is_none()
    );
}

// ===== CORS requests: every status decorated =====

#[tokio::test]
async fn every_status_gets_allow_origin() {
    for status in [
        200, 204, 301, 400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504,
    ] {
        let status = StatusCode::from_u16(status).unwrap();
        let inner = Inner::status(status);
        let request = request(Method::POST, &[("origin", ORIGIN)]);
        let response = send(&ForceCorsLayer::permissive(), &inner, request).await;
        assert_eq!(response.status(), status);
        assert_eq!(
            values(response.headers(), "access-control-allow-origin"),
            ["*"],
            "{status}"
        );
        assert_eq!(
            values(response.headers(), "access-control-expose-headers"),
            ["*"],
            "{status}"
        );
        assert!(response.headers().get("vary").is_none(), "{status}");
    }
}

#[tokio::test]
async fn inner_allow_origin_replaced_by_one_value() {
    let inner = Inner::status(StatusCode::UNAUTHORIZED)
        .with_header("access-control-allow-origin", "https://stale.example")
        .with_header("access-control-allow-origin", "*")
        .with_header("access-control-allow-credentials", "true")
        .with_header("access-control-expose-headers", "x-secret")
        .with_header("access-control-allow-methods", "PUT")
        .with_header("access-control-allow-private-network", "true");
    let layer = allow_list().build().unwrap();
    let request = request(Method::GET, &[("origin", ORIGIN)]);
    let response = send(&layer, &inner, request).await;
    let headers = response.headers();
    assert_eq!(values(headers, "access-control-allow-origin"), [ORIGIN]);
    assert_eq!(
        values(headers, "access-control-expose-headers"),
        ["x-upload-id"]
    );
    assert!(headers.get("access-control-allow-credentials").is_none());
    assert!(headers.get("access-control-allow-methods").is_none());
    assert!(
        headers
            .get("access-control-allow-private-network")
            .is_none()
    );
}

#[tokio::test]
async fn inner_cors_headers_removed_for_disallowed_origin() {
    let inner = Inner::status(StatusCode::OK)
        .with_header("access-control-allow-origin", "*")
        .with_header("access-control-allow-credentials", "true");
    let layer = allow_list().build().unwrap();
    let request = request(Method::GET, &[("origin", "https://evil.example")]);
    let response = send(&layer, &inner, request).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}

#[tokio::test]
async fn other_response_headers_kept() {
    let inner = Inner::status(StatusCode::OK)
        .with_header("x-upload-id", "42")
        .with_header("set-cookie", "a=1")
        .with_header("set-cookie", "b=2");
    let request = request(Method::GET, &[("origin", ORIGIN)]);
    let response = send(&ForceCorsLayer::permissive(), &inner, request).await;
    assert_eq!(values(response.headers(), "x-upload-id"), ["42"]);
    assert_eq!(values(response.headers(), "set-cookie"), ["a=1", "b=2"]);
    assert_eq!(response.body(), "inner body");
}

// ===== Vary =====

#[tokio::test]
async fn vary_origin_added_for_allow_list() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::UNAUTHORIZED);
    let response = send(&layer, &inner, request(Method::GET, &[("origin", ORIGIN)])).await;
    assert_eq!(values(response.headers(), "vary"), ["Origin"]);
}

#[tokio::test]
async fn vary_merged_with_inner_tokens() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK).with_header("vary", "Accept-Encoding");
    let response = send(&layer, &inner, request(Method::GET, &[("origin", ORIGIN)])).await;
    assert_eq!(
        values(response.headers(), "vary"),
        ["Accept-Encoding", "Origin"]
    );
}

#[tokio::test]
async fn vary_origin_not_repeated_in_any_case() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK).with_header("vary", "accept-encoding, ORIGIN");
    let response = send(&layer, &inner, request(Method::GET, &[("origin", ORIGIN)])).await;
    assert_eq!(
        values(response.headers(), "vary"),
        ["accept-encoding, ORIGIN"]
    );
}

#[tokio::test]
async fn vary_inner_duplicates_merged() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK)
        .with_header("vary", "Accept-Encoding")
        .with_header("vary", "accept-encoding, Cookie");
    let response = send(&layer, &inner, request(Method::GET, &[("origin", ORIGIN)])).await;
    assert_eq!(
        values(response.headers(), "vary"),
        ["Accept-Encoding, Cookie, Origin"]
    );
}

#[tokio::test]
async fn vary_star_kept() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK).with_header("vary", "*");
    let response = send(&layer, &inner, request(Method::GET, &[("origin", ORIGIN)])).await;
    assert_eq!(values(response.headers(), "vary"), ["*"]);
}

#[tokio::test]
async fn vary_untouched_for_permissive() {
    let inner = Inner::status(StatusCode::OK).with_header("vary", "Accept-Encoding");
    let response = send(
        &ForceCorsLayer::permissive(),
        &inner,
        request(Method::GET, &[("origin", ORIGIN)]),
    )
    .await;
    assert_eq!(values(response.headers(), "vary"), ["Accept-Encoding"]);
}

// ===== Credentials =====

#[tokio::test]
async fn credentials_echo_origin_never_star() {
    let layer = allow_list().allow_credentials(true).build().unwrap();
    let inner = Inner::status(StatusCode::UNAUTHORIZED);
    let response = send(&layer, &inner, request(Method::POST, &[("origin", ORIGIN)])).await;
    let headers = response.headers();
    assert_eq!(values(headers, "access-control-allow-origin"), [ORIGIN]);
    assert_eq!(
        values(headers, "access-control-allow-credentials"),
        ["true"]
    );
    assert_eq!(
        values(headers, "access-control-expose-headers"),
        ["x-upload-id"]
    );
    assert_eq!(values(headers, "vary"), ["Origin"]);
}

#[tokio::test]
async fn credentials_preflight_names_method_and_headers() {
    let layer = ForceCorsLayer::builder()
        .allow_origins([ORIGIN])
        .allow_any_method()
        .allow_any_header()
        .allow_credentials(true)
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = request(
        Method::OPTIONS,
        &[
            ("origin", ORIGIN),
            ("access-control-request-method", "PATCH"),
            ("access-control-request-headers", "authorization"),
        ],
    );
    let response = send(&layer, &inner, request).await;
    let headers = response.headers();
    assert_eq!(values(headers, "access-control-allow-origin"), [ORIGIN]);
    assert_eq!(
        values(headers, "access-control-allow-credentials"),
        ["true"]
    );
    assert_eq!(values(headers, "access-control-allow-methods"), ["PATCH"]);
    assert_eq!(
        values(headers, "access-control-allow-headers"),
        ["authorization"]
    );
}

#[tokio::test]
async fn credentials_expose_any_lists_response_names() {
    let layer = ForceCorsLayer::builder()
        .allow_origins([ORIGIN])
        .expose_any_header()
        .allow_credentials(true)
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK)
        .with_header("x-upload-id", "7")
        .with_header("access-control-expose-headers", "*");
    let response = send(&layer, &inner, request(Method::GET, &[("origin", ORIGIN)])).await;
    assert_eq!(
        values(response.headers(), "access-control-expose-headers"),
        ["x-upload-id"]
    );
}

#[tokio::test]
async fn credentials_expose_any_keeps_configured_names() {
    let layer = ForceCorsLayer::builder()
        .allow_origins([ORIGIN])
        .expose_headers(["x-request-id"])
        .expose_any_header()
        .allow_credentials(true)
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::METHOD_NOT_ALLOWED).with_header("allow", "GET");
    let response = send(
        &layer,
        &inner,
        request(Method::DELETE, &[("origin", ORIGIN)]),
    )
    .await;
    assert_eq!(
        values(response.headers(), "access-control-expose-headers"),
        ["x-request-id, allow"]
    );
}

#[tokio::test]
async fn expose_any_without_credentials_is_star() {
    let layer = ForceCorsLayer::builder()
        .allow_origins([ORIGIN])
        .expose_any_header()
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK).with_header("x-upload-id", "7");
    let response = send(&layer, &inner, request(Method::GET, &[("origin", ORIGIN)])).await;
    assert_eq!(
        values(response.headers(), "access-control-expose-headers"),
        ["*"]
    );
}

// ===== Origins =====

#[tokio::test]
async fn null_origin_rejected_unless_listed() {
    let inner = Inner::status(StatusCode::OK);
    let unlisted = allow_list().build().unwrap();
    let response = send(
        &unlisted,
        &inner,
        request(Method::GET, &[("origin", "null")]),
    )
    .await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let listed = allow_list()
        .allow_origins(["null"])
        .allow_credentials(true)
        .build()
        .unwrap();
    let response = send(&listed, &inner, request(Method::GET, &[("origin", "null")])).await;
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        ["null"]
    );
}

#[tokio::test]
async fn null_origin_allowed_by_permissive_with_star() {
    let inner = Inner::status(StatusCode::OK);
    let response = send(
        &ForceCorsLayer::permissive(),
        &inner,
        request(Method::GET, &[("origin", "null")]),
    )
    .await;
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        ["*"]
    );
}

#[tokio::test]
async fn pattern_origin_echoed() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let origin = "https://pr-7.preview.example.org";
    let response = send(&layer, &inner, request(Method::GET, &[("origin", origin)])).await;
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        [origin]
    );
    for lookalike in [
        "https://evil-example.org",
        "https://example.org.evil.net",
        "https://example.org",
    ] {
        let response = send(
            &layer,
            &inner,
            request(Method::GET, &[("origin", lookalike)]),
        )
        .await;
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{lookalike}"
        );
    }
}

#[tokio::test]
async fn predicate_origin_echoed() {
    let layer = ForceCorsLayer::builder()
        .allow_origin_predicate(|origin| origin.as_bytes().ends_with(b".localhost:3000"))
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK);
    let origin = "http://tenant.localhost:3000";
    let response = send(&layer, &inner, request(Method::GET, &[("origin", origin)])).await;
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        [origin]
    );
    let response = send(
        &layer,
        &inner,
        request(Method::GET, &[("origin", "http://localhost:3001")]),
    )
    .await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn disallowed_origin_forwarded_without_allow_origin() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::UNAUTHORIZED);
    let response = send(
        &layer,
        &inner,
        request(Method::POST, &[("origin", "https://evil.example")]),
    )
    .await;
    assert_eq!(inner.calls(), 1);
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(
        response
            .headers()
            .get("access-control-expose-headers")
            .is_none()
    );
    assert_eq!(values(response.headers(), "vary"), ["Origin"]);
}

#[tokio::test]
async fn several_origin_headers_not_trusted() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK);
    let request = request(
        Method::GET,
        &[("origin", ORIGIN), ("origin", "https://evil.example")],
    );
    let response = send(&layer, &inner, request).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn origin_echoed_byte_for_byte() {
    let layer = ForceCorsLayer::builder()
        .allow_origins(["HTTP://LOCALHOST:8000"])
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK);
    let origin = "http://localhost:8000";
    let response = send(&layer, &inner, request(Method::GET, &[("origin", origin)])).await;
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        [origin]
    );
}

// ===== Requests without Origin =====

#[tokio::test]
async fn no_origin_permissive_gets_star() {
    let inner = Inner::status(StatusCode::UNAUTHORIZED);
    let response = send(
        &ForceCorsLayer::permissive(),
        &inner,
        request(Method::GET, &[]),
    )
    .await;
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        ["*"]
    );
    assert!(response.headers().get("vary").is_none());
}

#[tokio::test]
async fn no_origin_allow_list_gets_only_vary() {
    let layer = allow_list().build().unwrap();
    let inner = Inner::status(StatusCode::OK)
        .with_header("access-control-allow-origin", "*")
        .with_header("content-type", "application/json");
    let response = send(&layer, &inner, request(Method::GET, &[])).await;
    let headers = response.headers();
    assert!(headers.get("access-control-allow-origin").is_none());
    assert_eq!(values(headers, "vary"), ["Origin"]);
    assert_eq!(values(headers, "content-type"), ["application/json"]);
    assert_eq!(headers.len(), 2);
}

// ===== Presets =====

#[tokio::test]
async fn grpc_web_preset_headers() {
    let inner = Inner::status(StatusCode::OK).with_header("grpc-status", "16");
    let response = send(
        &ForceCorsLayer::grpc_web(),
        &inner,
        request(Method::POST, &[("origin", ORIGIN)]),
    )
    .await;
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        ["*"]
    );
    assert_eq!(
        values(response.headers(), "access-control-expose-headers"),
        ["grpc-status, grpc-message, grpc-status-details-bin"]
    );

    let request = preflight(&[(
        "access-control-request-headers",
        "content-type,x-grpc-web,x-user-agent,x-upload-token-9368",
    )]);
    let response = send(&ForceCorsLayer::grpc_web(), &inner, request).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        values(response.headers(), "access-control-allow-methods"),
        ["POST, OPTIONS"]
    );
    assert_eq!(
        values(response.headers(), "access-control-allow-headers"),
        ["content-type,x-grpc-web,x-user-agent,x-upload-token-9368"]
    );
}

#[tokio::test]
async fn grpc_web_with_credentials_and_allow_list() {
    let layer = ForceCorsLayer::builder()
        .grpc_web()
        .allow_origins([ORIGIN])
        .allow_credentials(true)
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK);
    let response = send(&layer, &inner, request(Method::POST, &[("origin", ORIGIN)])).await;
    assert_eq!(
        values(response.headers(), "access-control-allow-origin"),
        [ORIGIN]
    );
    assert_eq!(
        values(response.headers(), "access-control-allow-credentials"),
        ["true"]
    );
    assert_eq!(
        values(response.headers(), "access-control-expose-headers"),
        ["grpc-status, grpc-message, grpc-status-details-bin"]
    );
}

#[test]
fn permissive_preset_builds() {
    ForceCorsBuilder::permissive().build().unwrap();
}

#[test]
fn permissive_builder_rejects_credentials() {
    let error = ForceCorsBuilder::permissive()
        .allow_credentials(true)
        .build()
        .unwrap_err();
    assert_eq!(error, force_cors::ConfigError::AnyOriginWithCredentials);
}

#[test]
fn grpc_web_preset_builds() {
    ForceCorsLayer::builder()
        .allow_any_origin()
        .grpc_web()
        .build()
        .unwrap();
}

#[test]
fn layer_debug_hides_predicate() {
    let layer = ForceCorsLayer::builder()
        .allow_origin_predicate(|_| true)
        .build()
        .unwrap();
    let debug = format!("{layer:?}");
    assert!(debug.contains("Fn(&HeaderValue) -> bool"), "{debug}");
}

#[tokio::test]
async fn credentials_preflight_requesting_star_rejected() {
    let layer = ForceCorsLayer::builder()
        .allow_origins([ORIGIN])
        .allow_any_method()
        .allow_any_header()
        .allow_credentials(true)
        .build()
        .unwrap();
    let inner = Inner::status(StatusCode::OK);
    let star_method = request(
        Method::OPTIONS,
        &[("origin", ORIGIN), ("access-control-request-method", "*")],
    );
    let response = send(&layer, &inner, star_method).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .headers()
            .get("access-control-allow-methods")
            .is_none()
    );

    let star_header = preflight(&[("access-control-request-headers", "x-a, *")]);
    let response = send(&layer, &inner, star_header).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .headers()
            .get("access-control-allow-headers")
            .is_none()
    );
}
