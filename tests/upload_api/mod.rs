//! The end-to-end tests shared by the HTTP upload API examples, axum and hyper, which take the
//! same command line and serve the same routes. Each test function takes the example's name;
//! `e2e_axum.rs` and `e2e_hyper.rs` call them from their own `#[test]` functions.
//!
//! The tests run the example as a separate process and check, over real HTTP, that its 401 and
//! 413 responses carry CORS headers in fixed mode and lack them in broken mode.

// Each test file uses a different subset of this module.
#![allow(dead_code)]

use std::convert::Infallible;
use std::pin::Pin;
use std::process::Output;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body as HttpBody, Bytes, Frame, SizeHint};
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    AsHeaderName, ORIGIN, VARY,
};
use reqwest::{Body, Client, Method, Response, StatusCode};

use crate::common_process::{ExampleProcess, run_to_exit};

/// Passed with `--token`, so that an `UPLOAD_TOKEN` in the environment changes nothing.
const TOKEN: &str = "e2e-token";
const TOKEN_HEADER: &str = "x-upload-token-9368";
/// The size the demo page sends for its too-large case: twice the example's 1 MiB limit.
const TOO_LARGE_BYTES: u64 = 2 * 1024 * 1024;
/// How long the example may take to exit after `--help` or invalid arguments.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Bounds every request, so that a server waiting for a body that never comes fails the test
/// instead of hanging it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A request body that declares its length but never sends a byte.
///
/// The example must reject a `Content-Length` over its limit before reading the body. Sending
/// the whole body would race that rejection: the server closes the connection with the body
/// unread, and the client may see `Broken pipe` or a reset before it reads the 413.
struct UnsentBody {
    declared_length: u64,
}

impl HttpBody for UnsentBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        // Never woken: the request ends when the response arrives or the timeout fires.
        Poll::Pending
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.declared_length)
    }
}

/// A running example and an HTTP client that sends its requests from a given origin.
struct Api {
    process: ExampleProcess,
    client: Client,
}

impl Api {
    fn start(example: &str, args: &[&str]) -> Self {
        let process = ExampleProcess::spawn_on_loopback(example, TOKEN, args);
        // A proxy from the environment must not see requests meant for 127.0.0.1.
        let client = Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("failed to build the HTTP client");
        Self { process, client }
    }

    fn page_origin(&self) -> String {
        self.process.page_origin().to_owned()
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        origin: &str,
        token: Option<&str>,
        body: impl Into<Body>,
    ) -> Response {
        let url = format!("{}{path}", self.process.api());
        let mut request = self
            .client
            .request(method.clone(), &url)
            .header(ORIGIN, origin)
            .body(body);
        if let Some(token) = token {
            request = request.header(TOKEN_HEADER, token);
        }
        match request.send().await {
            Ok(response) => response,
            Err(error) => panic!(
                "{method} {url} failed: {error:?}\nexample stderr:\n{}",
                self.process.stderr()
            ),
        }
    }

    async fn upload(&self, origin: &str, token: Option<&str>, bytes: usize) -> Response {
        self.send(Method::POST, "/upload", origin, token, vec![b'x'; bytes])
            .await
    }

    /// Sends an upload whose `Content-Length` is `declared_length` but whose body never comes.
    async fn upload_unsent(
        &self,
        origin: &str,
        token: Option<&str>,
        declared_length: u64,
    ) -> Response {
        let body = Body::wrap(UnsentBody { declared_length });
        self.send(Method::POST, "/upload", origin, token, body)
            .await
    }
}

fn header(response: &Response, name: impl AsHeaderName) -> Option<&str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("header value is ASCII"))
}

/// Runs the example with arguments that make it exit without serving.
fn run_example(example: &str, args: &[&str]) -> Output {
    run_to_exit(example, args, EXIT_TIMEOUT)
}

pub async fn fixed_rejections_carry_cors(example: &str) {
    let api = Api::start(example, &["--mode", "fixed"]);
    let origin = api.page_origin();

    let no_token = api.upload(&origin, None, 5).await;
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&no_token, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(
        no_token.text().await.unwrap(),
        r#"{"error":"missing or invalid upload token"}"#
    );

    let bad_token = api.upload(&origin, Some("not-the-token"), 5).await;
    assert_eq!(bad_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&bad_token, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));

    let too_large = api
        .upload_unsent(&origin, Some(TOKEN), TOO_LARGE_BYTES)
        .await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(header(&too_large, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
}

pub async fn fixed_upload_exposes_headers(example: &str) {
    let api = Api::start(example, &["--mode", "fixed"]);

    let upload = api.upload(&api.page_origin(), Some(TOKEN), 5).await;
    assert_eq!(upload.status(), StatusCode::OK);
    assert_eq!(header(&upload, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(header(&upload, ACCESS_CONTROL_EXPOSE_HEADERS), Some("*"));
    assert_eq!(header(&upload, "x-upload-id"), Some("upload-1"));
    assert_eq!(header(&upload, "x-internal-trace"), Some("1"));
    assert_eq!(
        upload.text().await.unwrap(),
        r#"{"bytes":5,"id":"upload-1"}"#
    );
}

pub async fn fixed_upload_accepts_exactly_limit(example: &str) {
    let api = Api::start(example, &["--mode", "fixed"]);

    let at_limit = api.upload(&api.page_origin(), Some(TOKEN), 1_048_576).await;
    assert_eq!(at_limit.status(), StatusCode::OK);

    let over_limit = api
        .upload_unsent(&api.page_origin(), Some(TOKEN), 1_048_577)
        .await;
    assert_eq!(over_limit.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

pub async fn fixed_preflight_allows_token_header(example: &str) {
    let api = Api::start(example, &["--mode", "fixed"]);
    let url = format!("{}/upload", api.process.api());

    let preflight = api
        .client
        .request(Method::OPTIONS, &url)
        .header(ORIGIN, api.page_origin())
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(ACCESS_CONTROL_REQUEST_HEADERS, TOKEN_HEADER)
        .send()
        .await
        .expect("preflight failed");

    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&preflight, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(
        header(&preflight, ACCESS_CONTROL_ALLOW_HEADERS),
        Some(TOKEN_HEADER)
    );
}

pub async fn fixed_other_routes_carry_cors(example: &str) {
    let api = Api::start(example, &["--mode", "fixed"]);
    let origin = api.page_origin();
    let cases = [
        (Method::GET, "/health", None, StatusCode::OK),
        (
            Method::POST,
            "/health",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (Method::GET, "/no-such-path", None, StatusCode::NOT_FOUND),
        (Method::PUT, "/upload/demo", Some(TOKEN), StatusCode::OK),
        (
            Method::PUT,
            "/upload/a%0Ab",
            Some(TOKEN),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::DELETE,
            "/upload/demo",
            Some(TOKEN),
            StatusCode::NO_CONTENT,
        ),
        (
            Method::DELETE,
            "/upload/demo",
            None,
            StatusCode::UNAUTHORIZED,
        ),
    ];

    for (method, path, token, expected) in cases {
        let response = api
            .send(method.clone(), path, &origin, token, Vec::new())
            .await;
        assert_eq!(response.status(), expected, "{method} {path}");
        assert_eq!(
            header(&response, ACCESS_CONTROL_ALLOW_ORIGIN),
            Some("*"),
            "{method} {path}"
        );
    }

    let health = api
        .send(Method::GET, "/health", &origin, None, Vec::new())
        .await;
    assert_eq!(health.text().await.unwrap(), r#"{"status":"ok"}"#);
}

/// Without `--catch-panic`, the panic of `GET /panic` ends the connection's task, so the server
/// closes the connection without a response.
pub async fn panic_closes_connection(example: &str) {
    let api = Api::start(example, &["--mode", "fixed"]);
    let url = format!("{}/panic", api.process.api());

    let result = api
        .client
        .get(&url)
        .header(ORIGIN, api.page_origin())
        .send()
        .await;

    assert!(result.is_err(), "expected no response, got {result:?}");
    // A closed connection alone could also come from a crashed server; the panic message shows
    // that the route panicked. It may reach stderr a moment after the connection closes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !api
        .process
        .stderr()
        .contains("GET /panic panics on purpose")
    {
        assert!(
            Instant::now() < deadline,
            "no panic message on stderr:\n{}",
            api.process.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `--catch-panic` turns on `ForceCorsBuilder::catch_panic`, which turns the panic into a 500
/// that carries the CORS headers, and the server goes on serving.
pub async fn catch_panic_answers_500(example: &str) {
    let api = Api::start(example, &["--mode", "fixed", "--catch-panic"]);
    let origin = api.page_origin();

    let panicked = api
        .send(Method::GET, "/panic", &origin, None, Vec::new())
        .await;
    assert_eq!(panicked.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&panicked, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(panicked.text().await.unwrap(), "");

    let rejected = api.upload(&origin, None, 5).await;
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&rejected, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(header(&rejected, ACCESS_CONTROL_EXPOSE_HEADERS), Some("*"));
}

/// Broken mode with `--catch-panic` adds tower-http's `CatchPanicLayer` outside the CORS layer,
/// as apps do, so its 500 never passes through the CORS layer. The other routes keep their CORS
/// headers.
pub async fn broken_catch_panic_500_lacks_cors(example: &str) {
    let api = Api::start(example, &["--mode", "broken", "--catch-panic"]);
    let origin = api.page_origin();

    let panicked = api
        .send(Method::GET, "/panic", &origin, None, Vec::new())
        .await;
    assert_eq!(panicked.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&panicked, ACCESS_CONTROL_ALLOW_ORIGIN), None);

    let health = api
        .send(Method::GET, "/health", &origin, None, Vec::new())
        .await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(header(&health, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
}

pub async fn broken_rejections_lack_cors(example: &str) {
    let api = Api::start(example, &["--mode", "broken"]);
    let origin = api.page_origin();

    let no_token = api.upload(&origin, None, 5).await;
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&no_token, ACCESS_CONTROL_ALLOW_ORIGIN), None);

    let bad_token = api.upload(&origin, Some("not-the-token"), 5).await;
    assert_eq!(bad_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&bad_token, ACCESS_CONTROL_ALLOW_ORIGIN), None);

    let too_large = api
        .upload_unsent(&origin, Some(TOKEN), TOO_LARGE_BYTES)
        .await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(header(&too_large, ACCESS_CONTROL_ALLOW_ORIGIN), None);

    let upload = api.upload(&origin, Some(TOKEN), 5).await;
    assert_eq!(upload.status(), StatusCode::OK);
    assert_eq!(header(&upload, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
}

/// The token check lets preflights through in broken mode, so that uploads with the right token
/// work from the page and only the rejections show the bug.
pub async fn broken_preflight_passes_token_check(example: &str) {
    let api = Api::start(example, &["--mode", "broken"]);
    let url = format!("{}/upload", api.process.api());

    let preflight = api
        .client
        .request(Method::OPTIONS, &url)
        .header(ORIGIN, api.page_origin())
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(ACCESS_CONTROL_REQUEST_HEADERS, TOKEN_HEADER)
        .send()
        .await
        .expect("preflight failed");

    assert!(
        preflight.status().is_success(),
        "status {}",
        preflight.status()
    );
    assert_eq!(header(&preflight, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
}

pub async fn allow_list_echoes_origin_with_credentials(example: &str) {
    let api = Api::start(
        example,
        &["--allow-origin", "http://allowed.test", "--credentials"],
    );

    let rejected = api.upload("http://allowed.test", None, 5).await;
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&rejected, ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("http://allowed.test")
    );
    assert_eq!(
        header(&rejected, ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("true")
    );
    let vary = header(&rejected, VARY).unwrap_or_default();
    assert!(
        vary.split(',')
            .any(|token| token.trim().eq_ignore_ascii_case("origin")),
        "vary: {vary:?}"
    );

    let upload = api.upload("http://allowed.test", Some(TOKEN), 5).await;
    assert_eq!(upload.status(), StatusCode::OK);
    assert_eq!(
        header(&upload, ACCESS_CONTROL_EXPOSE_HEADERS),
        Some("x-upload-id")
    );
}

pub async fn allow_list_skips_other_origin(example: &str) {
    let api = Api::start(
        example,
        &["--allow-origin", "http://allowed.test", "--credentials"],
    );

    let rejected = api.upload("http://other.test", None, 5).await;
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&rejected, ACCESS_CONTROL_ALLOW_ORIGIN), None);
    assert_eq!(header(&rejected, ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
    assert_eq!(header(&rejected, VARY), Some("Origin"));
}

pub fn invalid_arguments_exit_2(example: &str) {
    let cases: [&[&str]; 8] = [
        &["--mode", "sideways"],
        &["--addr", "not-an-address"],
        &["--no-such-flag"],
        &["--token"],
        &["--mode", "broken", "--allow-origin", "http://allowed.test"],
        &["--mode", "broken", "--credentials"],
        &["--catch-panic=yes"],
        &["--credentials"],
    ];

    for args in cases {
        let output = run_example(example, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: stderr {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: stderr {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: stderr {stderr}");
    }

    // `--credentials` alone gets a message that names the missing flag.
    let output = run_example(example, &["--credentials"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--credentials needs at least one --allow-origin URL"),
        "stderr {stderr}"
    );
    assert!(
        stderr.contains(&format!("cargo run --example {example} -- --help")),
        "stderr {stderr}"
    );
    // The builder's own message names methods that the command line does not have.
    assert!(!stderr.contains("allow_origins()"), "stderr {stderr}");
}

pub fn help_exits_0(example: &str) {
    let output = run_example(example, &["--help"]);
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert_eq!(output.status.code(), Some(0));
    assert!(stdout.contains("--allow-origin URL"), "help: {stdout}");
    assert!(stdout.contains("--catch-panic"), "help: {stdout}");
    assert!(stdout.contains("secret-token"), "help: {stdout}");
}

/// Defines one `#[tokio::test]` or `#[test]` per shared test body above, each running it against
/// the example named by `$example`, so that every example serving this API runs the same tests
/// under the same names.
#[macro_export]
macro_rules! upload_api_tests {
    ($example:expr) => {
        #[tokio::test]
        async fn fixed_rejections_carry_cors() {
            upload_api::fixed_rejections_carry_cors($example).await;
        }

        #[tokio::test]
        async fn fixed_upload_exposes_headers() {
            upload_api::fixed_upload_exposes_headers($example).await;
        }

        #[tokio::test]
        async fn fixed_upload_accepts_exactly_limit() {
            upload_api::fixed_upload_accepts_exactly_limit($example).await;
        }

        #[tokio::test]
        async fn fixed_preflight_allows_token_header() {
            upload_api::fixed_preflight_allows_token_header($example).await;
        }

        #[tokio::test]
        async fn fixed_other_routes_carry_cors() {
            upload_api::fixed_other_routes_carry_cors($example).await;
        }

        #[tokio::test]
        async fn panic_closes_connection() {
            upload_api::panic_closes_connection($example).await;
        }

        #[tokio::test]
        async fn catch_panic_answers_500() {
            upload_api::catch_panic_answers_500($example).await;
        }

        #[tokio::test]
        async fn broken_catch_panic_500_lacks_cors() {
            upload_api::broken_catch_panic_500_lacks_cors($example).await;
        }

        #[tokio::test]
        async fn broken_rejections_lack_cors() {
            upload_api::broken_rejections_lack_cors($example).await;
        }

        #[tokio::test]
        async fn broken_preflight_passes_token_check() {
            upload_api::broken_preflight_passes_token_check($example).await;
        }

        #[tokio::test]
        async fn allow_list_echoes_origin_with_credentials() {
            upload_api::allow_list_echoes_origin_with_credentials($example).await;
        }

        #[tokio::test]
        async fn allow_list_skips_other_origin() {
            upload_api::allow_list_skips_other_origin($example).await;
        }

        #[test]
        fn invalid_arguments_exit_2() {
            upload_api::invalid_arguments_exit_2($example);
        }

        #[test]
        fn help_exits_0() {
            upload_api::help_exits_0($example);
        }
    };
}
