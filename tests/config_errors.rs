//! Every configuration mistake is a `ConfigError` from `build()` whose message names the value
//! and the fix.

use force_cors::{ConfigError, ForceCorsBuilder, ForceCorsLayer};
use http::StatusCode;

fn with_origin() -> ForceCorsBuilder {
    ForceCorsLayer::builder().allow_origins(["https://app.example"])
}

/// Builds `builder`, expecting `expected`, and checks that the message contains each of `words`.
#[track_caller]
fn assert_error(builder: ForceCorsBuilder, expected: ConfigError, words: &[&str]) {
    let error = builder.build().unwrap_err();
    assert_eq!(error, expected);
    let message = error.to_string();
    for word in words {
        assert!(
            message.contains(word),
            "{message:?} should contain {word:?}"
        );
    }
}

#[test]
fn invalid_origin_named_with_fix() {
    assert_error(
        ForceCorsLayer::builder().allow_origins(["https://app.example/"]),
        ConfigError::InvalidOrigin {
            origin: "https://app.example/".into(),
            reason: "an origin has no path, not even a trailing \"/\"; remove it",
        },
        &[
            "\"https://app.example/\"",
            "trailing",
            "scheme://host[:port]",
        ],
    );
}

#[test]
fn origin_without_scheme() {
    assert_error(
        ForceCorsLayer::builder().allow_origins(["app.example"]),
        ConfigError::InvalidOrigin {
            origin: "app.example".into(),
            reason: "the scheme is missing",
        },
        &["\"app.example\"", "scheme is missing"],
    );
}

#[test]
fn invalid_pattern_named_with_fix() {
    assert_error(
        ForceCorsLayer::builder().allow_origins(["https://*example.com"]),
        ConfigError::InvalidOriginPattern {
            pattern: "https://*example.com".into(),
            reason: "the only wildcard allowed is a leading \"*.\" before the domain",
        },
        &["\"https://*example.com\"", "https://*.example.com"],
    );
}

#[test]
fn wildcard_in_origin_list() {
    assert_error(
        ForceCorsLayer::builder().allow_origins(["https://app.example", "*"]),
        ConfigError::WildcardInOriginList,
        &["allow_any_origin()"],
    );
}

#[test]
fn any_origin_with_credentials() {
    assert_error(
        ForceCorsLayer::builder()
            .allow_any_origin()
            .allow_credentials(true),
        ConfigError::AnyOriginWithCredentials,
        &["allow_credentials(true)", "allow_origins()"],
    );
}

#[test]
fn any_origin_with_origin_list() {
    assert_error(
        with_origin().allow_any_origin(),
        ConfigError::AnyOriginWithOriginList,
        &["allow_any_origin()"],
    );
}

#[test]
fn any_origin_with_predicate() {
    assert_error(
        ForceCorsLayer::builder()
            .allow_any_origin()
            .allow_origin_predicate(|_| true),
        ConfigError::AnyOriginWithOriginList,
        &["predicate"],
    );
}

#[test]
fn no_origin_allowed() {
    assert_error(
        ForceCorsLayer::builder(),
        ConfigError::NoOriginAllowed,
        &["allow_origins()", "allow_any_origin()"],
    );
}

#[test]
fn invalid_method() {
    for bad in ["GET POST", "", "*", "GET,POST"] {
        assert_error(
            with_origin().allow_methods([bad]),
            ConfigError::InvalidMethod { method: bad.into() },
            &[&format!("{bad:?}")],
        );
    }
}

#[test]
fn invalid_allowed_header_name() {
    assert_error(
        with_origin().allow_headers(["x-ok", "x bad"]),
        ConfigError::InvalidHeaderName {
            setting: "allow_headers",
            name: "x bad".into(),
        },
        &["\"x bad\"", "allow_headers()"],
    );
}

#[test]
fn invalid_exposed_header_name() {
    assert_error(
        with_origin().expose_headers(["x-upload-id:"]),
        ConfigError::InvalidHeaderName {
            setting: "expose_headers",
            name: "x-upload-id:".into(),
        },
        &["\"x-upload-id:\"", "expose_headers()"],
    );
}

#[test]
fn wildcard_in_allowed_headers() {
    assert_error(
        with_origin().allow_headers(["*"]),
        ConfigError::WildcardInHeaderList {
            setting: "allow_headers",
        },
        &["allow_any_header()"],
    );
}

#[test]
fn wildcard_in_exposed_headers() {
    assert_error(
        with_origin().expose_headers(["*"]),
        ConfigError::WildcardInHeaderList {
            setting: "expose_headers",
        },
        &["expose_any_header()"],
    );
}

#[test]
fn preflight_status_not_ok() {
    assert_error(
        with_origin().preflight_status(StatusCode::MOVED_PERMANENTLY),
        ConfigError::PreflightStatusNotOk { status: 301 },
        &["301", "204"],
    );
}

#[test]
fn rejection_status_not_error() {
    assert_error(
        with_origin().rejection_status(StatusCode::OK),
        ConfigError::RejectionStatusNotError { status: 200 },
        &["200", "403"],
    );
}

#[test]
fn config_error_is_std_error() {
    let error: Box<dyn std::error::Error + Send + Sync> = Box::new(ConfigError::NoOriginAllowed);
    assert!(!error.to_string().is_empty());
}

/// Sets an environment variable used by one test only.
fn set_env(name: &str, value: &str) {
    // SAFETY: each test uses its own variable, and nothing outside std reads the environment
    // while tests run, so no C code races with this write.
    unsafe { std::env::set_var(name, value) };
}

#[test]
fn origin_list_from_env_accepted() {
    set_env(
        "FORCE_CORS_TEST_GOOD",
        " https://app.example , https://*.example.org,,null ",
    );
    let layer = ForceCorsLayer::builder()
        .allow_origins_from_env("FORCE_CORS_TEST_GOOD")
        .build();
    assert!(layer.is_ok(), "{layer:?}");
}

#[test]
fn origin_list_from_env_names_bad_entry() {
    set_env(
        "FORCE_CORS_TEST_BAD",
        "https://app.example, https://api.example/v1",
    );
    assert_error(
        ForceCorsLayer::builder().allow_origins_from_env("FORCE_CORS_TEST_BAD"),
        ConfigError::InEnvironmentVariable {
            name: "FORCE_CORS_TEST_BAD".into(),
            position: 2,
            error: Box::new(ConfigError::InvalidOrigin {
                origin: "https://api.example/v1".into(),
                reason: "an origin has no path, query or fragment; remove them",
            }),
        },
        &[
            "FORCE_CORS_TEST_BAD",
            "entry 2",
            "\"https://api.example/v1\"",
        ],
    );
}

#[test]
fn origin_list_from_missing_env() {
    assert_error(
        ForceCorsLayer::builder().allow_origins_from_env("FORCE_CORS_TEST_UNSET"),
        ConfigError::EnvironmentVariableMissing {
            name: "FORCE_CORS_TEST_UNSET".into(),
            not_unicode: false,
        },
        &["FORCE_CORS_TEST_UNSET", "not set", "comma-separated"],
    );
}

#[test]
fn origin_list_string_names_bad_entry() {
    assert_error(
        ForceCorsLayer::builder().allow_origin_list("https://app.example, *"),
        ConfigError::WildcardInOriginList,
        &["allow_any_origin()"],
    );
}

#[test]
fn origin_list_from_empty_env() {
    set_env("FORCE_CORS_TEST_EMPTY", " , ");
    assert_error(
        ForceCorsLayer::builder().allow_origins_from_env("FORCE_CORS_TEST_EMPTY"),
        ConfigError::EnvironmentVariableEmpty {
            name: "FORCE_CORS_TEST_EMPTY".into(),
        },
        &["FORCE_CORS_TEST_EMPTY", "holds no origin"],
    );
}

#[test]
fn star_method_points_to_any_method() {
    assert_error(
        with_origin().allow_methods(["*"]),
        ConfigError::InvalidMethod { method: "*".into() },
        &["allow_any_method()"],
    );
}

#[test]
fn ipv4_shorthand_rejected() {
    assert_error(
        ForceCorsLayer::builder().allow_origins(["http://127.1:8000"]),
        ConfigError::InvalidOrigin {
            origin: "http://127.1:8000".into(),
            reason: "write an IPv4 address as four decimal numbers, such as 127.0.0.1",
        },
        &["\"http://127.1:8000\"", "127.0.0.1"],
    );
}
