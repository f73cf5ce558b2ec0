//! Checks the headless Chromium harness against two servers written here, independent of the
//! crate, so that browser tests of the layer can trust what the harness reports.
//!
//! Skipped when /usr/bin/chromium is missing, unless `FORCE_CORS_REQUIRE_BROWSER=1` is set.

#[path = "support/browser.rs"]
mod browser;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
};
use axum::response::Html;
use axum::routing::get;
use serde_json::json;

use browser::{LaunchOptions, NON_WILDCARD_REQUEST_HEADERS};

const PAGE_HTML: &str = "<!doctype html><title>browser harness</title><p>browser harness</p>";

/// Text of Chromium's console message when a preflight allows request headers with `*` and the
/// request carries `Authorization`, with `CorsNonWildcardRequestHeadersSupport` enabled.
const AUTHORIZATION_NOT_ALLOWED: &str =
    "authorization is not allowed by Access-Control-Allow-Headers";

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("failed to bind 127.0.0.1:0");
    let address = listener
        .local_addr()
        .expect("bound listener has an address");
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("test server failed");
    });
    address
}

fn page_router() -> Router {
    Router::new().route("/", get(|| async { Html(PAGE_HTML) }))
}

/// Routes that respond the way a CORS-aware and a CORS-unaware server would, without the crate.
fn api_router(preflights: Arc<AtomicUsize>) -> Router {
    let star_headers_preflight = move || {
        let preflights = Arc::clone(&preflights);
        async move {
            preflights.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::NO_CONTENT,
                [
                    (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                    (ACCESS_CONTROL_ALLOW_METHODS, "*"),
                    (ACCESS_CONTROL_ALLOW_HEADERS, "*"),
                ],
            )
        }
    };

    Router::new()
        .route(
            "/cors",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    [(ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
                    "login required",
                )
            }),
        )
        .route(
            "/nocors",
            get(|| async { (StatusCode::UNAUTHORIZED, "login required") }),
        )
        .route(
            "/star-headers",
            get(|| async { ([(ACCESS_CONTROL_ALLOW_ORIGIN, "*")], "granted") })
                .options(star_headers_preflight),
        )
}

// All cases share one test function because a browser cannot outlive the runtime of the test
// that launched it.
#[tokio::test(flavor = "multi_thread")]
async fn harness_reports_chromium_cors_checks() {
    let page_address = serve(page_router()).await;
    let preflights = Arc::new(AtomicUsize::new(0));
    let api_address = serve(api_router(Arc::clone(&preflights))).await;
    let page_url = format!("http://{page_address}/");
    let cors_url = format!("http://{api_address}/cors");
    let nocors_url = format!("http://{api_address}/nocors");
    let star_headers_url = format!("http://{api_address}/star-headers");
    let with_authorization = json!({ "headers": { "Authorization": "Bearer x" } });

    let Some(plain_browser) = browser::launch_or_skip(LaunchOptions::new()).await else {
        return;
    };
    let strict_options = LaunchOptions::new().enable_feature(NON_WILDCARD_REQUEST_HEADERS);
    let strict_browser = browser::launch_or_skip(strict_options)
        .await
        .expect("Chromium was present for the first launch, so the second cannot skip");

    let page = plain_browser.open_page(&page_url).await;

    // A 401 with `Access-Control-Allow-Origin` is readable by the page.
    let response = page
        .fetch(&cors_url, json!({}))
        .await
        .expect_response("GET /cors");
    assert_eq!(response.status, 401);
    assert_eq!(response.body, "login required");

    // Without it the page gets only a generic failure, and the console names the cause.
    let error = page
        .fetch(&nocors_url, json!({}))
        .await
        .expect_rejected("GET /nocors");
    assert!(error.contains("Failed to fetch"), "rejection text: {error}");
    page.assert_blocked_missing_allow_origin(&nocors_url).await;

    // Chromium 156 without the feature lets `Access-Control-Allow-Headers: *` cover
    // `Authorization`, against the Fetch standard.
    let response = page
        .fetch(&star_headers_url, with_authorization.clone())
        .await
        .expect_response("GET /star-headers with Authorization, plain browser");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "granted");
    assert_eq!(
        preflights.load(Ordering::SeqCst),
        1,
        "the plain browser sends one preflight to the server, so nothing intercepted it"
    );

    page.close().await;

    // With the feature, the same preflight response is rejected, which proves that the switch
    // reached Chromium.
    let page = strict_browser.open_page(&page_url).await;
    let error = page
        .fetch(&star_headers_url, with_authorization)
        .await
        .expect_rejected("GET /star-headers with Authorization, strict browser");
    assert!(error.contains("Failed to fetch"), "rejection text: {error}");
    page.assert_console_contains(&[&star_headers_url, AUTHORIZATION_NOT_ALLOWED])
        .await;
    assert_eq!(
        preflights.load(Ordering::SeqCst),
        2,
        "the strict browser sends its own preflight"
    );

    // `*` still covers other request headers, so the rejection above is about Authorization.
    let response = page
        .fetch(
            &star_headers_url,
            json!({ "headers": { "X-Request-Id": "1" } }),
        )
        .await
        .expect_response("GET /star-headers with X-Request-Id, strict browser");
    assert_eq!(response.status, 200);

    page.close().await;
    plain_browser.close().await;
    strict_browser.close().await;
}

#[test]
fn missing_browser_names_package() {
    let problem = browser::missing_browser_problem(Path::new("/nonexistent/chromium"))
        .expect("a path that does not exist is a problem");

    assert!(
        problem.contains("install the chromium package"),
        "message: {problem}"
    );
    assert!(!problem.contains("chromium-driver"), "message: {problem}");
}
