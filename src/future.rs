//! The response future of [`ForceCors`](crate::ForceCors).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{HeaderValue, Response};
use pin_project_lite::pin_project;

use crate::config::Config;
use crate::decorate::decorate;
use crate::preflight::PreflightAnswer;

pin_project! {
    /// The response future of [`ForceCors`](crate::ForceCors): either the layer's own preflight
    /// answer, or the inner service's response with the CORS headers put on it.
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
        Preflight {
            answer: Option<PreflightAnswer>,
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

    pub(crate) fn preflight(answer: PreflightAnswer) -> Self {
        Self {
            state: State::Preflight {
                answer: Some(answer),
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
                let mut response = ready!(future.poll(cx))?;
                decorate(config, response.headers_mut(), allow_origin.take());
                Poll::Ready(Ok(response))
            }
            StateProj::Preflight { answer } => {
                let answer = answer
                    .take()
                    .expect("ResponseFuture polled after completion");
                let mut response = Response::new(B::default());
                *response.status_mut() = answer.status;
                *response.headers_mut() = answer.headers;
                Poll::Ready(Ok(response))
            }
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
