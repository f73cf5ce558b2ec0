//! Heap allocations per request, counted by a global allocator.
//!
//! This binary contains a single test, and the allocator counts per thread, so that nothing else
//! running in the process is counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use force_cors::ForceCorsLayer;
use http::header::{
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, CONTENT_LENGTH, CONTENT_TYPE,
    HOST, HeaderMap, HeaderValue, ORIGIN,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use tower::{Layer, Service};

/// Counts the allocations and reallocations of the current thread.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_allocation() {
    // `try_with` fails only while the thread is being torn down; nothing is measured then.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        // SAFETY: forwarded unchanged, so the caller's guarantees hold for `System`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged, so the caller's guarantees hold for `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        // SAFETY: forwarded unchanged, so the caller's guarantees hold for `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

type Body = Full<Bytes>;

/// An inner service that returns 200 with `content-type` and `content-length`, as real handlers
/// do. Its first header insert allocates the response's header table, which a layer that adds
/// headers would otherwise have to allocate.
#[derive(Clone)]
struct Handler;

impl Service<Request<()>> for Handler {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<()>) -> Self::Future {
        let mut response = Response::new(Full::new(Bytes::from_static(b"{\"items\":[]}")));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("12"));
        ready(Ok(response))
    }
}

const ALLOWED_ORIGIN: &str = "https://app.example.com";

/// Builds requests whose header values share one `Bytes` buffer, as hyper's parser makes them;
/// cloning such a value increments a reference count instead of copying.
struct RequestFactory {
    host: HeaderValue,
    origin: HeaderValue,
    request_method: HeaderValue,
    request_headers: HeaderValue,
}

impl RequestFactory {
    fn new() -> Self {
        let fields = [
            "127.0.0.1:3000",
            ALLOWED_ORIGIN,
            "PUT",
            "content-type,authorization",
        ];
        let mut buffer = BytesMut::new();
        let ranges = fields.map(|field| {
            let start = buffer.len();
            buffer.extend_from_slice(field.as_bytes());
            start..buffer.len()
        });
        let buffer = buffer.freeze();
        let [host, origin, request_method, request_headers] = ranges.map(|range| {
            HeaderValue::from_maybe_shared(buffer.slice(range)).expect("valid header value")
        });
        Self {
            host,
            origin,
            request_method,
            request_headers,
        }
    }

    fn simple(&self) -> Request<()> {
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(HOST, self.host.clone());
        headers.insert(ORIGIN, self.origin.clone());
        let mut request = Request::new(());
        *request.headers_mut() = headers;
        request
    }

    fn preflight(&self) -> Request<()> {
        let mut request = self.simple();
        *request.method_mut() = Method::OPTIONS;
        let headers = request.headers_mut();
        headers.insert(ACCESS_CONTROL_REQUEST_METHOD, self.request_method.clone());
        headers.insert(ACCESS_CONTROL_REQUEST_HEADERS, self.request_headers.clone());
        request
    }
}

/// Calls `service` with `request` and returns the response with the allocations made from the
/// call until the response is ready. Building the request and dropping the response are not
/// counted.
fn count_call<S>(service: &mut S, request: Request<()>) -> (Response<Body>, u64)
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
    let mut context = Context::from_waker(Waker::noop());
    let before = ALLOCATIONS.with(Cell::get);
    assert!(matches!(
        service.poll_ready(&mut context),
        Poll::Ready(Ok(()))
    ));
    let mut future = pin!(service.call(request));
    let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut context) else {
        panic!("the response should be ready on the first poll");
    };
    let allocations = ALLOCATIONS.with(Cell::get) - before;
    (response, allocations)
}

/// Returns the allocations of the second of two identical calls, so that one-time
/// initialization in the first call is not counted.
fn steady_allocations<S>(service: &mut S, build: impl Fn() -> Request<()>) -> (Response<Body>, u64)
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
    drop(count_call(service, build()));
    count_call(service, build())
}

fn layers() -> Vec<(&'static str, ForceCorsLayer)> {
    let list = |count: usize| {
        let mut origins: Vec<String> = (1..count)
            .map(|index| format!("https://site{index}.example.org"))
            .collect();
        origins.push(ALLOWED_ORIGIN.to_owned());
        ForceCorsLayer::builder()
            .allow_origins(origins)
            .allow_methods(["GET", "POST", "PUT"])
            .allow_headers(["content-type", "authorization"])
            .build()
            .expect("valid configuration")
    };
    vec![
        ("permissive", ForceCorsLayer::permissive()),
        ("list of 3", list(3)),
        ("list of 100", list(100)),
    ]
}

/// A request through the layer allocates no more than the same request without it.
///
/// For a simple request, the baseline is the inner service's response, whose header table the
/// layer fills without growing it. A preflight never reaches the inner service, because the layer
/// builds its own response. So the fair baseline is what the inner service allocates when it
/// responds to the same `OPTIONS` request itself: one response with its header table.
#[test]
fn layer_adds_no_allocations() {
    let factory = RequestFactory::new();

    let (response, simple_baseline) = steady_allocations(&mut Handler, || factory.simple());
    assert_eq!(response.status(), StatusCode::OK);
    let (response, preflight_baseline) = steady_allocations(&mut Handler, || factory.preflight());
    assert_eq!(response.status(), StatusCode::OK);
    // The header table of the inner response: the index and the entries.
    assert_eq!(simple_baseline, 2, "baseline of a simple request");
    assert_eq!(preflight_baseline, 2, "baseline of a preflight");

    for (name, layer) in layers() {
        let mut service = layer.layer(Handler);

        let (response, allocations) = steady_allocations(&mut service, || factory.simple());
        assert_eq!(response.status(), StatusCode::OK, "{name}: simple status");
        assert!(
            response
                .headers()
                .contains_key("access-control-allow-origin"),
            "{name}: simple request should be allowed"
        );
        assert!(
            allocations <= simple_baseline,
            "{name}: a simple request made {allocations} allocations, \
             the inner service alone {simple_baseline}"
        );

        let (response, allocations) = steady_allocations(&mut service, || factory.preflight());
        assert_eq!(
            response.status(),
            StatusCode::NO_CONTENT,
            "{name}: preflight status"
        );
        assert!(
            allocations <= preflight_baseline,
            "{name}: a preflight made {allocations} allocations, \
             the inner service alone {preflight_baseline}"
        );
    }

    // A preflight listing 6,000 header names (over 40 KiB) costs no more allocations than a
    // short one: the names are compared in place and mirrored by sharing the request's bytes.
    let names: Vec<String> = (0..6000).map(|index| format!("x-h{index}")).collect();
    let oversized =
        HeaderValue::from_maybe_shared(Bytes::from(names.join(","))).expect("valid header value");
    let oversized_preflight = || {
        let mut request = factory.preflight();
        request
            .headers_mut()
            .insert(ACCESS_CONTROL_REQUEST_HEADERS, oversized.clone());
        request
    };
    for (name, layer) in layers() {
        let mut service = layer.layer(Handler);
        let (response, allocations) = steady_allocations(&mut service, oversized_preflight);
        let expected = if name == "permissive" {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(
            response.status(),
            expected,
            "{name}: oversized preflight status"
        );
        assert!(
            allocations <= preflight_baseline,
            "{name}: an oversized preflight made {allocations} allocations, \
             the inner service alone {preflight_baseline}"
        );
    }
}
