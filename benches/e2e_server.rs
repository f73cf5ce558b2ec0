//! A minimal axum app for the end-to-end load in `benches/e2e.sh`, with or without
//! `ForceCorsLayer::permissive()`.
//!
//! Usage: `e2e_server --layer none|handler-headers|router-layer|around-router
//! [--addr 127.0.0.1:0] [--max-requests N] [--max-seconds S]`. `handler-headers` has no layer,
//! but the handler returns the two headers that the layer would add, which separates the cost of
//! sending them from the layer's own. `router-layer` adds the layer with `Router::layer`, which
//! in axum 0.8 wraps every route and the fallback, each in a boxed `Route`. `around-router` wraps
//! the whole `Router` as a tower service instead. The server prints
//! `listening: http://ADDRESS` once bound, serves on one thread (tokio's current-thread runtime)
//! so that the load generator can have the other core, and stops after N requests or S seconds,
//! whichever comes first.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Router, ServiceExt};
use force_cors::ForceCorsLayer;
use http::HeaderValue;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, CONTENT_TYPE};
use tokio::sync::Notify;
use tower::Layer;

const USAGE: &str = "usage: e2e_server --layer none|handler-headers|router-layer|around-router \
                     [--addr 127.0.0.1:0] [--max-requests N] [--max-seconds S]";

/// Where the app has `ForceCorsLayer::permissive()`, if anywhere.
#[derive(Clone, Copy)]
enum Placement {
    None,
    HandlerHeaders,
    RouterLayer,
    AroundRouter,
}

struct Options {
    placement: Placement,
    address: SocketAddr,
    max_requests: u64,
    max_seconds: u64,
}

/// Parses the command line; `Ok(None)` means there is nothing to serve.
fn parse_options(arguments: &[String]) -> Result<Option<Options>, String> {
    // `cargo bench` runs every bench target with `--bench`; this one is driven by the script.
    if arguments.is_empty() || arguments == ["--bench"] {
        return Ok(None);
    }
    let mut layer = None;
    let mut options = Options {
        placement: Placement::None,
        address: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_requests: 10_000_000,
        max_seconds: 120,
    };
    let mut arguments = arguments.iter();
    while let Some(flag) = arguments.next() {
        let value = arguments
            .next()
            .ok_or_else(|| format!("missing value after {flag}"))?;
        let invalid = || format!("invalid value {value:?} for {flag}");
        match flag.as_str() {
            "--layer" => layer = Some(value.clone()),
            "--addr" => options.address = value.parse().map_err(|_| invalid())?,
            "--max-requests" => options.max_requests = value.parse().map_err(|_| invalid())?,
            "--max-seconds" => options.max_seconds = value.parse().map_err(|_| invalid())?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    options.placement = match layer.as_deref() {
        Some("none") => Placement::None,
        Some("handler-headers") => Placement::HandlerHeaders,
        Some("router-layer") => Placement::RouterLayer,
        Some("around-router") => Placement::AroundRouter,
        Some(other) => return Err(format!("invalid value {other:?} for --layer")),
        None => {
            return Err(
                "missing --layer none|handler-headers|router-layer|around-router".to_owned(),
            );
        }
    };
    if !options.address.ip().is_loopback() {
        return Err(format!(
            "--addr {} is not a loopback address; use 127.0.0.1 or [::1]",
            options.address
        ));
    }
    Ok(Some(options))
}

/// Counts served requests and signals shutdown once the maximum is reached.
struct RequestLimit {
    served: AtomicU64,
    max: u64,
    reached: Notify,
}

impl RequestLimit {
    fn count_request(&self) {
        if self.served.fetch_add(1, Ordering::Relaxed) + 1 == self.max {
            self.reached.notify_one();
        }
    }
}

// The header values are `HeaderValue`s made by `from_static`, because axum copies a `&str` value
// into a new allocation, which would hide the cost under measurement.
async fn items(State(limit): State<Arc<RequestLimit>>) -> impl IntoResponse {
    limit.count_request();
    let headers = [(CONTENT_TYPE, HeaderValue::from_static("application/json"))];
    (headers, "{\"items\":[]}")
}

/// Returns what [`items`] returns with the headers `ForceCorsLayer::permissive()` adds to it.
async fn items_with_cors_headers(State(limit): State<Arc<RequestLimit>>) -> impl IntoResponse {
    limit.count_request();
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        (ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("*")),
    ];
    (headers, "{\"items\":[]}")
}

async fn serve(options: Options) -> std::io::Result<()> {
    let limit = Arc::new(RequestLimit {
        served: AtomicU64::new(0),
        max: options.max_requests,
        reached: Notify::new(),
    });
    let handler = match options.placement {
        Placement::HandlerHeaders => get(items_with_cors_headers),
        _ => get(items),
    };
    let app = Router::new()
        .route("/api/items", handler)
        .with_state(Arc::clone(&limit));

    let listener = tokio::net::TcpListener::bind(options.address).await?;
    println!("listening: http://{}", listener.local_addr()?);

    let max_duration = Duration::from_secs(options.max_seconds);
    let stop_limit = Arc::clone(&limit);
    let stop = async move {
        tokio::select! {
            () = stop_limit.reached.notified() => {
                eprintln!("e2e_server: stopping after the maximum of {} requests", stop_limit.max);
            }
            () = tokio::time::sleep(max_duration) => {
                eprintln!("e2e_server: stopping after the maximum of {max_duration:?}");
            }
        }
    };
    match options.placement {
        Placement::None | Placement::HandlerHeaders => {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await?;
        }
        Placement::RouterLayer => {
            let app = app.layer(ForceCorsLayer::permissive());
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await?;
        }
        Placement::AroundRouter => {
            let app = ForceCorsLayer::permissive().layer(app);
            let make_service = ServiceExt::<axum::extract::Request>::into_make_service(app);
            axum::serve(listener, make_service)
                .with_graceful_shutdown(stop)
                .await?;
        }
    }
    eprintln!(
        "e2e_server: stopped after serving {} requests",
        limit.served.load(Ordering::Relaxed)
    );
    Ok(())
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&arguments) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("e2e_server: run benches/e2e.sh for the end-to-end load");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: serving failed: {error}");
            ExitCode::FAILURE
        }
    }
}
