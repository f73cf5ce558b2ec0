//! The upload API of the axum example written with hyper 1 and hyper-util only: a `service_fn`
//! router, tower layers stacked with `ServiceBuilder`, and hyper-util's connection builder. The
//! demo page on another origin calls it.
//!
//! `--mode broken` stacks the layers the way apps with the bug do: tower-http's `CorsLayer` is
//! the last `ServiceBuilder` layer, as if `ServiceBuilder::layer` worked like axum's
//! `Router::layer`. In `ServiceBuilder` the first layer is the outermost, so the CORS layer ends
//! up innermost, inside the token check and the body limit, and their 401 and 413 responses
//! leave without CORS headers. The page's JavaScript then gets a network error
//! (`TypeError: Failed to fetch` in Chromium) instead of the status.
//!
//! `--mode fixed`, the default, makes `ForceCorsLayer` the first `ServiceBuilder` layer, which is
//! the outermost, so every response carries CORS headers.
//!
//! `--catch-panic` turns the panic of `GET /panic` into a 500. In fixed mode `ForceCorsLayer`
//! catches it and adds CORS headers. In broken mode tower-http's `CatchPanicLayer`, the first
//! `ServiceBuilder` layer as in apps, catches it outside the CORS layer, so the 500 leaves
//! without CORS headers.
//!
//! ```text
//! cargo run --example hyper -- --mode broken
//! cargo run --example hyper -- --mode broken --catch-panic
//! cargo run --example hyper -- --help
//! ```

mod common;

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use force_cors::ForceCorsLayer;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError};
use hyper::body::{Body, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder};
use tower_http::body::Limited;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::validate_request::{ValidateRequest, ValidateRequestHeaderLayer};

use common::{ApiKind, Args, INTERNAL_TRACE_HEADER, MAX_UPLOAD_BYTES, Mode, UPLOAD_ID_HEADER};

/// How long the server waits for open connections to finish after Ctrl-C.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct AppState {
    token: Arc<str>,
    next_upload_id: Arc<AtomicU64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse_or_exit("hyper", ApiKind::Http);
    let state = AppState {
        token: Arc::from(args.token.as_str()),
        next_upload_id: Arc::new(AtomicU64::new(1)),
    };
    match args.mode {
        Mode::Fixed => {
            let cors = common::cors_or_exit(common::upload_api_cors(&args));
            let description = common::describe_fixed_mode(&args, "ForceCorsLayer::permissive()");
            run(&args, &description, fixed_service(state, cors)).await;
        }
        Mode::Broken if args.catch_panic => {
            let description = "tower-http's CatchPanicLayer is the outermost layer and \
                               CorsLayer::permissive() the innermost, inside the token check \
                               and body limit";
            // The first `ServiceBuilder` layer is the outermost, so the 500 that
            // `CatchPanicLayer` makes for a panic never passes through the CORS layer.
            let service = ServiceBuilder::new()
                .layer(CatchPanicLayer::new())
                .service(broken_service(state));
            run(&args, description, service).await;
        }
        Mode::Broken => {
            let description = "tower-http's CorsLayer::permissive() is the innermost layer, \
                               inside the token check and body limit";
            run(&args, description, broken_service(state)).await;
        }
    }
    eprintln!("stopped after Ctrl-C");
    ExitCode::SUCCESS
}

/// Builds the API with `ForceCorsLayer` as the first, so the outermost, `ServiceBuilder` layer.
/// It responds to preflights before the token check runs, and puts CORS headers on the 401,
/// the 413, and the router's 404 and 405.
fn fixed_service(
    state: AppState,
    cors: ForceCorsLayer,
) -> impl Service<
    Request<Incoming>,
    Response = Response<BoxBody<Bytes, Infallible>>,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static {
    ServiceBuilder::new()
        .layer(cors)
        // `ForceCors` needs a response body with `Default`, for the preflight responses it makes
        // itself. The body limit's response body has none, so it is boxed here.
        .map_response(|response: Response<_>| response.map(BoxBody::new))
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .layer(ValidateRequestHeaderLayer::custom(RequireUploadToken {
            token: Arc::clone(&state.token),
        }))
        .service_fn(move |request| route(state.clone(), request))
}

/// Builds the API the way apps with the bug do: the CORS layer is added last, which in
/// `ServiceBuilder` makes it the innermost layer.
///
/// The token check lets preflights through (see [`RequireUploadToken`]), so a request with
/// the right token works, while the 401 and the 413 come back without
/// `Access-Control-Allow-Origin`.
///
/// The body limit rejects a `Content-Length` over 1 MiB before the token check and the router
/// run. A body without `Content-Length` fails later, while the router reads it, so that 413
/// passes through the CORS layer and carries CORS headers even here.
fn broken_service(
    state: AppState,
) -> impl Service<
    Request<Incoming>,
    Response = Response<impl Body<Data = Bytes, Error = Infallible> + Send + 'static>,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static {
    ServiceBuilder::new()
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .layer(ValidateRequestHeaderLayer::custom(RequireUploadToken {
            token: Arc::clone(&state.token),
        }))
        .layer(CorsLayer::permissive())
        .service_fn(move |request| route(state.clone(), request))
}

/// The token check, which rejects a request to `/upload` or `/upload/{id}` with 401 unless its
/// upload token header contains `token`. Other paths pass unchecked, as in the axum example,
/// where the check wraps the upload routes only. It runs as tower-http's
/// `ValidateRequestHeaderLayer`.
///
/// `OPTIONS` requests pass unchecked, because a browser never sends custom headers on a
/// preflight. Rejecting preflights would block every cross-origin upload, those with the right
/// token too, so apps that meet that first let `OPTIONS` through. In broken mode, that leaves
/// only the 401 of the actual request without CORS headers. Under `ForceCorsLayer`, preflights
/// never reach this check.
#[derive(Clone)]
struct RequireUploadToken {
    token: Arc<str>,
}

impl<B> ValidateRequest<B> for RequireUploadToken {
    type ResponseBody = Full<Bytes>;

    fn validate(&mut self, request: &mut Request<B>) -> Result<(), Response<Full<Bytes>>> {
        if request.method() == Method::OPTIONS || !needs_upload_token(request.uri().path()) {
            return Ok(());
        }
        let sent = request
            .headers()
            .get(common::UPLOAD_TOKEN_HEADER)
            .map(HeaderValue::as_bytes);
        if sent == Some(self.token.as_bytes()) {
            return Ok(());
        }
        let body = json!({ "error": "missing or invalid upload token" });
        Err(json_response(StatusCode::UNAUTHORIZED, &body))
    }
}

/// Tells whether `path` is one of the upload routes, `/upload` or `/upload/{id}` with a
/// non-empty id.
fn needs_upload_token(path: &str) -> bool {
    match path.strip_prefix("/upload") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('/')
            .is_some_and(|id| !id.is_empty() && !id.contains('/')),
        None => false,
    }
}

/// Serves `service` on the API address until Ctrl-C, then waits up to [`SHUTDOWN_TIMEOUT`] for
/// open connections. The demo page is served alongside.
async fn run<S, B>(args: &Args, mode_description: &str, service: S)
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (listener, page_server) =
        common::bind_and_serve_page(args, ApiKind::Http, mode_description).await;
    serve(listener, service, common::ctrl_c()).await;
    // The page server stops on the same Ctrl-C. Waiting for it lets its last log lines out.
    let _ = page_server.await;
}

/// Accepts connections and serves HTTP/1.1 and HTTP/2 on each until `shutdown` completes.
///
/// A panic in the service ends the task of its connection, so hyper closes that connection
/// without a response; other connections go on.
async fn serve<S, B>(listener: TcpListener, service: S, shutdown: impl Future<Output = ()>)
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Errors such as too many open files clear up once connections close;
                    // the pause keeps the loop from spinning meanwhile.
                    eprintln!("API server: failed to accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(service.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("API server: connection failed: {error}");
            }
        });
    }

    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_TIMEOUT) => {
            eprintln!(
                "API server: connections still open after {SHUTDOWN_TIMEOUT:?}, closing them"
            );
        }
    }
}

/// Routes a request by path, then by method, as the axum example's router does: 404 for an
/// unknown path, 405 with `Allow` for a known path with another method.
async fn route(
    state: AppState,
    request: Request<Limited<Incoming>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let response = match path.as_str() {
        "/health" => match method {
            Method::GET | Method::HEAD => health(),
            _ => method_not_allowed("GET,HEAD"),
        },
        "/panic" => match method {
            Method::GET | Method::HEAD => panic_on_purpose(),
            _ => method_not_allowed("GET,HEAD"),
        },
        "/upload" => match method {
            Method::POST => upload(&state, request).await,
            _ => method_not_allowed("POST"),
        },
        _ => match path.strip_prefix("/upload/") {
            Some(id) if needs_upload_token(&path) => match method {
                Method::PUT => replace_upload(id, request).await,
                Method::DELETE => delete_upload(id),
                _ => method_not_allowed("PUT,DELETE"),
            },
            _ => not_found(),
        },
    };
    Ok(response)
}

fn health() -> Response<Full<Bytes>> {
    json_response(StatusCode::OK, &json!({ "status": "ok" }))
}

/// Stores nothing: reading the whole body is what matters, because that is where the body limit
/// applies to a request without `Content-Length`.
async fn upload(state: &AppState, request: Request<Limited<Incoming>>) -> Response<Full<Bytes>> {
    let bytes = match read_body(request).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let id = format!(
        "upload-{}",
        state.next_upload_id.fetch_add(1, Ordering::Relaxed)
    );
    upload_response(&id, bytes.len())
}

async fn replace_upload(id: &str, request: Request<Limited<Incoming>>) -> Response<Full<Bytes>> {
    if !is_valid_upload_id(id) {
        return invalid_upload_id();
    }
    match read_body(request).await {
        Ok(bytes) => upload_response(id, bytes.len()),
        Err(response) => response,
    }
}

fn delete_upload(id: &str) -> Response<Full<Bytes>> {
    if !is_valid_upload_id(id) {
        return invalid_upload_id();
    }
    empty_response(StatusCode::NO_CONTENT)
}

/// Reads the whole request body. Returns 413 when it exceeds the body limit, which happens only
/// for a body without `Content-Length`, and 400 when the client stops sending it.
async fn read_body(request: Request<Limited<Incoming>>) -> Result<Bytes, Response<Full<Bytes>>> {
    match request.into_body().collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => {
            let body = json!({ "error": "the request body exceeds the limit of 1 MiB" });
            Err(json_response(StatusCode::PAYLOAD_TOO_LARGE, &body))
        }
        Err(error) => {
            let body = json!({ "error": format!("failed to read the request body: {error}") });
            Err(json_response(StatusCode::BAD_REQUEST, &body))
        }
    }
}

/// Tells whether `id` looks like an id that [`upload`] makes. The check also keeps a path
/// segment that cannot be a header value out of the `x-upload-id` response header.
///
/// Unlike axum's `Path` extractor, the router does not percent-decode the id, so an id with
/// `%` is invalid.
fn is_valid_upload_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn invalid_upload_id() -> Response<Full<Bytes>> {
    let body = json!({ "error": "invalid upload id: expected letters, digits, - or _" });
    json_response(StatusCode::BAD_REQUEST, &body)
}

fn upload_response(id: &str, bytes: usize) -> Response<Full<Bytes>> {
    let mut response = json_response(StatusCode::OK, &json!({ "bytes": bytes, "id": id }));
    let headers = response.headers_mut();
    // `id` passed `is_valid_upload_id` or was made by `upload`, so it is a valid header value.
    let id =
        HeaderValue::from_str(id).expect("upload ids contain only ASCII letters, digits, -, _");
    headers.insert(UPLOAD_ID_HEADER, id);
    headers.insert(INTERNAL_TRACE_HEADER, HeaderValue::from_static("1"));
    response
}

fn not_found() -> Response<Full<Bytes>> {
    empty_response(StatusCode::NOT_FOUND)
}

fn method_not_allowed(allow: &'static str) -> Response<Full<Bytes>> {
    let mut response = empty_response(StatusCode::METHOD_NOT_ALLOWED);
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

fn empty_response(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = status;
    response
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Panics on purpose. hyper does not catch the panic: without `--catch-panic` the connection
/// task ends, so the connection closes without a response and the page's `fetch` fails with a
/// network error in either mode. With `--catch-panic` the response is a 500, which the page can
/// read in fixed mode only.
fn panic_on_purpose() -> Response<Full<Bytes>> {
    panic!("GET /panic panics on purpose");
}
