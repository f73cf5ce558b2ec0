//! With the `tracing` feature: one debug line per rejected preflight or disallowed origin, and
//! nothing for allowed requests.
#![cfg(feature = "tracing")]

use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};

use force_cors::ForceCorsLayer;
use http::{Method, Request, Response};
use tower::{Layer, ServiceExt, service_fn};
use tracing_subscriber::fmt::MakeWriter;

/// Collects formatted log lines in memory.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Lines;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Lines {
    fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

async fn send(layer: &ForceCorsLayer, request: Request<()>) {
    let service = layer.layer(service_fn(|_request: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    service.oneshot(request).await.unwrap();
}

#[tokio::test]
async fn debug_lines_only_for_rejections() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(lines.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let layer = ForceCorsLayer::builder()
        .allow_origins(["https://app.example"])
        .allow_headers(["content-type"])
        .build()
        .unwrap();

    let allowed = Request::post("/")
        .header("origin", "https://app.example")
        .body(())
        .unwrap();
    send(&layer, allowed).await;
    let allowed_preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(())
        .unwrap();
    send(&layer, allowed_preflight).await;
    send(&layer, Request::get("/").body(()).unwrap()).await;
    assert_eq!(lines.take(), Vec::<String>::new());

    let rejected = Request::builder()
        .method(Method::OPTIONS)
        .uri("/")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization")
        .body(())
        .unwrap();
    send(&layer, rejected).await;
    let logged = lines.take();
    assert_eq!(logged.len(), 1, "{logged:?}");
    let line = &logged[0];
    assert!(line.contains("DEBUG"), "{line}");
    assert!(line.contains("rejected CORS preflight"), "{line}");
    assert!(line.contains("origin=https://app.example"), "{line}");
    assert!(line.contains("method=PUT"), "{line}");
    assert!(line.contains("headers=authorization"), "{line}");
    assert!(
        line.contains("reason=\"requested method not allowed\""),
        "{line}"
    );

    let disallowed = Request::post("/")
        .header("origin", "https://evil.example")
        .body(())
        .unwrap();
    send(&layer, disallowed).await;
    let logged = lines.take();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged[0].contains("disallowed origin"), "{}", logged[0]);
    assert!(
        logged[0].contains("origin=https://evil.example"),
        "{}",
        logged[0]
    );
}
