//! A tower layer that puts CORS headers on **every** response.
//!
//! # The bug it fixes
//!
//! A page on one origin calls an API on another. The API's token check responds with `401` or its
//! body limit with `413`, but those layers run before the CORS layer, so their responses carry no
//! `Access-Control-Allow-Origin`. The browser then hides the response: page JavaScript sees
//! `TypeError: Failed to fetch` instead of the status, and the console blames CORS.
//!
//! # The fix
//!
//! Add [`ForceCorsLayer`] as the outermost layer. It responds to preflights itself, before any
//! authentication or routing can reject them, and puts the CORS headers on every response of the
//! inner service, whatever its status and whoever produced it:
//!
//! ```
//! use force_cors::ForceCorsLayer;
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // An inner service that rejects every request, as an auth layer would.
//! let api = ServiceBuilder::new()
//!     .layer(ForceCorsLayer::permissive())
//!     .service_fn(|_request: Request<()>| async {
//!         let mut response = Response::new(String::from("bad upload token"));
//!         *response.status_mut() = StatusCode::UNAUTHORIZED;
//!         Ok::<_, std::convert::Infallible>(response)
//!     });
//!
//! let request = Request::post("/upload").header("origin", "https://app.example").body(()).unwrap();
//! let response = api.oneshot(request).await.unwrap();
//!
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(response.headers()["access-control-allow-origin"], "*");
//! # }
//! ```
//!
//! For production, [`ForceCorsLayer::builder`] takes an origin allow-list, credentials, max-age
//! and exposed headers, and reports configuration mistakes from
//! [`build`](ForceCorsBuilder::build) as a [`ConfigError`], never as a panic at request time.
//!
//! # What the layer does, by request
//!
//! - **Preflight** (`OPTIONS` with `Origin` and `Access-Control-Request-Method`): handled by the
//!   layer, never passed on. Allowed: the preflight status (204) with the allow headers.
//!   Rejected (origin, method or a requested header not allowed): 403 without CORS headers.
//!   Both carry `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers`.
//! - **CORS request** (any other request with `Origin`): passed to the inner service. Every
//!   `Access-Control-*` header the inner service set is removed; for an allowed origin the
//!   configured ones are set, so there is exactly one `Access-Control-Allow-Origin`.
//! - **No `Origin`**: passed on. Under any-origin configurations the response gets the same
//!   headers as a CORS request (the response does not depend on the origin, and a cache may
//!   serve it to one).
//! - Whenever the response depends on the origin (lists, patterns, predicates), every response
//!   gets `Vary: Origin`, merged with the `Vary` tokens already there.
//!
//! # Ordering
//!
//! The layer must wrap everything that can respond early:
//!
//! - axum: `Router::layer` wraps every route and the fallback, with the layers added before it
//!   inside, so call `.layer(ForceCorsLayer::...)` last, after auth and body-limit layers.
//!   `route_layer` is too deep: the router's 404 and 405 miss it.
//! - tower: in `ServiceBuilder`, the first `.layer(...)` is the outermost.
//! - tonic: in `Server::builder().layer(a).layer(b)`, `a` is the outermost; put the CORS layer
//!   before tonic-web's layer, which rejects an HTTP/1 preflight with 400.

#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod config;
mod decorate;
mod error;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
mod file_config;
pub mod future;
mod header_list;
mod layer;
mod log;
mod origin;
mod preflight;
mod service;

pub use builder::{
    DEFAULT_MAX_AGE, ForceCorsBuilder, GRPC_WEB_ALLOWED_HEADERS, GRPC_WEB_EXPOSED_HEADERS,
};
pub use error::ConfigError;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use file_config::CorsConfig;
pub use layer::ForceCorsLayer;
pub use service::ForceCors;

/// The README's Rust code blocks, compiled and run as doctests except those marked `ignore`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
