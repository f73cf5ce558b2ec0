//! `CorsConfig` deserializes from TOML and JSON and builds through the builder's checks.
#![cfg(feature = "serde")]

use std::convert::Infallible;

use force_cors::{ConfigError, CorsConfig};
use http::{Method, Request, Response};
use tower::{Layer, ServiceExt, service_fn};

const TOML: &str = r#"
allow_origins = ["https://app.example", "https://*.example.org"]
allow_methods = ["GET", "POST", "DELETE"]
allow_headers = ["content-type", "x-upload-token-9368"]
expose_headers = ["x-upload-id"]
allow_credentials = true
max_age_seconds = 7200
allow_private_network = true
preflight_status = 200
rejection_status = 400
"#;

#[tokio::test]
async fn toml_config_builds_and_applies() {
    let config: CorsConfig = toml::from_str(TOML).unwrap();
    let layer = config.build().unwrap();
    let service = layer.layer(service_fn(|_request: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/")
        .header("origin", "https://pr-1.example.org")
        .header("access-control-request-method", "DELETE")
        .header("access-control-request-private-network", "true")
        .body(())
        .unwrap();
    let response = service.oneshot(preflight).await.unwrap();
    let headers = response.headers();
    assert_eq!(response.status(), 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://pr-1.example.org"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-allow-methods"], "GET, POST, DELETE");
    assert_eq!(
        headers["access-control-allow-headers"],
        "content-type, x-upload-token-9368"
    );
    assert_eq!(headers["access-control-max-age"], "7200");
    assert_eq!(headers["access-control-allow-private-network"], "true");
}

#[test]
fn json_config_equals_toml_config() {
    let from_toml: CorsConfig = toml::from_str(TOML).unwrap();
    let from_json: CorsConfig = serde_json::from_str(
        r#"{
            "allow_origins": ["https://app.example", "https://*.example.org"],
            "allow_methods": ["GET", "POST", "DELETE"],
            "allow_headers": ["content-type", "x-upload-token-9368"],
            "expose_headers": ["x-upload-id"],
            "allow_credentials": true,
            "max_age_seconds": 7200,
            "allow_private_network": true,
            "preflight_status": 200,
            "rejection_status": 400
        }"#,
    )
    .unwrap();
    assert_eq!(from_toml, from_json);
}

#[test]
fn unknown_field_rejected() {
    let error = toml::from_str::<CorsConfig>("allow_origin = [\"https://app.example\"]")
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown field `allow_origin`"), "{error}");
}

#[test]
fn config_goes_through_builder_checks() {
    let config: CorsConfig =
        toml::from_str("allow_any_origin = true\nallow_credentials = true").unwrap();
    assert_eq!(
        config.build().unwrap_err(),
        ConfigError::AnyOriginWithCredentials
    );

    let config: CorsConfig = toml::from_str("allow_origins = [\"https://app.example/\"]").unwrap();
    assert!(matches!(
        config.build(),
        Err(ConfigError::InvalidOrigin { .. })
    ));
}

#[test]
fn status_numbers_checked() {
    let config: CorsConfig =
        toml::from_str("allow_any_origin = true\npreflight_status = 1000").unwrap();
    assert_eq!(
        config.build().unwrap_err(),
        ConfigError::PreflightStatusNotOk { status: 1000 }
    );

    let config: CorsConfig =
        toml::from_str("allow_any_origin = true\nrejection_status = 302").unwrap();
    assert_eq!(
        config.build().unwrap_err(),
        ConfigError::RejectionStatusNotError { status: 302 }
    );
}

#[test]
fn empty_config_allows_nothing() {
    let config: CorsConfig = toml::from_str("").unwrap();
    assert_eq!(config.build().unwrap_err(), ConfigError::NoOriginAllowed);
}
