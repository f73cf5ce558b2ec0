//! An axum upload API whose token check responds with 401 and whose body limit responds with
//! 413, and a demo page on another origin that calls it.
//!
//! `--mode broken` wires the layers the way apps with the bug do: tower-http's `CorsLayer` is
//! added first, so the token check and the body limit added after it wrap it, and their 401 and
//! 413 responses leave without CORS headers. The page's JavaScript then gets a network error
//! (`TypeError: Failed to fetch` in Chromium) instead of the status.
//!
//! `--mode fixed`, the default, adds `ForceCorsLayer` last, which makes it the outermost layer,
//! so every response carries CORS headers.
//!
//! `--catch-panic` turns the panic of `GET /panic` into a 500. In fixed mode `ForceCorsLayer`
//! catches it and adds CORS headers. In broken mode tower-http's `CatchPanicLayer`, added last
//! as apps add it, catches it outside the CORS layer, so the 500 leaves without CORS headers.
//!
//! ```text
//! cargo run --example axum -- --mode broken
//! cargo run --example axum -- --mode broken --catch-panic
//! cargo run --example axum -- --help
//! ```

mod common;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, serve};
use force_cors::ForceCorsLayer;
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;

use common::{ApiKind, Args, INTERNAL_TRACE_HEADER, MAX_UPLOAD_BYTES, Mode, UPLOAD_ID_HEADER};

#[derive(Clone)]
struct AppState {
    token: Arc<str>,
    next_upload_id: Arc<AtomicU64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse_or_exit("axum", ApiKind::Http);
    let state = AppState {
        token: Arc::from(args.token.as_str()),
        next_upload_id: Arc::new(AtomicU64::new(1)),
    };
    let (app, description) = match args.mode {
        Mode::Fixed => {
            let cors = common::cors_or_exit(common::upload_api_cors(&args));
            let description = common::describe_fixed_mode(&args, "ForceCorsLayer::permissive()");
            (fixed_app(state, cors), description)
        }
        Mode::Broken => {
            let mut description =
                "tower-http's CorsLayer::permissive() sits inside the token check and body limit"
                    .to_owned();
            if args.catch_panic {
                description.push_str(", with tower-http's CatchPanicLayer outside all of them");
            }
            (broken_app(state, args.catch_panic), description)
        }
    };

    let (api_listener, page_server) =
        common::bind_and_serve_page(&args, ApiKind::Http, &description).await;
    let served = serve(api_listener, app)
        .with_graceful_shutdown(common::ctrl_c())
        .await;
    // The page server stops on the same Ctrl-C. Waiting for it lets its last log lines out.
    let _ = page_server.await;
    match served {
        Ok(()) => {
            eprintln!("stopped after Ctrl-C");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: the API server failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the API with `ForceCorsLayer` added last. `Router::layer` wraps every route and the
/// fallback as they are at that point, so the CORS layer is the outermost. It responds to
/// preflights before the token check runs, and puts CORS headers on the 401, the 413, and the
/// router's 404 and 405.
fn fixed_app(state: AppState, cors: ForceCorsLayer) -> Router {
    let uploads = with_token_check(upload_routes(), &state);
    public_routes()
        .merge(uploads)
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
        .layer(cors)
        .with_state(state)
}

/// Builds the API the way apps with the bug do: CORS first, then the token check and the
/// body limit around it.
///
/// Each route group gets the CORS layer before its other layers, because a `.layer` call after
/// the token check would wrap the token check too. The token check lets preflights through
/// (see [`require_upload_token`]), so a request with the right token works, while the 401 and
/// the 413 come back without `Access-Control-Allow-Origin`.
///
/// The body limit rejects a `Content-Length` over 1 MiB before the token check and the handler
/// run. A body without `Content-Length` fails later, in the handler's `Bytes` extractor, so
/// that 413 passes through the CORS layer and carries CORS headers even here.
///
/// With `catch_panic`, tower-http's `CatchPanicLayer` is added last, which makes it the
/// outermost layer. The 500 it makes for a panic never passes through the CORS layer.
fn broken_app(state: AppState, catch_panic: bool) -> Router {
    let cors = CorsLayer::permissive();
    let uploads = with_token_check(upload_routes().layer(cors.clone()), &state);
    let app = public_routes()
        .layer(cors)
        .merge(uploads)
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES));
    let app = if catch_panic {
        app.layer(CatchPanicLayer::new())
    } else {
        app
    };
    app.with_state(state)
}

/// Adds the token check around every route of `routes`.
///
/// It uses `route_layer`, which axum recommends for authorization, because `layer` would also
/// wrap the fallback and turn the 404 of an unknown path into a 401. The check runs before
/// method routing, so a wrong method gets 401 without a token and 405 with one.
fn with_token_check(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    routes.route_layer(middleware::from_fn_with_state(
        state.clone(),
        require_upload_token,
    ))
}

fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/panic", get(panic_on_purpose))
}

/// Returns the routes that need the upload token, without the token check.
fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/upload", post(upload))
        .route("/upload/{id}", put(replace_upload).delete(delete_upload))
}

/// Rejects a request with 401 unless its upload token header contains the right token.
///
/// `OPTIONS` requests pass unchecked, because a browser never sends custom headers on a
/// preflight. Rejecting preflights would block every cross-origin upload, those with the right
/// token too, so apps that meet that first let `OPTIONS` through. In broken mode, that leaves
/// only the 401 of the actual request without CORS headers. Under `ForceCorsLayer`, preflights
/// never reach this check.
async fn require_upload_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let token = request
        .headers()
        .get(common::UPLOAD_TOKEN_HEADER)
        .map(HeaderValue::as_bytes);
    if token != Some(state.token.as_bytes()) {
        let body = Json(json!({ "error": "missing or invalid upload token" }));
        return (StatusCode::UNAUTHORIZED, body).into_response();
    }
    next.run(request).await
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Stores nothing: reading the whole body is what matters, because that is where the body limit
/// applies to a request without `Content-Length`.
async fn upload(State(state): State<AppState>, body: Bytes) -> Response {
    let id = format!(
        "upload-{}",
        state.next_upload_id.fetch_add(1, Ordering::Relaxed)
    );
    upload_response(id, body.len())
}

async fn replace_upload(Path(id): Path<String>, body: Bytes) -> Response {
    if !is_valid_upload_id(&id) {
        return invalid_upload_id();
    }
    upload_response(id, body.len())
}

async fn delete_upload(Path(id): Path<String>) -> Response {
    if !is_valid_upload_id(&id) {
        return invalid_upload_id();
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Tells whether `id` looks like an id that [`upload`] makes. The check also keeps a path
/// segment that cannot be a header value out of the `x-upload-id` response header.
fn is_valid_upload_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn invalid_upload_id() -> Response {
    let body = Json(json!({ "error": "invalid upload id: expected letters, digits, - or _" }));
    (StatusCode::BAD_REQUEST, body).into_response()
}

fn upload_response(id: String, bytes: usize) -> Response {
    let body = Json(json!({ "bytes": bytes, "id": id }));
    let headers = [
        (UPLOAD_ID_HEADER, id),
        (INTERNAL_TRACE_HEADER, "1".to_owned()),
    ];
    (headers, body).into_response()
}

/// Panics on purpose. axum does not catch the panic, so without `--catch-panic` the connection
/// closes without a response and the page's `fetch` fails with a network error in either mode.
/// With `--catch-panic` the response is a 500, which the page can read in fixed mode only.
async fn panic_on_purpose() -> StatusCode {
    panic!("GET /panic panics on purpose");
}
