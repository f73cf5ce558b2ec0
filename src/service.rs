//! The tower service.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::config::Config;
use crate::future::{LayerResponse, ResponseFuture};
use crate::preflight::{self, RequestOrigin};

/// A service that responds to CORS preflights itself and puts the CORS headers on every response of
/// the inner service, whatever its status.
///
/// Created by [`ForceCorsLayer`](crate::ForceCorsLayer). Cloning it clones the inner service and
/// an `Arc` of the configuration.
#[derive(Clone, Debug)]
pub struct ForceCors<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> ForceCors<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ForceCors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let origin = RequestOrigin::of(request.headers());

        if preflight::is_preflight(&request, &origin) {
            let response = preflight::respond(&self.config, request.headers(), origin);
            return ResponseFuture::own(response);
        }

        let allow_origin = preflight::allowed_origin(&self.config, origin);
        if allow_origin.is_none() {
            crate::log::disallowed_origin(origin);
        }

        // A service may panic in `call` itself, before it returns a future.
        let future = if self.config.catch_panic {
            let inner = &mut self.inner;
            match catch_unwind(AssertUnwindSafe(move || inner.call(request))) {
                Ok(future) => future,
                Err(panic) => {
                    crate::log::caught_panic(&*panic);
                    let response = LayerResponse::internal_error(&self.config, allow_origin);
                    return ResponseFuture::own(response);
                }
            }
        } else {
            self.inner.call(request)
        };
        ResponseFuture::inner(future, allow_origin, Arc::clone(&self.config))
    }
}
