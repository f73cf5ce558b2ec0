//! Parts shared by the framework examples: the command line, the CORS configuration of the
//! upload API, and the server for the demo page, which calls the API from another origin.

// Each example uses a different subset of this module.
#![allow(dead_code)]

use std::convert::Infallible;
use std::ffi::OsString;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::process;
use std::time::Duration;

use bytes::Bytes;
use force_cors::{ConfigError, ForceCorsBuilder, ForceCorsLayer};
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use cli::ArgumentReader;

mod cli;

/// The request header that carries the upload token.
pub const UPLOAD_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-upload-token-9368");
/// The response header with the id of a stored upload, exposed to page JavaScript.
pub const UPLOAD_ID_HEADER: HeaderName = HeaderName::from_static("x-upload-id");
/// A response header that the allow-list configuration does not expose, so that the page can
/// show a header it cannot read.
pub const INTERNAL_TRACE_HEADER: HeaderName = HeaderName::from_static("x-internal-trace");
/// The maximum request body size of the upload API: 1 MiB.
pub const MAX_UPLOAD_BYTES: usize = 1_048_576;

/// The environment variable read for the upload token when `--token` is not given.
pub const TOKEN_ENV: &str = "UPLOAD_TOKEN";
/// The upload token used when neither `--token` nor `UPLOAD_TOKEN` is given.
pub const DEFAULT_TOKEN: &str = "secret-token";
const DEFAULT_ADDR: &str = "127.0.0.1:9000";
const DEFAULT_PAGE_ADDR: &str = "127.0.0.1:8000";

/// The exit code for invalid arguments or an invalid CORS configuration.
pub const USAGE_EXIT_CODE: u8 = 2;

/// The API that an example serves, which decides its help text and the cases on its demo page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKind {
    /// The HTTP upload API of the axum and hyper examples.
    Http,
    /// The gRPC-web upload service of the tonic_web example.
    GrpcWeb,
}

impl ApiKind {
    /// Returns the name that the demo page reads from its configuration.
    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::GrpcWeb => "grpc-web",
        }
    }
}

/// The position of the CORS layer among the example's layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `ForceCorsLayer` wraps every other layer, so every response carries CORS headers.
    Fixed,
    /// The CORS layer is wired as in apps with the bug. In the HTTP examples it sits inside the
    /// token check and the body limit, so their 401 and 413 responses leave without CORS
    /// headers. In the gRPC-web example it exposes no headers, so the page cannot read the
    /// status of a failed call.
    Broken,
}

impl Mode {
    /// Returns the name that `--mode` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Broken => "broken",
        }
    }
}

/// The parsed command line.
#[derive(Clone, Debug)]
pub struct Args {
    pub addr: SocketAddr,
    pub page_addr: SocketAddr,
    pub mode: Mode,
    pub token: String,
    /// Origins for `ForceCorsLayer::builder().allow_origins`; empty means the permissive preset.
    pub allow_origins: Vec<String>,
    pub credentials: bool,
    /// Whether a panic becomes a 500 response. Fixed mode turns on
    /// `ForceCorsBuilder::catch_panic`, so the 500 carries CORS headers. Broken mode adds
    /// tower-http's `CatchPanicLayer` outside the CORS layer, so the 500 carries none. Only the
    /// HTTP examples take `--catch-panic`.
    pub catch_panic: bool,
}

enum Command {
    Run(Args),
    Help,
}

impl Args {
    /// Parses the command line and `UPLOAD_TOKEN`. Prints the help and exits with 0 for `--help`,
    /// or prints the error and exits with 2 for invalid input.
    pub fn parse_or_exit(example: &str, kind: ApiKind) -> Self {
        let env_token = match std::env::var(TOKEN_ENV) {
            Ok(token) => Some(token),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                exit_with_usage_error(example, &format!("{TOKEN_ENV} is not valid UTF-8"))
            }
        };
        match parse(std::env::args_os().skip(1), env_token, kind) {
            Ok(Command::Run(args)) => args,
            Ok(Command::Help) => {
                print!("{}", help_text(example, kind));
                process::exit(0);
            }
            Err(message) => exit_with_usage_error(example, &message),
        }
    }
}

fn exit_with_usage_error(example: &str, message: &str) -> ! {
    eprintln!("error: {message}");
    eprintln!("Run `cargo run --example {example} -- --help` for the options.");
    process::exit(i32::from(USAGE_EXIT_CODE));
}

fn help_text(example: &str, kind: ApiKind) -> String {
    let (summary, broken, exposed, catch_panic) = match kind {
        ApiKind::Http => (
            "\
Runs an upload API and a demo page on another origin that calls it, to show the bug where
401 and 413 responses leave without CORS headers, and force-cors fixing it.",
            // No `\` line continuation here: it would strip the indentation of the first line.
            "                        broken: the CORS layer sits inside the token check and the body
                        limit, so their 401 and 413 responses carry none [default: fixed].",
            "Only x-upload-id is exposed then.",
            "
  --catch-panic         Respond to a panic with a 500 instead of closing the connection.
                        fixed: ForceCorsLayer catches the panic, so the 500 carries CORS
                        headers. broken: tower-http's CatchPanicLayer, the outermost
                        layer, catches it, so the 500 carries none.",
        ),
        ApiKind::GrpcWeb => (
            "\
Runs a gRPC-web upload service and a demo page on another origin that calls it, to show the
bug where the status of a failed call (grpc-status, grpc-message) is hidden from the page,
and force-cors fixing it.",
            "                        broken: tower-http's CorsLayer without exposed headers, so the
                        page cannot read grpc-status and grpc-message of a failed call
                        [default: fixed].",
            "The gRPC-web response headers stay exposed.",
            "",
        ),
    };
    format!(
        "\
{summary}

Usage: cargo run --example {example} -- [OPTIONS]

Options:
  --addr IP:PORT        Address of the API server [default: {DEFAULT_ADDR}].
                        Port 0 picks a free port.
  --page-addr IP:PORT   Address of the demo page server [default: {DEFAULT_PAGE_ADDR}].
  --mode fixed|broken   fixed: ForceCorsLayer wraps every other layer, so every response
                        carries CORS headers.
{broken}
  --token TOKEN         Upload token expected in the {UPLOAD_TOKEN_HEADER} header
                        [default: ${TOKEN_ENV} if set, else {DEFAULT_TOKEN}].
  --allow-origin URL    Allow only the given origins (repeat the option for more),
                        with ForceCorsLayer::builder() in place of the preset.
                        {exposed} Fixed mode only.
  --credentials         Send Access-Control-Allow-Credentials: true. Needs
                        --allow-origin. Fixed mode only.{catch_panic}
  -h, --help            Print this help.

Once both servers listen, the example prints `api: URL` and `page: URL` on stdout.
Open the page URL in a browser and press the buttons. Ctrl-C stops both servers.

Exit codes: 0 after Ctrl-C, 1 when a server cannot start, 2 for invalid arguments or an
invalid CORS configuration.
"
    )
}

/// Parses the arguments after the program name. `env_token` is the value of `UPLOAD_TOKEN`.
fn parse(
    arguments: impl IntoIterator<Item = OsString>,
    env_token: Option<String>,
    kind: ApiKind,
) -> Result<Command, String> {
    let mut addr = parse_addr("--addr", DEFAULT_ADDR)?;
    let mut page_addr = parse_addr("--page-addr", DEFAULT_PAGE_ADDR)?;
    let mut mode = Mode::Fixed;
    let mut token = env_token;
    let mut allow_origins = Vec::new();
    let mut credentials = false;
    let mut catch_panic = false;

    let mut reader = ArgumentReader::new(arguments);
    while let Some(argument) = reader.next_argument()? {
        let mut value = || reader.value(&argument);

        match argument.name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--addr" => addr = parse_addr("--addr", &value()?)?,
            "--page-addr" => page_addr = parse_addr("--page-addr", &value()?)?,
            "--mode" => mode = parse_mode(&value()?)?,
            "--token" => token = Some(value()?),
            "--allow-origin" => allow_origins.push(value()?),
            "--credentials" if argument.inline_value.is_none() => credentials = true,
            "--credentials" => return Err("--credentials takes no value".into()),
            // The gRPC-web service has no panicking route to show it on.
            "--catch-panic" if kind == ApiKind::Http && argument.inline_value.is_none() => {
                catch_panic = true;
            }
            "--catch-panic" if kind == ApiKind::Http => {
                return Err("--catch-panic takes no value".into());
            }
            other if other.starts_with('-') => return Err(format!("unknown option '{other}'")),
            other => return Err(format!("unexpected argument '{other}'")),
        }
    }

    let token = token.unwrap_or_else(|| DEFAULT_TOKEN.to_owned());
    validate_token(&token)?;
    if mode == Mode::Broken && (!allow_origins.is_empty() || credentials) {
        return Err("--allow-origin and --credentials apply to --mode fixed only".into());
    }
    // Checked here so that the message names the flag, not the builder method.
    if credentials && allow_origins.is_empty() {
        let message = "--credentials needs at least one --allow-origin URL, because browsers \
                       reject Access-Control-Allow-Origin: * on requests with credentials";
        return Err(message.into());
    }
    Ok(Command::Run(Args {
        addr,
        page_addr,
        mode,
        token,
        allow_origins,
        credentials,
        catch_panic,
    }))
}

fn parse_addr(flag: &str, value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        format!("invalid value '{value}' for {flag}: expected IP:PORT, such as 127.0.0.1:9000")
    })
}

fn parse_mode(value: &str) -> Result<Mode, String> {
    match value {
        "fixed" => Ok(Mode::Fixed),
        "broken" => Ok(Mode::Broken),
        _ => Err(format!(
            "invalid value '{value}' for --mode: expected fixed or broken"
        )),
    }
}

/// Accepts only printable ASCII without spaces, which a browser and the `http` crate both carry
/// unchanged in a header value. `fetch` trims spaces at either end and rejects CR and LF, and the
/// `http` crate rejects the other control characters.
fn validate_token(token: &str) -> Result<(), String> {
    if token.is_empty() || !token.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(format!(
            "invalid upload token {token:?} (from --token or {TOKEN_ENV}): expected one or more \
             printable ASCII characters without spaces"
        ));
    }
    Ok(())
}

/// Builds the CORS layer of the HTTP examples in fixed mode: the permissive preset, or an
/// allow-list when `--allow-origin` or `--credentials` is given.
///
/// The permissive preset exposes every response header, `x-internal-trace` included. The
/// allow-list exposes only `x-upload-id`, so the page can show a header it cannot read.
/// `--catch-panic` adds [`catch_panic`](force_cors::ForceCorsBuilder::catch_panic) to either.
///
/// # Errors
///
/// Returns the builder's [`ConfigError`], for example for an invalid origin.
pub fn upload_api_cors(args: &Args) -> Result<ForceCorsLayer, ConfigError> {
    if args.allow_origins.is_empty() && !args.credentials {
        if !args.catch_panic {
            return Ok(ForceCorsLayer::permissive());
        }
        return ForceCorsBuilder::permissive().catch_panic(true).build();
    }
    ForceCorsLayer::builder()
        .allow_origins(&args.allow_origins)
        .allow_credentials(args.credentials)
        .allow_methods(["GET", "POST", "DELETE", "PUT"])
        .allow_headers([
            http::header::CONTENT_TYPE.as_str(),
            UPLOAD_TOKEN_HEADER.as_str(),
            http::header::AUTHORIZATION.as_str(),
        ])
        .expose_headers([UPLOAD_ID_HEADER.as_str()])
        .catch_panic(args.catch_panic)
        .build()
}

/// Builds the CORS layer of the gRPC-web example in fixed mode: the gRPC-web preset for any
/// origin, or the same settings for an allow-list when `--allow-origin` or `--credentials` is
/// given.
///
/// # Errors
///
/// Returns the builder's [`ConfigError`], as [`upload_api_cors`] does.
pub fn grpc_web_cors(args: &Args) -> Result<ForceCorsLayer, ConfigError> {
    if args.allow_origins.is_empty() && !args.credentials {
        return Ok(ForceCorsLayer::grpc_web());
    }
    ForceCorsLayer::builder()
        .grpc_web()
        .allow_origins(&args.allow_origins)
        .allow_credentials(args.credentials)
        .build()
}

/// Returns the CORS layer that [`upload_api_cors`] or [`grpc_web_cors`] built, or prints the
/// configuration error and exits with 2.
pub fn cors_or_exit(built: Result<ForceCorsLayer, ConfigError>) -> ForceCorsLayer {
    built.unwrap_or_else(|error| {
        eprintln!("error: invalid CORS configuration: {error}");
        process::exit(i32::from(USAGE_EXIT_CODE));
    })
}

/// Describes the fixed-mode CORS layer for the `mode:` line that the examples print. `preset`
/// names the preset used without `--allow-origin` and `--credentials`, such as
/// `ForceCorsLayer::permissive()`.
pub fn describe_fixed_mode(args: &Args, preset: &str) -> String {
    let panics = if args.catch_panic {
        ", panics turned into a 500"
    } else {
        ""
    };
    if args.allow_origins.is_empty() && !args.credentials {
        format!("{preset} wraps every other layer{panics}")
    } else {
        format!(
            "ForceCorsLayer wraps every other layer, allowing {:?}, credentials {}{panics}",
            args.allow_origins, args.credentials
        )
    }
}

/// Binds the API and page listeners, prints the `api:`, `page:` and `mode:` lines, and starts
/// serving the demo page until Ctrl-C. Returns the API listener and the page server's task,
/// which the caller awaits after the API server stops so that the page server's last log lines
/// get out. Exits with 1 when a listener cannot be bound.
pub async fn bind_and_serve_page(
    args: &Args,
    kind: ApiKind,
    mode_description: &str,
) -> (TcpListener, JoinHandle<()>) {
    let api_listener = bind_or_exit(args.addr, "API").await;
    let page_listener = bind_or_exit(args.page_addr, "page").await;
    print_urls(&api_listener, &page_listener);
    println!("mode: {} ({mode_description})", args.mode.as_str());
    println!("Open the page URL in a browser and press the buttons. Ctrl-C stops both servers.");

    let api_base = match api_listener.local_addr() {
        Ok(addr) => api_base(addr),
        Err(error) => {
            eprintln!("error: failed to read the API server's address: {error}");
            process::exit(1);
        }
    };
    let page = render_page(&api_base, kind, &args.token);
    let page_server = tokio::spawn(serve_page(page_listener, page, ctrl_c()));
    (api_listener, page_server)
}

/// Binds a listener, or prints the error and exits with 1.
pub async fn bind_or_exit(addr: SocketAddr, server: &str) -> TcpListener {
    match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: failed to bind the {server} server to {addr}: {error}");
            process::exit(1);
        }
    }
}

/// Prints the `api:` and `page:` lines that tests parse, with the bound ports, and flushes
/// stdout so that a process reading it through a pipe gets them at once.
pub fn print_urls(api: &TcpListener, page: &TcpListener) {
    let (api, page) = match (api.local_addr(), page.local_addr()) {
        (Ok(api), Ok(page)) => (api, page),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("error: failed to read a bound address: {error}");
            process::exit(1);
        }
    };
    let mut stdout = std::io::stdout().lock();
    // Write errors are ignored: with stdout closed, the servers are still worth running.
    let _ = writeln!(stdout, "api: {}", api_base(api));
    let _ = writeln!(stdout, "page: http://{page}/");
    let _ = stdout.flush();
}

/// Returns the API's base URL without a trailing slash, such as `http://127.0.0.1:9000`.
pub fn api_base(api: SocketAddr) -> String {
    format!("http://{api}")
}

/// Completes on Ctrl-C. If the signal handler cannot be installed, it logs why and never
/// completes, so the servers run until the process is killed.
pub async fn ctrl_c() {
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("warning: failed to listen for Ctrl-C: {error}. Stop the process with a signal.");
        std::future::pending::<()>().await;
    }
}

/// Returns the demo page with the API base URL, the kind of API and the upload token filled
/// in. The kind decides which cases the page offers.
///
/// The page carries the token so that its good cases succeed without typing. A real page would
/// get the token from its user.
pub fn render_page(api_base: &str, kind: ApiKind, token: &str) -> String {
    let config = serde_json::json!({ "api": api_base, "kind": kind.as_str(), "token": token });
    let config = config.to_string();
    // A "</script>" or "<!--" inside the <script> element would end or change it. JSON allows
    // "<" as the escape \u003c, and outside strings the config contains no "<".
    let config = config.replace('<', "\\u003c");
    include_str!("page.html").replace("__PAGE_CONFIG__", &config)
}

/// Serves `html` at `/` over HTTP/1.1 until `shutdown` completes.
///
/// Connections still open then are not waited for. They end when the runtime shuts down, which
/// loses nothing because the page is static.
pub async fn serve_page(listener: TcpListener, html: String, shutdown: impl Future<Output = ()>) {
    let html = Bytes::from(html);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Errors such as too many open files clear up once connections close;
                    // the pause keeps the loop from spinning meanwhile.
                    eprintln!("page server: failed to accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let html = html.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| page_response(request, html.clone()));
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                eprintln!("page server: connection failed: {error}");
            }
        });
    }
}

async fn page_response(
    request: Request<Incoming>,
    html: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/") => (StatusCode::OK, html),
        (_, "/") => (StatusCode::METHOD_NOT_ALLOWED, Bytes::new()),
        _ => (StatusCode::NOT_FOUND, Bytes::from_static(b"not found\n")),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    match status {
        StatusCode::OK => {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            // A restart with another --addr changes the page, so a browser must not reuse it.
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            headers.insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        _ => {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
    }
    Ok(response)
}
