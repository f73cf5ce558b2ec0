//! Runs the hyper example as a separate process and checks, over real HTTP, that its 401 and 413
//! responses carry CORS headers in fixed mode and lack them in broken mode. The test bodies live
//! in `upload_api/mod.rs`, shared with the axum example, which serves the same API.
//!
//! Needs the built example. Plain `cargo test` builds it, but `cargo test --test e2e_hyper` does
//! not, so run `cargo build --example hyper` before that.

mod common_process;
mod upload_api;

const EXAMPLE: &str = "hyper";

#[tokio::test]
async fn fixed_rejections_carry_cors() {
    upload_api::fixed_rejections_carry_cors(EXAMPLE).await;
}

#[tokio::test]
async fn fixed_upload_exposes_headers() {
    upload_api::fixed_upload_exposes_headers(EXAMPLE).await;
}

#[tokio::test]
async fn fixed_upload_accepts_exactly_limit() {
    upload_api::fixed_upload_accepts_exactly_limit(EXAMPLE).await;
}

#[tokio::test]
async fn fixed_preflight_allows_token_header() {
    upload_api::fixed_preflight_allows_token_header(EXAMPLE).await;
}

#[tokio::test]
async fn fixed_other_routes_carry_cors() {
    upload_api::fixed_other_routes_carry_cors(EXAMPLE).await;
}

#[tokio::test]
async fn panic_closes_connection() {
    upload_api::panic_closes_connection(EXAMPLE).await;
}

#[tokio::test]
async fn catch_panic_answers_500() {
    upload_api::catch_panic_answers_500(EXAMPLE).await;
}

#[tokio::test]
async fn broken_catch_panic_500_lacks_cors() {
    upload_api::broken_catch_panic_500_lacks_cors(EXAMPLE).await;
}

#[tokio::test]
async fn broken_rejections_lack_cors() {
    upload_api::broken_rejections_lack_cors(EXAMPLE).await;
}

#[tokio::test]
async fn broken_preflight_passes_token_check() {
    upload_api::broken_preflight_passes_token_check(EXAMPLE).await;
}

#[tokio::test]
async fn allow_list_echoes_origin_with_credentials() {
    upload_api::allow_list_echoes_origin_with_credentials(EXAMPLE).await;
}

#[tokio::test]
async fn allow_list_skips_other_origin() {
    upload_api::allow_list_skips_other_origin(EXAMPLE).await;
}

#[test]
fn invalid_arguments_exit_2() {
    upload_api::invalid_arguments_exit_2(EXAMPLE);
}

#[test]
fn help_exits_0() {
    upload_api::help_exits_0(EXAMPLE);
}
