//! A layer that reads the whole request body before the gRPC service runs.
//!
//! tonic rejects a message over its size limit as soon as it reads the message's 5-byte
//! header, and responds with HTTP 200 and `grpc-status` while the browser is still sending the
//! body. hyper then closes the connection with the rest of the body unread, and the kernel
//! resets it. Chromium 156 reads such an early response when its status is 4xx or 5xx, but for
//! a 2xx response it reported `TypeError: Failed to fetch` in about half of the tries with the
//! demo page's 2 MiB message, in either mode. Reading the whole body first makes every response
//! leave after the upload has finished, so the page gets tonic's status every time.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tonic::body::Body;
use tower::{Layer, Service, ServiceExt};

/// The largest request body read: 4 MiB, twice the demo page's too-large message. A larger body
/// gets 413 Payload Too Large, which browsers read even while still sending.
pub const MAX_BODY_BYTES: usize = 4 * 1_048_576;

/// A layer that makes [`ReadWholeBody`] services.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadWholeBodyLayer;

impl<S> Layer<S> for ReadWholeBodyLayer {
    type Service = ReadWholeBody<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReadWholeBody { inner }
    }
}

/// A service that reads the whole request body, up to [`MAX_BODY_BYTES`], then calls the inner
/// service with it.
#[derive(Clone, Debug)]
pub struct ReadWholeBody<S> {
    inner: S,
}

impl<S> Service<Request<Body>> for ReadWholeBody<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        // The inner service's readiness is awaited in `call`, once the body has been read.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(error) if error.is::<LengthLimitError>() => {
                    return Ok(empty_response(StatusCode::PAYLOAD_TOO_LARGE));
                }
                // The client stopped sending the body.
                Err(_) => return Ok(empty_response(StatusCode::BAD_REQUEST)),
            };
            let request = Request::from_parts(parts, Body::new(Full::new(bytes)));
            inner.oneshot(request).await
        })
    }
}

fn empty_response(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}
