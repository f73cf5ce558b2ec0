//! Runs the hyper example as a separate process and checks, over real HTTP, that its 401 and 413
//! responses carry CORS headers in fixed mode and lack them in broken mode. The test bodies live
//! in `upload_api/mod.rs`, shared with the axum example, which serves the same API.
//!
//! Needs the built example. Plain `cargo test` builds it, but `cargo test --test e2e_hyper` does
//! not, so run `cargo build --example hyper` before that.

mod common_process;
mod upload_api;

upload_api_tests!("hyper");
