//! Opt-in handling of inner panics and errors: a 500 with the CORS headers in place of a dropped
//! connection.

use std::convert::Infallible;
use std::future::Ready;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use force_cors::ForceCorsLayer;
use futures_util::FutureExt;
use http::{Request, Response, StatusCode};
use tower::{Layer, Service, ServiceExt, service_fn};

const ORIGIN: &str = "https://app.example";

fn cors_request() -> Request<()> {
    Request::post("/upload")
        .header("origin", ORIGIN)
        .body(())
        .unwrap()
}

fn catching() -> ForceCorsLayer {
    ForceCorsLayer::builder()
        .allow_origins([ORIGIN])
        .expose_headers(["x-upload-id"])
        .catch_panic(true)
        .catch_errors(true)
        .build()
        .unwrap()
}

#[track_caller]
fn assert_decorated_500(response: &Response<String>) {
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(
        response.headers()["access-control-expose-headers"],
        "x-upload-id"
    );
    assert_eq!(response.headers()["vary"], "Origin");
    assert_eq!(response.body(), "");
}

/// A service that panics in `call`, before returning a future.
#[derive(Clone)]
struct PanicsInCall;

impl Service<Request<()>> for PanicsInCall {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<()>) -> Self::Future {
        panic!("secret detail in call")
    }
}

#[tokio::test]
async fn panic_in_future_becomes_500() {
    let service = catching().layer(service_fn(|_request: Request<()>| async {
        if true {
            panic!("secret detail in future");
        }
        Ok::<_, Infallible>(Response::new(String::from("unreachable")))
    }));
    let response = service.oneshot(cors_request()).await.unwrap();
    assert_decorated_500(&response);
}

#[tokio::test]
async fn panic_in_call_becomes_500() {
    let response = catching()
        .layer(PanicsInCall)
        .oneshot(cors_request())
        .await
        .unwrap();
    assert_decorated_500(&response);
}

#[tokio::test]
async fn panic_propagates_by_default() {
    let layer = ForceCorsLayer::permissive();
    let call = layer.layer(PanicsInCall).oneshot(cors_request());
    let outcome = AssertUnwindSafe(call).catch_unwind().await;
    assert!(outcome.is_err(), "the panic should reach the caller");
}

#[tokio::test]
async fn error_becomes_500() {
    let service = catching().layer(service_fn(|_request: Request<()>| async {
        Err::<Response<String>, _>(std::io::Error::other("backend down"))
    }));
    let response = service.oneshot(cors_request()).await.unwrap();
    assert_decorated_500(&response);
}

#[tokio::test]
async fn error_propagates_by_default() {
    let service = ForceCorsLayer::permissive().layer(service_fn(|_request: Request<()>| async {
        Err::<Response<String>, _>(std::io::Error::other("backend down"))
    }));
    let error = service.oneshot(cors_request()).await.unwrap_err();
    assert_eq!(error.to_string(), "backend down");
}

#[tokio::test]
async fn disallowed_origin_500_has_no_allow_origin() {
    let service = catching().layer(service_fn(|_request: Request<()>| async {
        Err::<Response<String>, _>(std::io::Error::other("backend down"))
    }));
    let request = Request::get("/")
        .header("origin", "https://evil.example")
        .body(())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(response.headers()["vary"], "Origin");
}

#[tokio::test]
async fn successful_response_untouched_by_catching() {
    let service = catching().layer(service_fn(|_request: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::from("fine")))
    }));
    let response = service.oneshot(cors_request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "fine");
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
}
