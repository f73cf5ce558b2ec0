//! Runs the doctor example as a separate process against the axum example and against small
//! servers that answer with crafted CORS headers, and checks its verdicts and exit codes.
//!
//! Needs the built examples. Plain `cargo test` builds them, but `cargo test --test doctor`
//! does not, so run `cargo build --examples` before that.

mod common_process;

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use common_process::{ExampleProcess, run_to_exit};
use force_cors::ForceCorsLayer;

/// Passed to the axum example with `--token`, so that an `UPLOAD_TOKEN` in the environment
/// changes nothing.
const TOKEN: &str = "doctor-token";
const TOKEN_HEADER: &str = "x-upload-token-9368";
/// The page origin used against the crafted servers.
const PAGE: &str = "http://page.test:8000";
/// How long one doctor run may take. A run takes milliseconds, and the margin covers a loaded
/// CI machine.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The result of one doctor run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Returns stdout with every run of whitespace turned into one space, so that checks do not
    /// depend on where the doctor wraps its lines.
    fn text(&self) -> String {
        self.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Returns the paragraph that starts with `start`, whitespace normalized.
    fn paragraph(&self, start: &str) -> Option<String> {
        self.stdout
            .split("\n\n")
            .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
            .find(|paragraph| paragraph.starts_with(start))
    }

    fn assert_contains(&self, expected: &str) {
        assert!(
            self.text().contains(expected),
            "expected {expected:?} in the output:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }

    fn assert_code(&self, expected: i32) {
        assert_eq!(
            self.code,
            Some(expected),
            "exit code; output:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }
}

fn doctor(args: &[&str]) -> Run {
    let output: Output = run_to_exit("doctor", args, RUN_TIMEOUT);
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn start_axum(args: &[&str]) -> ExampleProcess {
    ExampleProcess::spawn_on_loopback("axum", TOKEN, args)
}

/// A crafted response: a status and header lines, repeated names allowed.
#[derive(Clone, Debug)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn new(status: u16, headers: &[(&'static str, &str)]) -> Self {
        Self {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect(),
        }
    }

    fn to_response(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from_static(b"crafted\n")));
        *response.status_mut() = StatusCode::from_u16(self.status).expect("valid test status");
        for (name, value) in &self.headers {
            let value = value.parse().expect("valid test header value");
            response.headers_mut().append(*name, value);
        }
        response
    }
}

/// A request head that a crafted server received.
#[derive(Clone, Debug)]
struct Received {
    method: Method,
    headers: HeaderMap,
}

/// A server on 127.0.0.1 that responds to `OPTIONS` requests with one crafted reply and to every
/// other request with another, and records the request heads. It stops when dropped.
struct CraftedServer {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl CraftedServer {
    fn start(preflight: Reply, response: Reply) -> Self {
        let listener = StdTcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let address = listener.local_addr().expect("read the bound address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let (shutdown, shutdown_signal) = oneshot::channel();

        let log = Arc::clone(&received);
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build the server runtime");
            runtime.block_on(serve(listener, preflight, response, log, shutdown_signal));
        });
        Self {
            address,
            received,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("request log lock").clone()
    }
}

impl Drop for CraftedServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: StdTcpListener,
    preflight: Reply,
    response: Reply,
    log: Arc<Mutex<Vec<Received>>>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("register the listener");
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(_) => continue,
            },
        };
        let (preflight, response, log) = (preflight.clone(), response.clone(), Arc::clone(&log));
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                log.lock().expect("request log lock").push(Received {
                    method: request.method().clone(),
                    headers: request.headers().clone(),
                });
                let reply = if request.method() == Method::OPTIONS {
                    &preflight
                } else {
                    &response
                };
                std::future::ready(Ok::<_, Infallible>(reply.to_response()))
            });
            // A failed connection only fails the test that expected a response.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// An axum server on 127.0.0.1 that responds to every path with 200 behind the given CORS layer.
/// It stops when dropped.
struct CorsLayerServer {
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl CorsLayerServer {
    fn start(layer: ForceCorsLayer) -> Self {
        let listener = StdTcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let address = listener.local_addr().expect("read the bound address");
        let (shutdown, shutdown_signal) = oneshot::channel::<()>();

        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build the server runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("register the listener");
                let app = axum::Router::new()
                    .fallback(|| async { "ok\n" })
                    .layer(layer);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = shutdown_signal.await;
                    })
                    .await
                    .expect("the CORS layer server failed");
            });
        });
        Self {
            address,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for CorsLayerServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Returns the preflight reply of a server that allows everything without credentials.
fn permissive_preflight() -> Reply {
    Reply::new(
        204,
        &[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "*"),
            ("access-control-allow-headers", "*"),
        ],
    )
}

fn allow_any(status: u16) -> Reply {
    Reply::new(status, &[("access-control-allow-origin", "*")])
}

// Against the axum example.

#[test]
fn broken_mode_401_names_outermost_fix() {
    let api = start_axum(&["--mode", "broken"]);
    let url = format!("{}/upload", api.api());

    let run = doctor(&[&url, "--origin", api.page_origin(), "--method", "POST"]);

    run.assert_code(1);
    let verdict = run
        .paragraph("A browser would block this response")
        .unwrap_or_else(|| panic!("no verdict paragraph in:\n{}", run.stdout));
    assert!(
        verdict.contains("no Access-Control-Allow-Origin header"),
        "{verdict}"
    );
    assert!(
        verdict.contains("TypeError: Failed to fetch and never see the 401"),
        "{verdict}"
    );
    assert!(
        verdict.contains("put ForceCorsLayer outermost"),
        "{verdict}"
    );
    run.assert_contains("The probe got CORS headers for this origin.");
}

#[test]
fn fixed_mode_401_is_readable() {
    let api = start_axum(&["--mode", "fixed"]);
    let url = format!("{}/upload", api.api());

    let run = doctor(&[&url, "--origin", api.page_origin(), "--method", "POST"]);

    run.assert_code(0);
    run.assert_contains("Preflight: not needed");
    run.assert_contains("A browser would let the page read this 401 response");
}

#[test]
fn fixed_mode_token_preflight_passes() {
    let api = start_axum(&["--mode", "fixed"]);
    let url = format!("{}/upload", api.api());
    let header = format!("{TOKEN_HEADER}: {TOKEN}");

    let run = doctor(&[
        &url,
        "--origin",
        api.page_origin(),
        "--method",
        "POST",
        "--header",
        &header,
        "--body-bytes",
        "5",
    ]);

    run.assert_code(0);
    run.assert_contains(&format!(
        "Preflight, needed because request header {TOKEN_HEADER} is not CORS-safelisted"
    ));
    run.assert_contains(&format!(
        "ok: request header {TOKEN_HEADER} is listed in Access-Control-Allow-Headers"
    ));
    run.assert_contains("A browser would let the page read this 200 response");
    run.assert_contains("x-upload-id");
}

#[test]
fn broken_mode_bad_token_after_preflight() {
    let api = start_axum(&["--mode", "broken"]);
    let url = format!("{}/upload", api.api());
    let header = format!("{TOKEN_HEADER}: not-the-token");

    let run = doctor(&[
        &url,
        "--origin",
        api.page_origin(),
        "--method",
        "POST",
        "--header",
        &header,
    ]);

    run.assert_code(1);
    let verdict = run
        .paragraph("A browser would block this response")
        .unwrap_or_else(|| panic!("no verdict paragraph in:\n{}", run.stdout));
    assert!(verdict.contains("The preflight passed"), "{verdict}");
    assert!(verdict.contains("never see the 401"), "{verdict}");
    assert!(
        verdict.contains("put ForceCorsLayer outermost"),
        "{verdict}"
    );
}

#[test]
fn broken_mode_413_after_preflight() {
    let api = start_axum(&["--mode", "broken"]);
    let url = format!("{}/upload", api.api());
    let header = format!("{TOKEN_HEADER}: {TOKEN}");

    // Twice the example's 1 MiB limit: the body limit rejects it by Content-Length, unread.
    let run = doctor(&[
        &url,
        "--origin",
        api.page_origin(),
        "--method",
        "POST",
        "--header",
        &header,
        "--body-bytes",
        "2097152",
    ]);

    run.assert_code(1);
    run.assert_contains("never see the 413");
    run.assert_contains("put ForceCorsLayer outermost");
}

#[test]
fn permissive_with_credentials_is_blocked() {
    let api = start_axum(&["--mode", "fixed"]);
    let url = format!("{}/upload", api.api());

    let run = doctor(&[
        &url,
        "--origin",
        api.page_origin(),
        "--method",
        "POST",
        "--credentials",
    ]);

    run.assert_code(1);
    run.assert_contains(
        "A browser would block this response: Access-Control-Allow-Origin is *, which a \
         browser rejects for a request with credentials",
    );
    // A POST without headers needs no preflight, so the suggestion lists no methods or headers.
    let origin = api.page_origin();
    run.assert_contains(&format!(
        "ForceCorsLayer::builder().allow_origins([\"{origin}\"]).allow_credentials(true) does"
    ));
}

#[test]
fn wildcard_with_credentials_fix_allows_preflight() {
    let server = CraftedServer::start(permissive_preflight(), allow_any(200));
    let args = [
        "--origin",
        PAGE,
        "--method",
        "PUT",
        "--header",
        "x-a: 1",
        "--credentials",
    ];

    let url = server.url("/data");
    let mut blocked_args = vec![url.as_str()];
    blocked_args.extend_from_slice(&args);
    let blocked = doctor(&blocked_args);

    blocked.assert_code(1);
    blocked.assert_contains("A browser would block this request at the preflight");
    blocked.assert_contains(
        "ForceCorsLayer::builder().allow_origins([\"http://page.test:8000\"])\
         .allow_methods([\"PUT\"]).allow_headers([\"x-a\"]).allow_credentials(true) does",
    );

    // The suggested layer, built as printed, lets the same call through.
    let layer = ForceCorsLayer::builder()
        .allow_origins([PAGE])
        .allow_methods(["PUT"])
        .allow_headers(["x-a"])
        .allow_credentials(true)
        .build()
        .expect("the suggested configuration builds");
    let fixed_server = CorsLayerServer::start(layer);
    let fixed_url = fixed_server.url("/data");
    let mut fixed_args = vec![fixed_url.as_str()];
    fixed_args.extend_from_slice(&args);
    let fixed = doctor(&fixed_args);

    fixed.assert_code(0);
    fixed.assert_contains("A browser would let the page read this 200 response");
}

#[test]
fn wildcard_with_credentials_fix_lists_headers() {
    let server = CraftedServer::start(permissive_preflight(), allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--header",
        "x-b: 1",
        "--header",
        "content-type: application/json",
        "--header",
        "accept: text/plain",
        "--credentials",
    ]);

    run.assert_code(1);
    // GET and the safelisted Accept need no entry, and names are sorted as in the preflight.
    run.assert_contains(
        "ForceCorsLayer::builder().allow_origins([\"http://page.test:8000\"])\
         .allow_headers([\"content-type\", \"x-b\"]).allow_credentials(true) does",
    );
}

#[test]
fn allow_list_with_credentials_is_readable() {
    let api = start_axum(&["--allow-origin", "http://allowed.test", "--credentials"]);
    let url = format!("{}/upload", api.api());

    let run = doctor(&[
        &url,
        "--origin",
        "http://allowed.test",
        "--method",
        "POST",
        "--credentials",
    ]);

    run.assert_code(0);
    run.assert_contains("ok: Access-Control-Allow-Credentials is true");
    run.assert_contains("A browser would let the page read this 401 response");
}

// Connection failures and usage errors.

#[test]
fn refused_connection_exits_3() {
    // Binding and dropping a listener leaves a port that nothing listens on.
    let port = StdTcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind 127.0.0.1:0")
        .port();
    let url = format!("http://127.0.0.1:{port}/upload");

    let run = doctor(&[&url, "--origin", PAGE, "--method", "POST"]);

    run.assert_code(3);
    run.assert_contains("nothing is listening on that address");
    run.assert_contains("This is not a CORS problem");
    assert!(
        !run.text().contains("A browser would block"),
        "{}",
        run.stdout
    );
}

#[test]
fn invalid_arguments_exit_2() {
    let cases: [&[&str]; 13] = [
        &[],
        &["http://127.0.0.1:9/"],
        &["--origin", PAGE],
        &["not a url", "--origin", PAGE],
        &["http://127.0.0.1:70000/", "--origin", PAGE],
        &["http://127.0.0.1:9/", "--origin", "http://page.test/"],
        &["http://127.0.0.1:9/", "--origin", "page.test"],
        &[
            "http://127.0.0.1:9/",
            "--origin",
            PAGE,
            "--header",
            "bad name: x",
        ],
        &["http://127.0.0.1:9/", "--origin", PAGE, "--method", "TRACE"],
        &["http://127.0.0.1:9/", "--origin", PAGE, "--body-bytes", "5"],
        &[
            "http://127.0.0.1:9/",
            "--origin",
            PAGE,
            "--body-bytes",
            "-1",
        ],
        &["http://127.0.0.1:9/", "--origin", PAGE, "--no-such-flag"],
        &["http://user:pw@127.0.0.1:9/", "--origin", PAGE],
    ];

    for args in cases {
        let run = doctor(args);
        assert_eq!(run.code, Some(2), "{args:?}: stderr {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn many_response_headers_are_readable() {
    // hyper 1 rejects more than 100 response headers by default. 15,000 lines of up to 12
    // bytes stay under the 256 KiB limit on the response head.
    for count in [200, 15_000] {
        let mut response = allow_any(200);
        for index in 0..count {
            response.headers.push(("x-f", index.to_string()));
        }
        let server = CraftedServer::start(permissive_preflight(), response);

        let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

        run.assert_code(0);
        run.assert_contains(&format!("< x-f: {}", count - 1));
        run.assert_contains("A browser would let the page read this 200 response");
    }
}

#[test]
fn response_head_under_limit_is_readable() {
    let mut response = allow_any(200);
    response.headers.push(("x-large", "a".repeat(250 * 1024)));
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

    run.assert_code(0);
    run.assert_contains("A browser would let the page read this 200 response");
}

#[test]
fn oversized_response_head_names_limit() {
    let mut response = allow_any(200);
    response.headers.push(("x-large", "a".repeat(300 * 1024)));
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

    run.assert_code(3);
    run.assert_contains(
        "the response head (status line and headers) is larger than 256 KiB (262144 bytes), \
         the maximum the doctor reads",
    );
    run.assert_contains("ERR_RESPONSE_HEADERS_TOO_BIG");
    assert!(!run.text().contains("HTTPS"), "{}", run.stdout);
}

#[test]
fn https_url_is_usage_error() {
    let run = doctor(&["https://127.0.0.1:9443/", "--origin", PAGE]);

    assert_eq!(run.code, Some(2), "stderr {}", run.stderr);
    assert!(run.stderr.contains("without TLS"), "{}", run.stderr);
}

#[test]
fn help_exits_0() {
    let run = doctor(&["--help"]);

    run.assert_code(0);
    run.assert_contains("--origin ORIGIN");
    run.assert_contains("Exit codes");
}

#[test]
fn bad_port_is_blocked_unsent() {
    let run = doctor(&["http://127.0.0.1:6000/", "--origin", PAGE]);

    run.assert_code(1);
    run.assert_contains("A browser would block this request before sending it: port 6000");
}

// Against crafted servers.

#[test]
fn several_allow_origin_lines() {
    let response = Reply::new(
        200,
        &[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-origin", PAGE),
        ],
    );
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

    run.assert_code(1);
    run.assert_contains(&format!(
        "the response has 2 Access-Control-Allow-Origin values (*, {PAGE}), and a browser \
         accepts exactly one"
    ));
    run.assert_contains("never see the 200");
}

#[test]
fn allow_origin_with_list_value() {
    let list = format!("{PAGE}, http://other.test");
    let response = Reply::new(200, &[("access-control-allow-origin", &list)]);
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

    run.assert_code(1);
    run.assert_contains("has 2 Access-Control-Allow-Origin values");
}

#[test]
fn allow_origin_for_other_origin() {
    let response = Reply::new(200, &[("access-control-allow-origin", "http://other.test")]);
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

    run.assert_code(1);
    run.assert_contains(&format!(
        "Access-Control-Allow-Origin is http://other.test, not the page's origin {PAGE}"
    ));
    run.assert_contains(&format!("allow_origins([\"{PAGE}\"])"));
}

#[test]
fn allow_origin_with_trailing_slash() {
    let with_slash = format!("{PAGE}/");
    let response = Reply::new(200, &[("access-control-allow-origin", &with_slash)]);
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

    run.assert_code(1);
    run.assert_contains("a serialized origin has no trailing slash");
}

#[test]
fn credentials_without_allow_credentials() {
    let response = Reply::new(200, &[("access-control-allow-origin", PAGE)]);
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--credentials"]);

    run.assert_code(1);
    run.assert_contains(
        "the request has credentials, and the response has no \
         Access-Control-Allow-Credentials: true",
    );
    // The suggested builder call must build: it names the origin, not only credentials.
    run.assert_contains(&format!(
        "ForceCorsLayer::builder().allow_origins([\"{PAGE}\"]).allow_credentials(true) does"
    ));
}

#[test]
fn allow_credentials_is_case_sensitive() {
    let response = Reply::new(
        200,
        &[
            ("access-control-allow-origin", PAGE),
            ("access-control-allow-credentials", "True"),
        ],
    );
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--credentials"]);

    run.assert_code(1);
    run.assert_contains("Access-Control-Allow-Credentials is \"True\"");
}

#[test]
fn authorization_not_covered_by_wildcard() {
    let server = CraftedServer::start(permissive_preflight(), allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--header",
        "Authorization: Bearer abc",
    ]);

    run.assert_code(1);
    run.assert_contains("A browser would block this request at the preflight");
    run.assert_contains("never covers Authorization");
    run.assert_contains("never send the GET request");
    // A browser stops at the preflight, so the doctor must not send the request itself.
    let methods: Vec<Method> = server.received().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, [Method::OPTIONS]);
}

#[test]
fn wildcard_covers_custom_header() {
    let server = CraftedServer::start(permissive_preflight(), allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--header",
        "x-custom: 1",
    ]);

    run.assert_code(0);
    run.assert_contains(
        "ok: request header x-custom is covered by Access-Control-Allow-Headers: *",
    );
    run.assert_contains("A browser would let the page read this 200 response");
}

#[test]
fn wildcard_headers_with_credentials() {
    let preflight = Reply::new(
        204,
        &[
            ("access-control-allow-origin", PAGE),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-headers", "*"),
        ],
    );
    let server = CraftedServer::start(preflight, allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--header",
        "x-custom: 1",
        "--credentials",
    ]);

    run.assert_code(1);
    run.assert_contains("x-custom is covered only by the * in Access-Control-Allow-Headers");
}

#[test]
fn header_not_in_allow_headers() {
    let preflight = Reply::new(
        204,
        &[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-headers", "x-other, content-type"),
        ],
    );
    let server = CraftedServer::start(preflight, allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--header",
        "X-Mine: 1",
    ]);

    run.assert_code(1);
    run.assert_contains(
        "request header x-mine is not in Access-Control-Allow-Headers (x-other, content-type)",
    );
}

#[test]
fn method_not_in_allow_methods() {
    let preflight = Reply::new(
        204,
        &[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "GET, POST"),
        ],
    );
    let server = CraftedServer::start(preflight, allow_any(200));

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--method", "PUT"]);

    run.assert_code(1);
    run.assert_contains("method PUT is not in Access-Control-Allow-Methods (GET, POST)");
    run.assert_contains("never send the PUT request");
}

#[test]
fn allow_methods_is_case_sensitive() {
    let preflight = Reply::new(
        204,
        &[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "patch"),
        ],
    );
    let server = CraftedServer::start(preflight, allow_any(200));

    // fetch() uppercases only DELETE, GET, HEAD, OPTIONS, POST and PUT, so PATCH stays PATCH.
    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--method", "PATCH"]);

    run.assert_code(1);
    run.assert_contains("lists patch, but method names are case-sensitive");
}

#[test]
fn lowercase_put_is_normalized() {
    let preflight = Reply::new(
        204,
        &[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "PUT"),
        ],
    );
    let server = CraftedServer::start(preflight, allow_any(204));

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--method", "put"]);

    run.assert_code(0);
    run.assert_contains("ok: method PUT is listed in Access-Control-Allow-Methods");
}

#[test]
fn preflight_redirect_is_blocked() {
    let preflight = Reply::new(
        301,
        &[
            ("access-control-allow-origin", "*"),
            ("location", "http://127.0.0.1:1/data/"),
        ],
    );
    let server = CraftedServer::start(preflight, allow_any(200));

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--method", "DELETE"]);

    run.assert_code(1);
    run.assert_contains(
        "the preflight got a 301 redirect to http://127.0.0.1:1/data/, and browsers never \
         follow a redirect of a preflight",
    );
}

#[test]
fn preflight_500_is_blocked() {
    let server = CraftedServer::start(Reply::new(500, &[]), allow_any(200));

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--method", "DELETE"]);

    run.assert_code(1);
    run.assert_contains(
        "the preflight got status 500, and a preflight needs a status from 200 to 299",
    );
    run.assert_contains("fail: the preflight response has no Access-Control-Allow-Origin header");
    run.assert_contains("put ForceCorsLayer outermost");
}

#[test]
fn preflight_401_blames_auth_layer() {
    let server = CraftedServer::start(Reply::new(401, &[]), allow_any(200));

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--method", "DELETE"]);

    run.assert_code(1);
    run.assert_contains(
        "An authentication check in front of the CORS layer rejected the preflight",
    );
}

#[test]
fn invalid_allow_methods_item() {
    let preflight = Reply::new(
        204,
        &[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "GET POST"),
        ],
    );
    let server = CraftedServer::start(preflight, allow_any(200));

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--method", "DELETE"]);

    run.assert_code(1);
    run.assert_contains(
        "Access-Control-Allow-Methods contains \"GET POST\", which is not a valid name",
    );
}

#[test]
fn preflight_request_lists_sorted_names() {
    let server = CraftedServer::start(permissive_preflight(), allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--method",
        "post",
        "--header",
        "X-B: 1",
        "--header",
        "x-a: 2",
        "--header",
        "Content-Type: application/json",
        "--header",
        "Accept: text/html",
    ]);

    run.assert_code(0);
    let received = server.received();
    let preflight = &received[0];
    assert_eq!(preflight.method, Method::OPTIONS);
    assert_eq!(preflight.headers["origin"], PAGE);
    assert_eq!(preflight.headers["access-control-request-method"], "POST");
    assert_eq!(
        preflight.headers["access-control-request-headers"],
        "content-type,x-a,x-b"
    );
    let request = &received[1];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.headers["origin"], PAGE);
    assert_eq!(request.headers["x-b"], "1");
    assert_eq!(request.headers["accept"], "text/html");
}

#[test]
fn safelisted_request_needs_no_preflight() {
    let server = CraftedServer::start(permissive_preflight(), allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--method",
        "POST",
        "--header",
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "--header",
        "Accept-Language: en-US,en;q=0.9",
        "--body-bytes",
        "3",
    ]);

    run.assert_code(0);
    run.assert_contains("Preflight: not needed");
    let received = server.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].headers["content-length"], "3");
}

#[test]
fn body_gets_text_plain_type() {
    let server = CraftedServer::start(permissive_preflight(), allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--method",
        "POST",
        "--body-bytes",
        "10",
    ]);

    run.assert_code(0);
    let received = server.received();
    assert_eq!(
        received[0].headers["content-type"],
        "text/plain;charset=UTF-8"
    );
    assert_eq!(received[0].headers["content-length"], "10");
}

#[test]
fn forbidden_header_is_dropped() {
    let server = CraftedServer::start(permissive_preflight(), allow_any(200));

    let run = doctor(&[
        &server.url("/data"),
        "--origin",
        PAGE,
        "--header",
        "Cookie: a=1",
    ]);

    run.assert_code(0);
    run.assert_contains("fetch() drops the headers cookie");
    let received = server.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(!received[0].headers.contains_key("cookie"));
}

#[test]
fn exposed_headers_are_readable() {
    let response = Reply::new(
        200,
        &[
            ("access-control-allow-origin", "*"),
            ("access-control-expose-headers", "X-Visible"),
            ("x-visible", "1"),
            ("x-secret", "2"),
        ],
    );
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

    run.assert_code(0);
    let verdict = run
        .paragraph("A browser would let the page read this 200 response")
        .unwrap_or_else(|| panic!("no verdict paragraph in:\n{}", run.stdout));
    let (readable, hidden) = verdict
        .split_once(". The headers ")
        .unwrap_or_else(|| panic!("no hidden headers in: {verdict}"));
    assert!(readable.contains("x-visible"), "{verdict}");
    assert!(!readable.contains("x-secret"), "{verdict}");
    assert!(hidden.contains("x-secret"), "{verdict}");
    assert!(!hidden.contains("x-visible"), "{verdict}");
}

#[test]
fn expose_wildcard_ignored_with_credentials() {
    let response = Reply::new(
        200,
        &[
            ("access-control-allow-origin", PAGE),
            ("access-control-allow-credentials", "true"),
            ("access-control-expose-headers", "*"),
            ("x-secret", "2"),
        ],
    );
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE, "--credentials"]);

    run.assert_code(0);
    let verdict = run
        .paragraph("A browser would let the page read this 200 response")
        .unwrap_or_else(|| panic!("no verdict paragraph in:\n{}", run.stdout));
    let (readable, hidden) = verdict
        .split_once(". The headers ")
        .unwrap_or_else(|| panic!("no hidden headers in: {verdict}"));
    assert!(!readable.contains("x-secret"), "{verdict}");
    assert!(hidden.contains("x-secret"), "{verdict}");
}

#[test]
fn no_cors_anywhere_suggests_adding_layer() {
    let server = CraftedServer::start(Reply::new(401, &[]), Reply::new(401, &[]));

    let run = doctor(&[&server.url("/upload"), "--origin", PAGE, "--method", "POST"]);

    run.assert_code(1);
    run.assert_contains("The probe got no CORS headers for this origin either.");
    run.assert_contains(
        "add ForceCorsLayer as the outermost layer, allowing http://page.test:8000",
    );
}

#[test]
fn same_origin_needs_no_cors() {
    let server = CraftedServer::start(Reply::new(401, &[]), Reply::new(401, &[]));
    let origin = server.url("");

    let run = doctor(&[
        &server.url("/upload"),
        "--origin",
        &origin,
        "--method",
        "POST",
    ]);

    run.assert_code(0);
    run.assert_contains(
        "so CORS does not apply: a browser would let the page read this 401 response",
    );
}

#[test]
fn redirect_response_names_next_url() {
    let response = Reply::new(
        302,
        &[
            ("access-control-allow-origin", "*"),
            ("location", "http://127.0.0.1:1/elsewhere"),
        ],
    );
    let server = CraftedServer::start(permissive_preflight(), response);

    let run = doctor(&[&server.url("/data"), "--origin", PAGE]);

    run.assert_code(0);
    run.assert_contains("A browser would follow this 302 redirect to http://127.0.0.1:1/elsewhere");
    run.assert_contains("--origin null");
}
