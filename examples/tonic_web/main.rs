//! A tonic gRPC upload service that browsers call with gRPC-web, and a demo page on another
//! origin that calls it with plain `fetch`.
//!
//! The service is `upload.Uploader` from `upload.proto` beside this file. An interceptor rejects
//! a call without the right `x-upload-token-9368` metadata with `UNAUTHENTICATED` (16), and
//! tonic 0.14 rejects a request message over 1 MiB with `OUT_OF_RANGE` (11). tonic sends such
//! an error as a trailers-only response: HTTP 200 with `grpc-status` and `grpc-message` in the
//! response headers and no body. A page reads those headers only when the response lists them
//! in `Access-Control-Expose-Headers`. A successful call carries its status in a trailer frame
//! at the end of the body instead, which needs no exposed header.
//!
//! `--mode fixed`, the default, serves
//!
//! ```text
//! Server::builder()
//!     .accept_http1(true)
//!     .layer(ForceCorsLayer::grpc_web()) // outermost
//!     .layer(ReadWholeBodyLayer)         // see read_body.rs
//!     .layer(GrpcWebLayer::new())
//!     .add_service(uploader)
//! ```
//!
//! In `Server::builder().layer(a).layer(b)`, `a` is the outermost layer, so `ForceCorsLayer`
//! responds to preflights before tonic-web sees them, and puts the CORS headers, with
//! `grpc-status` and `grpc-message` exposed, on every response. tonic-web rejects an HTTP/1
//! request that is not gRPC-web, a preflight included, with 400.
//!
//! `--mode broken` uses tower-http's `CorsLayer` in the same place, with any origin, `POST` and
//! any request header allowed but no exposed headers. That looks complete: preflights succeed
//! and a successful upload works. But for a failed call the page gets HTTP 200 without a
//! readable `grpc-status` or `grpc-message`, because the browser hides response headers that
//! are not exposed. The page cannot tell a missing token from a message that is too large, and
//! a gRPC-web client library, which reads the status from the same headers, sees none either.
//!
//! ```text
//! cargo run --example tonic_web -- --mode broken
//! cargo run --example tonic_web -- --help
//! ```
//!
//! `upload.rs` is generated from `upload.proto` and checked in, so that force-cors needs no
//! build script; `regenerate.sh` beside it updates it.

#[path = "../common/mod.rs"]
mod common;
mod read_body;
mod upload;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::Method;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};
use tonic_web::GrpcWebLayer;
use tower_http::cors::{Any, CorsLayer};

use common::{ApiKind, Args, MAX_UPLOAD_BYTES, Mode, UPLOAD_TOKEN_HEADER};
use read_body::ReadWholeBodyLayer;
use upload::uploader_server::{Uploader, UploaderServer};
use upload::{UploadReply, UploadRequest};

/// The upload service. It stores nothing and returns the size of the upload and a new id.
#[derive(Default)]
struct UploadService {
    next_upload_id: AtomicU64,
}

#[tonic::async_trait]
impl Uploader for UploadService {
    async fn upload(
        &self,
        request: Request<UploadRequest>,
    ) -> Result<Response<UploadReply>, Status> {
        let id = format!(
            "upload-{}",
            self.next_upload_id.fetch_add(1, Ordering::Relaxed) + 1
        );
        let bytes = request.into_inner().data.len() as u64;
        Ok(Response::new(UploadReply { bytes, id }))
    }
}

/// The interceptor that rejects a call whose `x-upload-token-9368` metadata does not contain
/// the upload token, with `UNAUTHENTICATED`. An interceptor runs before the request message is
/// decoded, so a call without the token is rejected whatever its size.
#[derive(Clone)]
struct TokenCheck {
    token: Arc<str>,
}

impl Interceptor for TokenCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let sent = request
            .metadata()
            .get(UPLOAD_TOKEN_HEADER.as_str())
            .map(|value| value.as_bytes());
        if sent == Some(self.token.as_bytes()) {
            Ok(request)
        } else {
            Err(Status::unauthenticated("missing or invalid upload token"))
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse_or_exit("tonic_web", ApiKind::GrpcWeb);
    let description = match args.mode {
        Mode::Fixed => common::describe_fixed_mode(&args, "ForceCorsLayer::grpc_web()"),
        Mode::Broken => "tower-http's CorsLayer exposes no headers, so grpc-status is hidden \
                         from the page"
            .to_owned(),
    };
    // Built before binding, so that an invalid configuration exits with 2 and prints no URLs.
    let cors = match args.mode {
        Mode::Fixed => Some(common::cors_or_exit(common::grpc_web_cors(&args))),
        Mode::Broken => None,
    };
    let (listener, page_server) =
        common::bind_and_serve_page(&args, ApiKind::GrpcWeb, &description).await;

    let uploader = uploader(Arc::from(args.token.as_str()));
    let incoming = TcpIncoming::from(listener);
    let server = Server::builder().accept_http1(true);
    let served = match cors {
        Some(cors) => {
            server
                .layer(cors)
                .layer(ReadWholeBodyLayer)
                .layer(GrpcWebLayer::new())
                .add_service(uploader)
                .serve_with_incoming_shutdown(incoming, common::ctrl_c())
                .await
        }
        None => {
            server
                .layer(broken_cors())
                .layer(ReadWholeBodyLayer)
                .layer(GrpcWebLayer::new())
                .add_service(uploader)
                .serve_with_incoming_shutdown(incoming, common::ctrl_c())
                .await
        }
    };
    // The page server stops on the same Ctrl-C. Waiting for it lets its last log lines out.
    let _ = page_server.await;
    match served {
        Ok(()) => {
            eprintln!("stopped after Ctrl-C");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: the gRPC server failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the upload service with its message size limit and token check.
fn uploader(token: Arc<str>) -> InterceptedService<UploaderServer<UploadService>, TokenCheck> {
    let server =
        UploaderServer::new(UploadService::default()).max_decoding_message_size(MAX_UPLOAD_BYTES);
    InterceptedService::new(server, TokenCheck { token })
}

/// Returns the CORS layer of broken mode: tower-http's `CorsLayer` with every origin and
/// request header allowed but no exposed headers, which hides `grpc-status` and
/// `grpc-message` of failed calls from the page.
fn broken_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST])
        .allow_headers(Any)
}
