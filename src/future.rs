//! The response future of [`ForceCors`](crate::ForceCors).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{HeaderMap, HeaderValue, Response, StatusCode};
use pin_project_lite::pin_project;

use crate::config::Config;
use crate::decorate::decorate;

/// A response the layer sends itself: a preflight response or the 500 for a caught panic or error.
/// Its body is `ResBody::default()`, so it needs no body type of its own.
#[derive(Debug)]
pub(crate) struct LayerResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
}

impl LayerResponse {
    /// Builds the decorated 500 that replaces a panic or an error of the inner service.
    pub(crate) fn internal_error(config: &Config, allow_origin: Option<HeaderValue>) -> Self {
        let mut headers = HeaderMap::new();
        decorate(config, &mut headers, allow_origin);
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            headers,
        }
    }

    fn into_response<B: Default>(self) -> Response<B> {
        let mut response = Response::new(B::default());
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

pin_project! {
    /// The response future of [`ForceCors`](crate::ForceCors): either a response of the layer's
    /// own, or the inner service's response with the CORS headers put on it.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner {
            #[pin]
            future: F,
            allow_origin: Option<HeaderValue>,
            config: Arc<Config>,
        },
        Own {
            response: Option<LayerResponse>,
        },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F, allow_origin: Option<HeaderValue>, config: Arc<Config>) -> Self {
        Self {
            state: State::Inner {
                future,
                allow_origin,
                config,
            },
        }
    }

    pub(crate) fn own(response: LayerResponse) -> Self {
        Self {
            state: State::Own {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner {
                future,
                allow_origin,
                config,
            } => {
                let polled = if config.catch_panic {
                    match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                        Ok(polled) => polled,
                        Err(panic) => {
                            crate::log::caught_panic(&*panic);
                            let response =
                                LayerResponse::internal_error(config, allow_origin.take());
                            return Poll::Ready(Ok(response.into_response()));
                        }
                    }
                } else {
                    future.poll(cx)
                };
                let mut response = match ready!(polled) {
                    Ok(response) => response,
                    Err(_) if config.catch_errors => {
                        crate::log::caught_error::<E>();
                        let response = LayerResponse::internal_error(config, allow_origin.take());
                        return Poll::Ready(Ok(response.into_response()));
                    }
                    Err(error) => return Poll::Ready(Err(error)),
                };
                decorate(config, response.headers_mut(), allow_origin.take());
                Poll::Ready(Ok(response))
            }
            StateProj::Own { response } => {
                let response = response
                    .take()
                    .expect("ResponseFuture polled after completion");
                Poll::Ready(Ok(response.into_response()))
            }
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
