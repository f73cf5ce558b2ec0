//! Runs the examples in headless Chromium and records, for each case, what page JavaScript on
//! another origin observes: whether `fetch` resolves, the status, and which response headers it can
//! read.
//!
//! Every example runs in fixed and broken mode. The cases assert the fixed-mode outcome, and the
//! 401, 413 and 500 cases also assert the bug in broken mode (for gRPC-web: the `grpc-status` of
//! a failed call, hidden from the page). A "blocked" outcome counts only with Chromium's console
//! message for that URL, so that a server that is down cannot pass for a CORS block.
//!
//! The test prints the matrix as a Markdown table and, when every asserted cell matches, writes
//! it to `docs/browser-matrix.md`. It needs the built examples: plain `cargo test` builds them,
//! `cargo test --test browser_matrix` does not, so run `cargo build --examples` before that.
//!
//! Skipped when /usr/bin/chromium is missing, unless `FORCE_CORS_REQUIRE_BROWSER=1` is set.

#[path = "support/browser.rs"]
mod browser;
mod common_process;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
};
use axum::response::Html;
use axum::routing::get;
use futures_util::future::join_all;
use serde_json::{Map, Value};

use browser::{
    Browser, FetchOutcome, LaunchOptions, MISSING_ALLOW_ORIGIN, NON_WILDCARD_REQUEST_HEADERS, Page,
};
use common_process::{ExampleProcess, run_to_exit};

/// The examples in the matrix, each run in fixed and broken mode with the command line and the
/// page contract of `examples/common`.
const EXAMPLES: &[(&str, ExampleKind)] = &[
    ("axum", ExampleKind::Http),
    ("hyper", ExampleKind::Http),
    ("tonic_web", ExampleKind::GrpcWeb),
];

/// The API an example serves, which decides its cases and its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExampleKind {
    /// The upload API of `/health`, `/upload` and `/panic`, called with `fetch` from the test.
    Http,
    /// The gRPC-web upload service, called with the page's `window.runGrpcCase`.
    GrpcWeb,
}

impl ExampleKind {
    fn title(self) -> &'static str {
        match self {
            ExampleKind::Http => "HTTP examples",
            ExampleKind::GrpcWeb => "gRPC-web examples",
        }
    }
}

/// Passed with `--token`, so that an `UPLOAD_TOKEN` in the environment changes nothing.
const TOKEN: &str = "matrix-token";
const TOKEN_HEADER: &str = "x-upload-token-9368";
/// Exposed by both CORS configurations of the examples.
const UPLOAD_ID_HEADER: &str = "x-upload-id";
/// Exposed by the permissive preset (`*`) and not by the examples' allow-list configuration.
const INTERNAL_TRACE_HEADER: &str = "x-internal-trace";
/// The path of the unary gRPC call that `window.runGrpcCase` sends.
const GRPC_UPLOAD_PATH: &str = "/upload.Uploader/Upload";
/// One mebibyte, the examples' body limit.
const MIB: usize = 1024 * 1024;

/// Time between the two requests of the preflight cache case. The Fetch standard caches a
/// preflight response without `Access-Control-Max-Age` for 5 seconds, so a cache entry still
/// used after 6 seconds is kept by the max-age the server sent.
const PREFLIGHT_CACHE_WAIT: Duration = Duration::from_secs(6);
/// Maximum time to wait for the console message that explains a rejected fetch. Chromium sends
/// log entries asynchronously, after the promise has rejected.
const CONSOLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Time given to Chromium's `Network.requestWillBeSent` events to reach the test after a fetch
/// has resolved, before the test counts preflights.
const NETWORK_EVENT_DELAY: Duration = Duration::from_millis(500);
/// How long an example may take to print its `--help`.
const HELP_TIMEOUT: Duration = Duration::from_secs(30);

/// The file the matrix is written to, relative to the crate root.
const MATRIX_FILE: &str = "docs/browser-matrix.md";

// ===== cases =====

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Fixed,
    Broken,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Fixed => "fixed",
            Mode::Broken => "broken",
        }
    }
}

/// The example process a case sends its requests to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Server {
    /// Started with `--mode fixed` and no origin options, which selects the example's preset
    /// (`permissive()` or `grpc_web()`), or with `--mode broken`. An HTTP example that takes
    /// `--catch-panic` gets it too.
    Default,
    /// An HTTP example started like `Default` but without `--catch-panic`, in either mode.
    NoCatchPanic,
    /// Fixed mode with `--allow-origin` naming the page origin of the `Default` process.
    AllowList,
    /// Fixed mode with the same `--allow-origin` and `--credentials`.
    Credentials,
}

impl Server {
    /// Tells whether the examples start this process in broken mode too. They take
    /// `--allow-origin` and `--credentials` in fixed mode only.
    fn runs_in_broken_mode(self) -> bool {
        matches!(self, Server::Default | Server::NoCatchPanic)
    }
}

/// The page origin a case's `fetch` runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// The page of the `Default` process, the origin that `--allow-origin` names.
    Allowed,
    /// The page of the `Credentials` process, which no `--allow-origin` names.
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chromium {
    /// Launched without extra features. It lets `Access-Control-Allow-Headers: *` cover
    /// `Authorization`, against the Fetch standard.
    Plain,
    /// Launched with `CorsNonWildcardRequestHeadersSupport`, which follows the standard there.
    Strict,
}

#[derive(Clone, Debug)]
enum Body {
    None,
    Text(&'static str),
    /// That many zero bytes.
    Zeros(usize),
}

/// One `fetch` call, written as `fetch(url, init)` in the page.
#[derive(Clone, Debug)]
struct Request {
    /// Query string value that makes the URL unique to the case, so that console messages and
    /// preflight cache entries of different cases never mix.
    slug: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Body,
    credentials: bool,
}

impl Request {
    fn new(method: &'static str, path: &'static str) -> Self {
        Self {
            slug: "",
            method,
            path,
            headers: Vec::new(),
            body: Body::None,
            credentials: false,
        }
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    fn token(self, token: &'static str) -> Self {
        self.header(TOKEN_HEADER, token)
    }

    /// Adds a body with `Content-Type: application/octet-stream`, which is not CORS-safelisted,
    /// so the request is preflighted.
    fn octet_stream(self, body: Body) -> Self {
        let mut request = self.header("content-type", "application/octet-stream");
        request.body = body;
        request
    }

    fn include_credentials(mut self) -> Self {
        self.credentials = true;
        self
    }

    /// Returns the URL of the request to `api`, with the case's query string.
    fn url(&self, api: &str) -> String {
        format!("{api}{}?case={}", self.path, self.slug)
    }

    /// Returns the `RequestInit` as a JavaScript expression.
    fn init_script(&self) -> String {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::from(*value)))
            .collect();
        let mut init = Map::new();
        init.insert("method".into(), Value::from(self.method));
        init.insert("headers".into(), Value::Object(headers));
        if self.credentials {
            init.insert("credentials".into(), Value::from("include"));
        }
        let init = Value::Object(init);
        match &self.body {
            Body::None => init.to_string(),
            Body::Text(text) => format!("{{...{init}, body: {}}}", Value::from(*text)),
            Body::Zeros(length) => format!("{{...{init}, body: new Uint8Array({length})}}"),
        }
    }
}

#[derive(Clone, Debug)]
enum Check {
    /// One request; the outcome is what the page observed.
    Fetch(Request),
    /// The same preflighted request twice, [`PREFLIGHT_CACHE_WAIT`] apart, in a tab that has not
    /// requested its URL before. The outcome is the number of preflights Chromium sent for it.
    PreflightCache(Request),
    /// One call of `window.runGrpcCase(name, options)`, the page's unary gRPC-web call.
    Grpc {
        name: &'static str,
        credentials: bool,
    },
}

/// Why Chromium blocked a response, read from its console message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    /// The actual response lacks `Access-Control-Allow-Origin`.
    MissingAllowOrigin,
    /// The preflight response lacks `Access-Control-Allow-Origin`.
    PreflightMissingAllowOrigin,
    /// The preflight response has a status outside 200–299.
    PreflightNotOk,
    /// `Access-Control-Allow-Origin: *` on a request with credentials mode `include`.
    WildcardWithCredentials,
    /// `Access-Control-Allow-Headers` of the preflight response does not cover a request header.
    HeaderNotAllowed,
}

impl Block {
    /// Reads the reason from a console message of the form "Access to fetch at 'URL' from origin
    /// 'ORIGIN' has been blocked by CORS policy: REASON".
    fn from_console(text: &str) -> Option<Self> {
        let preflight = text.contains("Response to preflight request");
        if text.contains("must not be the wildcard '*'") {
            Some(Block::WildcardWithCredentials)
        } else if text.contains("is not allowed by Access-Control-Allow-Headers") {
            Some(Block::HeaderNotAllowed)
        } else if text.contains("It does not have HTTP ok status") {
            Some(Block::PreflightNotOk)
        } else if text.contains(MISSING_ALLOW_ORIGIN) && preflight {
            Some(Block::PreflightMissingAllowOrigin)
        } else if text.contains(MISSING_ALLOW_ORIGIN) {
            Some(Block::MissingAllowOrigin)
        } else {
            None
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Block::MissingAllowOrigin => "blocked: no ACAO",
            Block::PreflightMissingAllowOrigin => "blocked: preflight without ACAO",
            Block::PreflightNotOk => "blocked: preflight not 2xx",
            Block::WildcardWithCredentials => "blocked: ACAO `*` with credentials",
            Block::HeaderNotAllowed => "blocked: request header not allowed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    /// `fetch` resolves with this status, and the page can read the `readable` response headers
    /// and not the `hidden` ones.
    Read {
        status: u16,
        readable: &'static [&'static str],
        hidden: &'static [&'static str],
    },
    Blocked(Block),
    /// `fetch` rejects, and Chromium logs this network error code for the URL, such as
    /// `ERR_EMPTY_RESPONSE`.
    NetworkError(&'static str),
    /// Both requests of a [`Check::PreflightCache`] case are readable, and Chromium sent this
    /// many preflights for them.
    Preflights(usize),
    /// The gRPC-web call's response is readable with this HTTP status, and the page reads this
    /// `grpc-status`, or none when the response hides it.
    Grpc {
        status: u16,
        grpc_status: Option<u64>,
    },
    /// Shown in the table, not asserted.
    Recorded,
}

fn read(status: u16) -> Expect {
    Expect::Read {
        status,
        readable: &[],
        hidden: &[],
    }
}

/// One row of the matrix.
#[derive(Clone, Debug)]
struct Case {
    label: &'static str,
    server: Server,
    origin: Origin,
    chromium: Chromium,
    check: Check,
    /// Response headers whose readability the table shows.
    headers_shown: &'static [&'static str],
    fixed: Expect,
    /// `None` for cases that need `--allow-origin`, which the examples accept in fixed mode only.
    broken: Option<Expect>,
}

impl Case {
    /// Creates an HTTP case on the `Default` process, from its own page, in the plain browser.
    fn new(label: &'static str, slug: &'static str, mut request: Request) -> Self {
        request.slug = slug;
        Self::with_check(label, Check::Fetch(request))
    }

    /// Creates a gRPC-web case that calls `window.runGrpcCase(name)` on the `Default` process,
    /// from its own page, in the plain browser.
    fn grpc(label: &'static str, name: &'static str) -> Self {
        let check = Check::Grpc {
            name,
            credentials: false,
        };
        Self::with_check(label, check)
    }

    fn with_check(label: &'static str, check: Check) -> Self {
        Self {
            label,
            server: Server::Default,
            origin: Origin::Allowed,
            chromium: Chromium::Plain,
            check,
            headers_shown: &[],
            fixed: Expect::Recorded,
            broken: Some(Expect::Recorded),
        }
    }

    fn on(mut self, server: Server, origin: Origin) -> Self {
        self.server = server;
        self.origin = origin;
        if !server.runs_in_broken_mode() {
            self.broken = None;
        }
        self
    }

    fn strict(mut self) -> Self {
        self.chromium = Chromium::Strict;
        self
    }

    fn preflight_cache(mut self) -> Self {
        let Check::Fetch(request) = self.check else {
            panic!("{}: only an HTTP case can count preflights", self.label);
        };
        self.check = Check::PreflightCache(request);
        self
    }

    fn grpc_credentials(mut self) -> Self {
        let Check::Grpc { name, .. } = self.check else {
            panic!("{}: not a gRPC-web case", self.label);
        };
        self.check = Check::Grpc {
            name,
            credentials: true,
        };
        self
    }

    fn show_headers(mut self, headers: &'static [&'static str]) -> Self {
        self.headers_shown = headers;
        self
    }

    fn fixed(mut self, expect: Expect) -> Self {
        self.fixed = expect;
        self
    }

    fn broken(mut self, expect: Expect) -> Self {
        assert!(self.broken.is_some(), "{}: no broken-mode run", self.label);
        self.broken = Some(expect);
        self
    }

    fn both(self, expect: Expect) -> Self {
        self.fixed(expect.clone()).broken(expect)
    }

    fn expectation(&self, mode: Mode) -> Option<&Expect> {
        match mode {
            Mode::Fixed => Some(&self.fixed),
            Mode::Broken => self.broken.as_ref(),
        }
    }
}

/// Returns the cases of an HTTP example. `catch_panic` is true when the example accepts
/// `--catch-panic`, which turns the panic of `GET /panic` into a 500: with CORS headers in fixed
/// mode, and without them in broken mode, where tower-http's `CatchPanicLayer` is the outermost
/// layer. Without `--catch-panic`, the panic closes the connection without a response.
fn http_cases(catch_panic: bool) -> Vec<Case> {
    use Block::*;
    use Origin::*;
    use Server::*;

    let small = Body::Text("hello from the browser matrix");
    let both_upload_headers: &[&str] = &[UPLOAD_ID_HEADER, INTERNAL_TRACE_HEADER];
    let connection_closed = Expect::NetworkError("ERR_EMPTY_RESPONSE");
    let (panic_fixed, panic_broken) = if catch_panic {
        (read(500), Expect::Blocked(MissingAllowOrigin))
    } else {
        (connection_closed.clone(), connection_closed.clone())
    };

    vec![
        // Requests that succeed.
        Case::new("GET /health", "health", Request::new("GET", "/health")).both(read(200)),
        Case::new(
            "GET /health, custom request header (preflighted)",
            "health-custom-header",
            Request::new("GET", "/health").header("x-request-id", "1"),
        )
        .both(read(200)),
        Case::new(
            "POST /upload, `Content-Type: application/json`, token",
            "upload-json",
            Request::new("POST", "/upload")
                .header("content-type", "application/json")
                .token(TOKEN),
        )
        .both(read(200)),
        Case::new(
            "POST /upload, token header",
            "upload-token",
            Request::new("POST", "/upload")
                .octet_stream(small.clone())
                .token(TOKEN),
        )
        .show_headers(both_upload_headers)
        .both(Expect::Read {
            status: 200,
            readable: both_upload_headers,
            hidden: &[],
        }),
        Case::new(
            "PUT /upload/demo, token",
            "put",
            Request::new("PUT", "/upload/demo")
                .octet_stream(small.clone())
                .token(TOKEN),
        )
        .both(read(200)),
        Case::new(
            "DELETE /upload/demo, token",
            "delete",
            Request::new("DELETE", "/upload/demo").token(TOKEN),
        )
        .both(read(204)),
        Case::new(
            "GET /health, `Authorization` header",
            "authorization",
            Request::new("GET", "/health").header("authorization", "Bearer matrix"),
        )
        .both(read(200)),
        // Error responses, which the crate exists to make readable.
        Case::new(
            "401: POST /upload, no token",
            "no-token",
            Request::new("POST", "/upload").octet_stream(small.clone()),
        )
        .fixed(read(401))
        .broken(Expect::Blocked(MissingAllowOrigin)),
        Case::new(
            "401: POST /upload, bad token",
            "bad-token",
            Request::new("POST", "/upload")
                .octet_stream(small.clone())
                .token("not-the-token"),
        )
        .fixed(read(401))
        .broken(Expect::Blocked(MissingAllowOrigin)),
        Case::new(
            "413: POST /upload, 2 MiB body",
            "body-2mib",
            Request::new("POST", "/upload")
                .octet_stream(Body::Zeros(2 * MIB))
                .token(TOKEN),
        )
        .fixed(read(413))
        .broken(Expect::Blocked(MissingAllowOrigin)),
        Case::new(
            "413: POST /upload, 32 MiB body",
            "body-32mib",
            Request::new("POST", "/upload")
                .octet_stream(Body::Zeros(32 * MIB))
                .token(TOKEN),
        )
        .fixed(read(413))
        .broken(Expect::Blocked(MissingAllowOrigin)),
        Case::new(
            "404: GET /no-such-path",
            "not-found",
            Request::new("GET", "/no-such-path"),
        )
        .fixed(read(404)),
        Case::new(
            "405: DELETE /health",
            "wrong-method",
            Request::new("DELETE", "/health"),
        )
        .fixed(read(405)),
        Case::new(
            "500: GET /panic, `--catch-panic`",
            "panic",
            Request::new("GET", "/panic"),
        )
        .fixed(panic_fixed)
        .broken(panic_broken),
        Case::new(
            "GET /panic, no `--catch-panic`",
            "panic-uncaught",
            Request::new("GET", "/panic"),
        )
        .on(NoCatchPanic, Allowed)
        .both(connection_closed),
        Case::new(
            "credentials `include`, permissive preset",
            "credentials-permissive",
            Request::new("GET", "/health").include_credentials(),
        )
        .both(Expect::Blocked(WildcardWithCredentials)),
        Case::new(
            "preflight cache: same request again after 6 s",
            "preflight-cache",
            Request::new("GET", "/health").header("x-request-id", "1"),
        )
        .preflight_cache()
        .fixed(Expect::Preflights(1))
        .broken(Expect::Preflights(2)),
        // The allow-list configuration: `--allow-origin`.
        Case::new(
            "allow-list: POST /upload, token",
            "allow-list-upload",
            Request::new("POST", "/upload")
                .octet_stream(small.clone())
                .token(TOKEN),
        )
        .on(AllowList, Allowed)
        .show_headers(both_upload_headers)
        .fixed(Expect::Read {
            status: 200,
            readable: &[UPLOAD_ID_HEADER],
            hidden: &[INTERNAL_TRACE_HEADER],
        }),
        Case::new(
            "allow-list: 401, no token",
            "allow-list-no-token",
            Request::new("POST", "/upload").octet_stream(small.clone()),
        )
        .on(AllowList, Allowed)
        .fixed(read(401)),
        Case::new(
            "allow-list: request header not in the list",
            "allow-list-custom-header",
            Request::new("GET", "/health").header("x-request-id", "1"),
        )
        .on(AllowList, Allowed)
        .fixed(Expect::Blocked(PreflightMissingAllowOrigin)),
        // The credentials configuration: `--allow-origin` and `--credentials`.
        Case::new(
            "credentials, allowed origin: GET /health",
            "credentials-health",
            Request::new("GET", "/health").include_credentials(),
        )
        .on(Credentials, Allowed)
        .fixed(read(200)),
        Case::new(
            "credentials, allowed origin: POST /upload, token",
            "credentials-upload",
            Request::new("POST", "/upload")
                .octet_stream(small.clone())
                .token(TOKEN)
                .include_credentials(),
        )
        .on(Credentials, Allowed)
        .show_headers(&[UPLOAD_ID_HEADER])
        .fixed(Expect::Read {
            status: 200,
            readable: &[UPLOAD_ID_HEADER],
            hidden: &[],
        }),
        Case::new(
            "credentials, allowed origin: 401, no token",
            "credentials-no-token",
            Request::new("POST", "/upload")
                .octet_stream(small.clone())
                .include_credentials(),
        )
        .on(Credentials, Allowed)
        .fixed(read(401)),
        Case::new(
            "credentials, other origin: GET /health",
            "credentials-other-health",
            Request::new("GET", "/health").include_credentials(),
        )
        .on(Credentials, Other)
        .fixed(Expect::Blocked(MissingAllowOrigin)),
        Case::new(
            "credentials, other origin: POST /upload, token",
            "credentials-other-upload",
            Request::new("POST", "/upload")
                .octet_stream(small)
                .token(TOKEN)
                .include_credentials(),
        )
        .on(Credentials, Other)
        .fixed(Expect::Blocked(PreflightMissingAllowOrigin)),
        // `Access-Control-Allow-Headers: *` does not cover `Authorization` in a browser that
        // follows the Fetch standard.
        Case::new(
            "strict Chromium: GET /health, `Authorization` header",
            "strict-authorization",
            Request::new("GET", "/health").header("authorization", "Bearer matrix"),
        )
        .strict()
        .fixed(read(200))
        .broken(Expect::Blocked(HeaderNotAllowed)),
        Case::new(
            "strict Chromium, allow-list: GET /health, `Authorization` header",
            "strict-allow-list-authorization",
            Request::new("GET", "/health").header("authorization", "Bearer matrix"),
        )
        .on(AllowList, Allowed)
        .strict()
        .fixed(read(200)),
    ]
}

fn grpc(status: u16, grpc_status: Option<u64>) -> Expect {
    Expect::Grpc {
        status,
        grpc_status,
    }
}

/// Returns the cases of a gRPC-web example, named after the page's `GRPC_CASES`.
///
/// tonic sends a failed call as a trailers-only response: HTTP 200 with `grpc-status` in the
/// response headers, which the page reads only when they are exposed. A successful call has its
/// status in a trailer frame of the body, which needs no exposed header.
fn grpc_web_cases() -> Vec<Case> {
    use Block::*;
    use Origin::*;
    use Server::*;

    const OK: Option<u64> = Some(0);
    const OUT_OF_RANGE: Option<u64> = Some(11);
    const UNAUTHENTICATED: Option<u64> = Some(16);
    const HIDDEN: Option<u64> = None;

    vec![
        Case::grpc("upload, token", "upload").both(grpc(200, OK)),
        Case::grpc("no token", "no-token")
            .fixed(grpc(200, UNAUTHENTICATED))
            .broken(grpc(200, HIDDEN)),
        Case::grpc("bad token", "bad-token")
            .fixed(grpc(200, UNAUTHENTICATED))
            .broken(grpc(200, HIDDEN)),
        Case::grpc("message over the 1 MiB limit (2 MiB)", "too-large")
            .fixed(grpc(200, OUT_OF_RANGE))
            .broken(grpc(200, HIDDEN)),
        Case::grpc("credentials `include`, any origin", "upload")
            .grpc_credentials()
            .both(Expect::Blocked(WildcardWithCredentials)),
        Case::grpc("allow-list: no token", "no-token")
            .on(AllowList, Allowed)
            .fixed(grpc(200, UNAUTHENTICATED)),
        Case::grpc("credentials, allowed origin: upload, token", "upload")
            .grpc_credentials()
            .on(Credentials, Allowed)
            .fixed(grpc(200, OK)),
        Case::grpc("credentials, allowed origin: no token", "no-token")
            .grpc_credentials()
            .on(Credentials, Allowed)
            .fixed(grpc(200, UNAUTHENTICATED)),
        Case::grpc("credentials, other origin: upload, token", "upload")
            .grpc_credentials()
            .on(Credentials, Other)
            .fixed(Expect::Blocked(PreflightMissingAllowOrigin)),
    ]
}

// ===== outcomes =====

/// What the page observed for one case.
#[derive(Clone, Debug)]
enum Outcome {
    /// `fetch` resolved; the names of the response headers the page could read.
    Read {
        status: u16,
        headers: Vec<String>,
    },
    Blocked(Block),
    /// `fetch` rejected, and Chromium logged this network error code for the URL.
    NetworkError(String),
    /// Number of preflights Chromium sent for the two requests of a preflight cache case.
    Preflights(usize),
    /// The gRPC-web call's HTTP status and the `grpc-status` the page could read.
    Grpc {
        status: u16,
        grpc_status: Option<u64>,
    },
    /// `fetch` rejected without a console message that explains it: the rejection text and
    /// what Chromium logged for the URL.
    Unexplained(String),
}

impl Outcome {
    fn describe(&self, headers_shown: &[&str]) -> String {
        match self {
            Outcome::Read { status, headers } => {
                let mut text = format!("read {status}");
                for name in headers_shown {
                    let state = if headers.iter().any(|header| header == name) {
                        "readable"
                    } else {
                        "hidden"
                    };
                    write!(text, ", `{name}` {state}").unwrap();
                }
                text
            }
            Outcome::Blocked(block) => block.describe().to_owned(),
            Outcome::NetworkError(code) => format!("network error: {code}"),
            Outcome::Preflights(1) => "read twice, 1 preflight".to_owned(),
            Outcome::Preflights(count) => format!("read twice, {count} preflights"),
            Outcome::Grpc {
                status,
                grpc_status: Some(grpc_status),
            } => format!("read {status}, `grpc-status: {grpc_status}`"),
            Outcome::Grpc {
                status,
                grpc_status: None,
            } => format!("read {status}, `grpc-status` hidden"),
            Outcome::Unexplained(text) => format!("unexplained: {text}"),
        }
    }

    /// Returns why the outcome does not meet `expect`, or `None` when it does.
    fn mismatch(&self, expect: &Expect) -> Option<String> {
        match (expect, self) {
            (Expect::Recorded, _) => None,
            (
                Expect::Read {
                    status,
                    readable,
                    hidden,
                },
                Outcome::Read {
                    status: actual,
                    headers,
                },
            ) => {
                if status != actual {
                    return Some(format!("expected status {status}, got {actual}"));
                }
                let missing: Vec<_> = readable
                    .iter()
                    .filter(|name| !headers.iter().any(|header| header == *name))
                    .collect();
                if !missing.is_empty() {
                    return Some(format!(
                        "expected readable headers {missing:?}; readable: {headers:?}"
                    ));
                }
                let exposed: Vec<_> = hidden
                    .iter()
                    .filter(|name| headers.iter().any(|header| header == *name))
                    .collect();
                if !exposed.is_empty() {
                    return Some(format!("expected hidden headers {exposed:?}, but readable"));
                }
                None
            }
            (Expect::Blocked(expected), Outcome::Blocked(actual)) if expected == actual => None,
            (Expect::NetworkError(expected), Outcome::NetworkError(actual))
                if expected == actual =>
            {
                None
            }
            (Expect::Preflights(expected), Outcome::Preflights(actual)) if expected == actual => {
                None
            }
            (
                Expect::Grpc {
                    status,
                    grpc_status,
                },
                Outcome::Grpc {
                    status: actual_status,
                    grpc_status: actual_grpc_status,
                },
            ) if status == actual_status && grpc_status == actual_grpc_status => None,
            (expect, outcome) => Some(format!("expected {expect:?}, observed {outcome:?}")),
        }
    }
}

/// Runs `request` from `tab` against `url` and explains a rejection with the console messages.
async fn fetch_outcome(tab: &Page, url: &str, request: &Request) -> Outcome {
    match tab
        .fetch_with_init_script(url, &request.init_script())
        .await
    {
        FetchOutcome::Response(response) => Outcome::Read {
            status: response.status,
            headers: response.headers.into_iter().map(|(name, _)| name).collect(),
        },
        FetchOutcome::Rejected(error) => explain_rejection(tab, url, &error, 0).await,
    }
}

/// Waits for the console message that explains why `fetch(url)` rejected, looking at the
/// tab's console entries from index `first_entry` on.
///
/// A CORS block names the URL in its text ("Access to fetch at 'URL' ..."). A network error is
/// logged as "Failed to load resource: net::CODE" with the URL in the entry's `url`. A CORS block
/// also logs `net::ERR_FAILED` that way, so that code alone explains nothing.
async fn explain_rejection(tab: &Page, url: &str, error: &str, first_entry: usize) -> Outcome {
    let quoted_url = format!("'{url}'");
    let deadline = tokio::time::Instant::now() + CONSOLE_TIMEOUT;
    loop {
        let mut entries = tab.console_entries();
        entries.drain(..first_entry.min(entries.len()));
        let cors_message = entries.iter().find(|entry| {
            entry.text.contains(&quoted_url) && entry.text.contains("blocked by CORS policy")
        });
        if let Some(entry) = cors_message {
            return match Block::from_console(&entry.text) {
                Some(block) => Outcome::Blocked(block),
                None => Outcome::Unexplained(entry.text.clone()),
            };
        }
        let network_codes: Vec<&str> = entries
            .iter()
            .filter(|entry| entry.url.as_deref() == Some(url))
            .filter_map(|entry| entry.text.split("net::").nth(1))
            .collect();
        if let Some(code) = network_codes.iter().find(|code| **code != "ERR_FAILED") {
            return Outcome::NetworkError((*code).to_owned());
        }
        if tokio::time::Instant::now() >= deadline {
            return Outcome::Unexplained(format!(
                "{error}; network errors logged for the URL: {network_codes:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `window.runGrpcCase(name, options)` in `tab`, whose page calls `api`.
///
/// Every call goes to the same URL, so console messages tell cases apart only by time: the
/// caller must not run two gRPC-web cases in one tab at once.
async fn grpc_outcome(tab: &Page, api: &str, name: &str, credentials: bool) -> Outcome {
    let first_entry = tab.console_entries().len();
    let mut options = Map::new();
    if credentials {
        options.insert("credentials".into(), Value::from("include"));
    }
    let script = format!(
        "window.runGrpcCase({}, {})",
        Value::from(name),
        Value::Object(options)
    );
    let result = tab.eval_json(&script).await;

    let Some(status) = result.get("status").and_then(Value::as_u64) else {
        let error = result
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let url = format!("{api}{GRPC_UPLOAD_PATH}");
        return explain_rejection(tab, &url, error, first_entry).await;
    };
    let status = u16::try_from(status).expect("an HTTP status fits in u16");
    // The page also sets `error` when no `grpc-status` is readable, the hidden case this
    // outcome records. Only a body that is not valid gRPC-web needs explaining.
    let error = result.get("error").and_then(Value::as_str);
    if let Some(error) = error.filter(|error| error.starts_with("invalid gRPC-web")) {
        return Outcome::Unexplained(format!("HTTP {status}: {error}"));
    }
    let grpc_status = result.get("grpcStatus").and_then(Value::as_u64);
    Outcome::Grpc {
        status,
        grpc_status,
    }
}

async fn preflight_cache_outcome(tab: &Page, url: &str, request: &Request) -> Outcome {
    for attempt in 0..2 {
        if attempt > 0 {
            tokio::time::sleep(PREFLIGHT_CACHE_WAIT).await;
        }
        let outcome = fetch_outcome(tab, url, request).await;
        if !matches!(outcome, Outcome::Read { status: 200, .. }) {
            return outcome;
        }
    }
    tokio::time::sleep(NETWORK_EVENT_DELAY).await;
    let preflights = tab
        .sent_requests()
        .iter()
        .filter(|sent| sent.method == "OPTIONS" && sent.url == url)
        .count();
    Outcome::Preflights(preflights)
}

// ===== running one example in one mode =====

/// The processes of one example in one mode.
struct Deployment {
    default: ExampleProcess,
    /// `None` when the example takes no `--catch-panic`, so that `default` runs without it.
    no_catch_panic: Option<ExampleProcess>,
    /// `None` in broken mode, where the examples reject `--allow-origin`.
    allow_list: Option<ExampleProcess>,
    credentials: Option<ExampleProcess>,
}

impl Deployment {
    fn start(example: &str, mode: Mode, catch_panic: bool) -> Self {
        let base = ["--mode", mode.as_str()];
        let mut default_args = base.to_vec();
        if catch_panic {
            default_args.push("--catch-panic");
        }
        let default = ExampleProcess::spawn_on_loopback(example, TOKEN, &default_args);
        let no_catch_panic =
            catch_panic.then(|| ExampleProcess::spawn_on_loopback(example, TOKEN, &base));
        if mode == Mode::Broken {
            return Self {
                default,
                no_catch_panic,
                allow_list: None,
                credentials: None,
            };
        }

        let allowed_origin = default.page_origin().to_owned();
        let mut allow_list_args = base.to_vec();
        allow_list_args.extend(["--allow-origin", &allowed_origin]);
        let allow_list = ExampleProcess::spawn_on_loopback(example, TOKEN, &allow_list_args);
        let mut credentials_args = allow_list_args.clone();
        credentials_args.push("--credentials");
        let credentials = ExampleProcess::spawn_on_loopback(example, TOKEN, &credentials_args);
        Self {
            default,
            no_catch_panic,
            allow_list: Some(allow_list),
            credentials: Some(credentials),
        }
    }

    fn process(&self, server: Server) -> Option<&ExampleProcess> {
        match server {
            Server::Default => Some(&self.default),
            Server::NoCatchPanic => Some(self.no_catch_panic.as_ref().unwrap_or(&self.default)),
            Server::AllowList => self.allow_list.as_ref(),
            Server::Credentials => self.credentials.as_ref(),
        }
    }

    fn page_url(&self, origin: Origin) -> Option<&str> {
        match origin {
            Origin::Allowed => Some(self.default.page()),
            Origin::Other => self.credentials.as_ref().map(ExampleProcess::page),
        }
    }
}

/// The key of a tab: the browser, the page origin, and the server the page's `api` names.
type TabKey = (Chromium, Origin, Server);

/// A tab and the lock that keeps its gRPC-web cases from running at the same time.
struct Tab {
    page: Page,
    grpc_lock: tokio::sync::Mutex<()>,
}

/// One tab per browser, page origin and server that the cases of a deployment use.
struct Tabs {
    tabs: Vec<(TabKey, Tab)>,
}

impl Tabs {
    /// Opens the tabs, each on the page of its origin with `?api=` naming its server, so that
    /// the page's own gRPC-web calls go to that server too.
    async fn open(
        deployment: &Deployment,
        cases: &[Case],
        plain: &Browser,
        strict: &Browser,
    ) -> Self {
        let mut tabs: Vec<(TabKey, Tab)> = Vec::new();
        for case in cases {
            let key = (case.chromium, case.origin, case.server);
            if tabs.iter().any(|(open, _)| *open == key) {
                continue;
            }
            let (Some(page_url), Some(process)) = (
                deployment.page_url(case.origin),
                deployment.process(case.server),
            ) else {
                continue;
            };
            let browser = match case.chromium {
                Chromium::Plain => plain,
                Chromium::Strict => strict,
            };
            let url = format!("{page_url}?api={}", process.api());
            let tab = Tab {
                page: browser.open_page(&url).await,
                grpc_lock: tokio::sync::Mutex::new(()),
            };
            tabs.push((key, tab));
        }
        Self { tabs }
    }

    fn get(&self, case: &Case) -> &Tab {
        let key = (case.chromium, case.origin, case.server);
        self.tabs
            .iter()
            .find(|(open, _)| *open == key)
            .map(|(_, tab)| tab)
            .expect("Tabs::open opened a tab for every case")
    }

    async fn close(self) {
        for (_, tab) in self.tabs {
            tab.page.close().await;
        }
    }
}

/// One cell of the matrix.
#[derive(Clone, Debug)]
enum Cell {
    /// The case does not apply to this mode.
    NotRun,
    Observed {
        text: String,
        asserted: bool,
        /// Why the outcome does not meet the expectation.
        mismatch: Option<String>,
    },
}

/// One column of the matrix: an example in one mode, its processes and its cases.
struct Run {
    example: &'static str,
    kind: ExampleKind,
    mode: Mode,
    deployment: Deployment,
    cases: Vec<Case>,
}

/// Runs every case of one example in one mode, concurrently, and returns the column. Mismatches
/// come back with the console messages of the case's tab.
async fn run_deployment(run: &Run, plain: &Browser, strict: &Browser) -> Column {
    let started = Instant::now();
    let Run {
        example,
        kind,
        mode,
        deployment,
        cases,
    } = run;
    let mode = *mode;
    let runnable: Vec<Case> = cases
        .iter()
        .filter(|case| case.expectation(mode).is_some())
        .cloned()
        .collect();
    let tabs = Tabs::open(deployment, &runnable, plain, strict).await;

    let outcomes = join_all(cases.iter().map(|case| async {
        let expect = case.expectation(mode)?;
        let process = deployment.process(case.server)?;
        let tab = tabs.get(case);
        let page = &tab.page;
        let outcome = match &case.check {
            Check::Fetch(request) => {
                fetch_outcome(page, &request.url(process.api()), request).await
            }
            Check::PreflightCache(request) => {
                preflight_cache_outcome(page, &request.url(process.api()), request).await
            }
            Check::Grpc { name, credentials } => {
                let _one_at_a_time = tab.grpc_lock.lock().await;
                grpc_outcome(page, process.api(), name, *credentials).await
            }
        };
        Some((expect, outcome, page, process))
    }))
    .await;

    let mut cells = Vec::new();
    for (case, result) in cases.iter().zip(outcomes) {
        let Some((expect, outcome, page, process)) = result else {
            cells.push(Cell::NotRun);
            continue;
        };
        let mismatch = outcome.mismatch(expect).map(|reason| {
            let console: Vec<String> = page
                .console_entries()
                .into_iter()
                .map(|entry| match entry.url {
                    Some(url) => format!("  {} [{url}]", entry.text),
                    None => format!("  {}", entry.text),
                })
                .collect();
            format!(
                "{example} {mode}: {label}: {reason}\nChromium console of the tab:\n{console}\n\
                 example stderr:\n{stderr}",
                mode = mode.as_str(),
                label = case.label,
                console = console.join("\n"),
                stderr = process.stderr(),
            )
        });
        cells.push(Cell::Observed {
            text: outcome.describe(case.headers_shown),
            asserted: *expect != Expect::Recorded,
            mismatch,
        });
    }
    tabs.close().await;
    println!(
        "{example} {}: {} cases in {:?}",
        mode.as_str(),
        runnable.len(),
        started.elapsed()
    );
    Column {
        example,
        kind: *kind,
        mode,
        cells,
    }
}

// ===== controls =====

const CONTROL_PAGE_HTML: &str = "<!doctype html><title>browser matrix control</title>";

/// Starts an HTTP/1.1 server on a free loopback port that runs until the test ends.
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
            .expect("control server failed");
    });
    address
}

/// Returns the routes of a server without force-cors that allows every request header with
/// `Access-Control-Allow-Headers: *`.
fn wildcard_headers_router() -> Router {
    let preflight = || async {
        (
            StatusCode::NO_CONTENT,
            [
                (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                (ACCESS_CONTROL_ALLOW_METHODS, "*"),
                (ACCESS_CONTROL_ALLOW_HEADERS, "*"),
            ],
        )
    };
    Router::new().route(
        "/wildcard-headers",
        get(|| async { ([(ACCESS_CONTROL_ALLOW_ORIGIN, "*")], "granted") }).options(preflight),
    )
}

/// Runs the negative control for the strict browser: `Access-Control-Allow-Headers: *` must not
/// cover `Authorization` there, which shows that the feature switch reached Chromium. Returns
/// the table row and a mismatch, if any.
async fn run_controls(plain: &Browser, strict: &Browser) -> (String, Option<String>) {
    let page_address =
        serve(Router::new().route("/", get(|| async { Html(CONTROL_PAGE_HTML) }))).await;
    let api_address = serve(wildcard_headers_router()).await;
    let page_url = format!("http://{page_address}/");
    let url = format!("http://{api_address}/wildcard-headers");
    let request = Request::new("GET", "/wildcard-headers").header("authorization", "Bearer x");

    let plain_tab = plain.open_page(&page_url).await;
    let strict_tab = strict.open_page(&page_url).await;
    let (plain_outcome, strict_outcome) = tokio::join!(
        fetch_outcome(&plain_tab, &url, &request),
        fetch_outcome(&strict_tab, &url, &request),
    );

    let mismatch = strict_outcome
        .mismatch(&Expect::Blocked(Block::HeaderNotAllowed))
        .map(|reason| {
            format!(
                "control, strict Chromium: {reason}\nChromium console of the tab:\n{}",
                strict_tab.console_messages().join("\n")
            )
        });
    let row = format!(
        "| `Access-Control-Allow-Headers: *`, `Authorization` request header (a test server \
         without force-cors) | {} | {} |",
        plain_outcome.describe(&[]),
        strict_outcome.describe(&[]),
    );
    plain_tab.close().await;
    strict_tab.close().await;
    (row, mismatch)
}

// ===== the table =====

struct Column {
    example: &'static str,
    kind: ExampleKind,
    mode: Mode,
    cells: Vec<Cell>,
}

fn render_cell(cell: &Cell) -> String {
    match cell {
        Cell::NotRun => "—".to_owned(),
        Cell::Observed {
            text,
            mismatch: Some(_),
            ..
        } => format!("**MISMATCH** {text}"),
        Cell::Observed {
            text,
            asserted: false,
            ..
        } => format!("{text} *(recorded)*"),
        Cell::Observed { text, .. } => text.clone(),
    }
}

/// Appends the table of one example kind: a row per case, a column per example and mode.
fn render_table(text: &mut String, labels: &[&str], columns: &[&Column]) {
    write!(text, "| case |").unwrap();
    for column in columns {
        write!(text, " {} {} |", column.example, column.mode.as_str()).unwrap();
    }
    writeln!(text).unwrap();
    write!(text, "|---|").unwrap();
    for _ in columns {
        write!(text, "---|").unwrap();
    }
    writeln!(text).unwrap();
    for (row, label) in labels.iter().enumerate() {
        write!(text, "| {label} |").unwrap();
        for column in columns {
            write!(text, " {} |", render_cell(&column.cells[row])).unwrap();
        }
        writeln!(text).unwrap();
    }
}

const MATRIX_INTRODUCTION: &str = "\
Each example runs as a process with its API and its page on two loopback ports, so the page \
calls the API cross-origin. Every request is a `fetch` from page JavaScript: written by the test \
for the HTTP examples, the page's `window.runGrpcCase` for gRPC-web. *fixed* is `--mode fixed`, \
with `ForceCorsLayer` outside every other layer. *broken* is `--mode broken`: tower-http's \
permissive `CorsLayer` inside the token check and the body limit in the HTTP examples, and \
tower-http's `CorsLayer` without exposed headers in tonic_web. The HTTP examples run with \
`--catch-panic`, except in the \"no `--catch-panic`\" row and the allow-list and credentials \
cases. In broken mode, `--catch-panic` adds tower-http's `CatchPanicLayer` outside every other \
layer. \
*allow-list* cases start the example with `--allow-origin` naming the page origin, \
*credentials* cases add `--credentials`, and \"other origin\" is a page on a third port that is \
not in the list. *strict Chromium* is launched with \
`--enable-features=CorsNonWildcardRequestHeadersSupport`, which makes \
`Access-Control-Allow-Headers: *` stop covering `Authorization`, as the Fetch standard says.

- **read N**: the `fetch` promise resolved with status N. \"readable\" and \"hidden\" say whether \
page JavaScript could read a response header.
- **blocked: ...**: the promise rejected with `TypeError: Failed to fetch`, and Chromium's \
console named the URL and the reason (ACAO: `Access-Control-Allow-Origin`).
- **network error**: the promise rejected, and Chromium logged this `net::` error code for the \
URL.
- **read twice, N preflights**: two identical preflighted requests 6 s apart, and the number of \
`OPTIONS` requests Chromium sent for them. The Fetch standard caches a preflight response \
without `Access-Control-Max-Age` for 5 s.
- *(recorded)*: observed, not asserted. **—**: not run, because the examples take \
`--allow-origin` and `--credentials` in fixed mode only.
";

fn render_matrix(
    tables: &[(ExampleKind, Vec<&str>)],
    columns: &[Column],
    control_row: &str,
    version: &str,
) -> String {
    let mut text = String::new();
    writeln!(text, "# Real-browser CORS matrix").unwrap();
    writeln!(text).unwrap();
    writeln!(
        text,
        "Produced with {version} (Debian's `chromium` package) by \
         `cargo test --test browser_matrix -- --nocapture`, which overwrites this file when every \
         asserted cell matches. Build the examples first: `cargo build --examples`."
    )
    .unwrap();
    writeln!(text).unwrap();
    writeln!(text, "{MATRIX_INTRODUCTION}").unwrap();

    for (kind, labels) in tables {
        let kind_columns: Vec<&Column> = columns
            .iter()
            .filter(|column| column.kind == *kind)
            .collect();
        writeln!(text, "## {}", kind.title()).unwrap();
        writeln!(text).unwrap();
        render_table(&mut text, labels, &kind_columns);
        writeln!(text).unwrap();
    }

    writeln!(text, "## Control").unwrap();
    writeln!(text).unwrap();
    writeln!(text, "| case | plain Chromium | strict Chromium |").unwrap();
    writeln!(text, "|---|---|---|").unwrap();
    writeln!(text, "{control_row}").unwrap();
    text
}

// ===== the test =====

/// Returns whether the example's `--help` lists `--catch-panic`.
fn accepts_catch_panic(example: &str) -> bool {
    let output = run_to_exit(example, &["--help"], HELP_TIMEOUT);
    assert!(
        output.status.success(),
        "{example} --help failed: {output:?}"
    );
    String::from_utf8_lossy(&output.stdout).contains("--catch-panic")
}

// All cases share one test function because a browser cannot outlive the runtime of the test
// that launched it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_matrix() {
    let started = Instant::now();
    let Some(plain) = browser::launch_or_skip(LaunchOptions::new()).await else {
        return;
    };
    let strict_options = LaunchOptions::new().enable_feature(NON_WILDCARD_REQUEST_HEADERS);
    let strict = browser::launch_or_skip(strict_options)
        .await
        .expect("Chromium was present for the first launch, so the second cannot skip");
    let version = plain.version().await;
    println!("{version}, launched in {:?}", started.elapsed());

    // Starting the processes blocks until each prints its URLs, a few milliseconds each, so it
    // happens before the cases run concurrently.
    let mut tables: Vec<(ExampleKind, Vec<&str>)> = Vec::new();
    let mut runs = Vec::new();
    for &(example, kind) in EXAMPLES {
        let (cases, catch_panic) = match kind {
            ExampleKind::Http => {
                let catch_panic = accepts_catch_panic(example);
                (http_cases(catch_panic), catch_panic)
            }
            ExampleKind::GrpcWeb => (grpc_web_cases(), false),
        };
        let labels: Vec<&str> = cases.iter().map(|case| case.label).collect();
        match tables.iter().find(|(table_kind, _)| *table_kind == kind) {
            Some((_, table_labels)) => assert_eq!(
                *table_labels, labels,
                "examples of one kind must have the same rows"
            ),
            None => tables.push((kind, labels)),
        }
        for mode in [Mode::Fixed, Mode::Broken] {
            runs.push(Run {
                example,
                kind,
                mode,
                deployment: Deployment::start(example, mode, catch_panic),
                cases: cases.clone(),
            });
        }
    }

    let ((control_row, control_mismatch), columns) = tokio::join!(
        run_controls(&plain, &strict),
        join_all(runs.iter().map(|run| run_deployment(run, &plain, &strict))),
    );
    let mut failures: Vec<String> = control_mismatch.into_iter().collect();
    for column in &columns {
        for cell in &column.cells {
            if let Cell::Observed {
                mismatch: Some(mismatch),
                ..
            } = cell
            {
                failures.push(mismatch.clone());
            }
        }
    }

    plain.close().await;
    strict.close().await;

    let matrix = render_matrix(&tables, &columns, &control_row, &version);
    println!("\n{matrix}");
    println!("browser matrix finished in {:?}", started.elapsed());

    if !failures.is_empty() {
        panic!(
            "{} cell(s) of the browser matrix do not match; {MATRIX_FILE} is unchanged:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(MATRIX_FILE);
    std::fs::create_dir_all(path.parent().expect("the matrix file has a directory"))
        .expect("failed to create the docs directory");
    std::fs::write(&path, matrix)
        .unwrap_or_else(|error| panic!("failed to write {}: {error}", path.display()));
}
