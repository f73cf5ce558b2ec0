//! Properties over arbitrary header bytes and arbitrary configurations: no panic, and never a
//! combination of CORS headers that a browser rejects or that grants more than configured.

use std::convert::Infallible;

use force_cors::{ForceCorsBuilder, ForceCorsLayer};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use proptest::prelude::*;
use tower::{Layer, Service, ServiceExt, service_fn};

/// Header values: realistic shapes and arbitrary valid bytes.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        // Mostly realistic shapes, so that allowed paths are reached too.
        prop::sample::select(vec![
            "https://app.example",
            "https://a.b.example.org",
            "https://evil-example.org",
            "null",
            "*",
            "GET",
            "PATCH",
            "content-type, x-upload-token-9368",
            "Origin, accept-encoding, ORIGIN",
            "",
        ])
        .prop_map(HeaderValue::from_static),
        // Every byte a header value may contain: tab, visible ASCII, space and obs-text. Drawing
        // only those, instead of filtering arbitrary bytes, keeps proptest from giving up on
        // too many rejected inputs.
        prop::collection::vec(
            prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff],
            0..64
        )
        .prop_map(|bytes| HeaderValue::from_bytes(&bytes).expect("valid header bytes")),
    ]
}

const INNER_HEADERS: [&str; 7] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "vary",
];

fn layers() -> Vec<(&'static str, ForceCorsLayer)> {
    let list = || {
        ForceCorsLayer::builder()
            .allow_origins(["https://app.example", "https://*.example.org"])
            .allow_methods(["GET", "POST", "PATCH"])
            .allow_headers(["content-type", "x-upload-token-9368"])
            .expose_headers(["x-upload-id"])
    };
    vec![
        ("permissive", ForceCorsLayer::permissive()),
        ("grpc_web", ForceCorsLayer::grpc_web()),
        ("list", list().build().unwrap()),
        (
            "list_credentials",
            list().allow_credentials(true).build().unwrap(),
        ),
        (
            "any_credentials",
            list()
                .allow_any_method()
                .allow_any_header()
                .expose_any_header()
                .allow_credentials(true)
                .build()
                .unwrap(),
        ),
    ]
}

/// Returns the lower-cased list elements of a header as bytes: arbitrary values need not be
/// UTF-8, and a lossy conversion would make distinct tokens look equal.
fn elements(headers: &HeaderMap, name: &str) -> Vec<Vec<u8>> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|line| line.as_bytes().split(|&b| b == b','))
        .map(|element| element.trim_ascii().to_ascii_lowercase())
        .filter(|element| !element.is_empty())
        .collect()
}

async fn send(
    layer: &ForceCorsLayer,
    request: Request<()>,
    inner_headers: HeaderMap,
) -> Response<String> {
    let mut service = layer.layer(service_fn(move |_request: Request<()>| {
        let inner_headers = inner_headers.clone();
        async move {
            let mut response = Response::new(String::new());
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            *response.headers_mut() = inner_headers;
            Ok::<_, Infallible>(response)
        }
    }));
    service.ready().await.unwrap().call(request).await.unwrap()
}

fn check_response(
    name: &str,
    credentials: bool,
    origin: Option<&HeaderValue>,
    response: &Response<String>,
) {
    let headers = response.headers();
    let allow_origin: Vec<_> = headers
        .get_all("access-control-allow-origin")
        .iter()
        .collect();
    assert!(
        allow_origin.len() <= 1,
        "{name}: several allow-origin values: {allow_origin:?}"
    );

    if let Some(value) = allow_origin.first() {
        if credentials {
            assert_ne!(*value, "*", "{name}: * with credentials");
            assert_eq!(
                Some(*value),
                origin,
                "{name}: allow-origin is not the request's origin"
            );
        }
        if *value != "*" {
            let origin = origin.expect("an echoed origin needs a request origin");
            let bytes = origin.as_bytes();
            let allowed = bytes == b"https://app.example"
                || (bytes.starts_with(b"https://")
                    && bytes.ends_with(b".example.org")
                    && !bytes.ends_with(b"//.example.org"));
            assert!(allowed, "{name}: disallowed origin {origin:?} echoed");
        }
    }
    if credentials {
        for wildcard_header in [
            "access-control-allow-methods",
            "access-control-allow-headers",
            "access-control-expose-headers",
        ] {
            assert!(
                !elements(headers, wildcard_header).iter().any(|e| e == b"*"),
                "{name}: * in {wildcard_header} with credentials"
            );
        }
    }

    let vary = elements(headers, "vary");
    let mut unique = vary.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        vary.len(),
        unique.len(),
        "{name}: duplicate Vary tokens {vary:?}"
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_request_and_inner_headers(
        preflight in any::<bool>(),
        origin in prop::option::of(header_value()),
        request_method in prop::option::of(header_value()),
        request_headers in prop::collection::vec(header_value(), 0..3),
        inner in prop::collection::vec((0..INNER_HEADERS.len(), header_value()), 0..6),
    ) {
        let runtime = runtime();
        for (name, layer) in layers() {
            let method = if preflight { Method::OPTIONS } else { Method::POST };
            let mut request = Request::builder().method(method).uri("/").body(()).unwrap();
            let headers = request.headers_mut();
            if let Some(origin) = &origin {
                headers.insert("origin", origin.clone());
            }
            if let Some(method) = &request_method {
                headers.insert("access-control-request-method", method.clone());
            }
            for line in &request_headers {
                headers.append("access-control-request-headers", line.clone());
            }
            let mut inner_headers = HeaderMap::new();
            for (index, value) in &inner {
                inner_headers.append(HeaderName::from_static(INNER_HEADERS[*index]), value.clone());
            }

            let response = runtime.block_on(send(&layer, request, inner_headers));
            let credentials = name.ends_with("credentials");
            check_response(name, credentials, origin.as_ref(), &response);
        }
    }

    #[test]
    fn arbitrary_builder_inputs_never_panic(
        origins in prop::collection::vec(".{0,40}", 0..4),
        methods in prop::collection::vec(".{0,10}", 0..3),
        headers in prop::collection::vec(".{0,20}", 0..3),
        exposed in prop::collection::vec(".{0,20}", 0..3),
        flags in any::<[bool; 6]>(),
        preflight_status in 0u16..1000,
        rejection_status in 0u16..1000,
    ) {
        let mut builder: ForceCorsBuilder = ForceCorsLayer::builder()
            .allow_origins(&origins)
            .allow_methods(&methods)
            .allow_headers(&headers)
            .expose_headers(&exposed)
            .allow_credentials(flags[0])
            .allow_private_network(flags[1]);
        if flags[2] { builder = builder.allow_any_origin(); }
        if flags[3] { builder = builder.allow_any_method(); }
        if flags[4] { builder = builder.allow_any_header(); }
        if flags[5] { builder = builder.expose_any_header(); }
        if let Ok(status) = StatusCode::from_u16(preflight_status) {
            builder = builder.preflight_status(status);
        }
        if let Ok(status) = StatusCode::from_u16(rejection_status) {
            builder = builder.rejection_status(status);
        }
        if let Err(error) = builder.build() {
            prop_assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn configured_origin_matches_its_serialization(
        host in "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
        port in prop::option::of(1u16..),
    ) {
        let origin = match port {
            Some(port) => format!("http://{host}:{port}"),
            None => format!("http://{host}"),
        };
        let layer = ForceCorsLayer::builder().allow_origins([origin.to_uppercase()]).build();
        prop_assert!(layer.is_ok(), "{origin}: {layer:?}");
        let request = Request::get("/").header("origin", &origin).body(()).unwrap();
        let response = runtime().block_on(send(&layer.unwrap(), request, HeaderMap::new()));
        let expected = if port == Some(80) { None } else { Some(origin.as_str()) };
        let echoed = response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap());
        prop_assert_eq!(echoed, expected);
    }
}

#[tokio::test]
async fn oversized_request_headers_handled() {
    // 64 KiB of requested header names, in the many-names shape an attacker would send.
    let names: Vec<String> = (0..6000).map(|i| format!("x-h{i}")).collect();
    let value = HeaderValue::from_str(&names.join(",")).unwrap();
    assert!(value.len() > 40_000);
    for (name, layer) in layers() {
        let mut request = Request::builder()
            .method(Method::OPTIONS)
            .uri("/")
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .body(())
            .unwrap();
        request
            .headers_mut()
            .insert("access-control-request-headers", value.clone());
        let response = send(&layer, request, HeaderMap::new()).await;
        let mirrored = response.headers().get("access-control-allow-headers");
        match name {
            "permissive" | "grpc_web" | "any_credentials" => {
                assert_eq!(response.status(), StatusCode::NO_CONTENT, "{name}");
                assert_eq!(mirrored, Some(&value), "{name}");
            }
            _ => assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}"),
        }
    }
}
