//! Runs the tonic_web example as a separate process and sends it gRPC-web calls over HTTP/1.1
//! with an `Origin` header, as a browser does. In fixed mode the status of a failed call
//! (`grpc-status`, `grpc-message`) is readable by the page: the response allows the origin and
//! exposes both headers. In broken mode the same response allows the origin but exposes
//! nothing, so a browser hides the status from the page.
//!
//! The calls are framed and encoded by hand, as the demo page does: a frame is a flags byte
//! (0 for a message, 0x80 for trailers), a big-endian 32-bit length and the payload.
//!
//! Needs the built example. Plain `cargo test` builds it, but `cargo test --test e2e_tonic_web`
//! does not, so run `cargo build --example tonic_web` before that.

mod common_process;

use std::process::Output;
use std::time::Duration;

use reqwest::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, AsHeaderName, CONTENT_TYPE, ORIGIN,
};
use reqwest::{Client, Method, Response, StatusCode, Version};

use common_process::{ExampleProcess, run_to_exit};

const EXAMPLE: &str = "tonic_web";
/// Passed with `--token`, so that an `UPLOAD_TOKEN` in the environment changes nothing.
const TOKEN: &str = "e2e-token";
const TOKEN_HEADER: &str = "x-upload-token-9368";
const UPLOAD_PATH: &str = "/upload.Uploader/Upload";
const GRPC_WEB_CONTENT_TYPE: &str = "application/grpc-web+proto";
/// The request headers a gRPC-web page sends with a token, as a browser lists them in a
/// preflight.
const PREFLIGHT_REQUEST_HEADERS: &str = "content-type,x-grpc-web,x-user-agent,x-upload-token-9368";
/// The size of the demo page's too-large case: twice the example's 1 MiB message limit.
const TOO_LARGE_BYTES: usize = 2 * 1024 * 1024;
/// `UNAUTHENTICATED`, for a missing or invalid token.
const UNAUTHENTICATED: &str = "16";
/// `OUT_OF_RANGE`, which tonic 0.14 sends for a message over its decoding limit.
const OUT_OF_RANGE: &str = "11";
const TRAILER_FLAG: u8 = 0x80;
/// How long the example may take to exit after `--help` or invalid arguments.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Bounds every request, so that a server that never responds fails the test instead of hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A running example and an HTTP/1.1 client, the protocol a browser uses for `http://` URLs.
struct Api {
    process: ExampleProcess,
    client: Client,
}

impl Api {
    fn start(args: &[&str]) -> Self {
        let process = ExampleProcess::spawn_on_loopback(EXAMPLE, TOKEN, args);
        // A proxy from the environment must not see requests meant for 127.0.0.1.
        let client = Client::builder()
            .no_proxy()
            .http1_only()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("failed to build the HTTP client");
        Self { process, client }
    }

    fn page_origin(&self) -> String {
        self.process.page_origin().to_owned()
    }

    /// Calls `Upload` with `data` from `origin`, with the token header when `token` is given.
    async fn upload(&self, origin: &str, token: Option<&str>, data: &[u8]) -> Response {
        let url = format!("{}{UPLOAD_PATH}", self.process.api());
        let mut request = self
            .client
            .post(&url)
            .header(ORIGIN, origin)
            .header(CONTENT_TYPE, GRPC_WEB_CONTENT_TYPE)
            .header("x-grpc-web", "1")
            .header("x-user-agent", "force-cors-e2e")
            .body(upload_request_frame(data));
        if let Some(token) = token {
            request = request.header(TOKEN_HEADER, token);
        }
        let response = request.send().await.unwrap_or_else(|error| {
            panic!(
                "POST {url} failed: {error:?}\nexample stderr:\n{}",
                self.process.stderr()
            )
        });
        assert_eq!(response.version(), Version::HTTP_11, "POST {url}");
        response
    }

    /// Sends the preflight a browser sends before a gRPC-web call with a token.
    async fn preflight(&self) -> Response {
        let url = format!("{}{UPLOAD_PATH}", self.process.api());
        self.client
            .request(Method::OPTIONS, &url)
            .header(ORIGIN, self.page_origin())
            .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(ACCESS_CONTROL_REQUEST_HEADERS, PREFLIGHT_REQUEST_HEADERS)
            .send()
            .await
            .unwrap_or_else(|error| panic!("OPTIONS {url} failed: {error:?}"))
    }
}

fn header(response: &Response, name: impl AsHeaderName) -> Option<&str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("header value is ASCII"))
}

/// Returns the header names listed in `Access-Control-Expose-Headers`, in lower case.
fn exposed_headers(response: &Response) -> Vec<String> {
    header(response, ACCESS_CONTROL_EXPOSE_HEADERS)
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

/// Asserts what a browser needs to show a page the status of a trailers-only response: the
/// origin allowed, and `grpc-status` and `grpc-message` exposed.
fn assert_status_readable(response: &Response) {
    assert_eq!(header(response, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    let exposed = exposed_headers(response);
    assert!(
        exposed.iter().any(|name| name == "grpc-status"),
        "exposed: {exposed:?}"
    );
    assert!(
        exposed.iter().any(|name| name == "grpc-message"),
        "exposed: {exposed:?}"
    );
}

fn encode_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Encodes `UploadRequest { bytes data = 1; }` in a message frame.
fn upload_request_frame(data: &[u8]) -> Vec<u8> {
    // Field 1 with wire type 2 (length-delimited).
    let mut message = vec![0x0a];
    encode_varint(data.len() as u64, &mut message);
    message.extend_from_slice(data);

    let mut frame = vec![0];
    let length = u32::try_from(message.len()).expect("message fits a frame");
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&message);
    frame
}

/// Splits a gRPC-web response body into `(flags, payload)` frames.
fn frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !body.is_empty() {
        assert!(body.len() >= 5, "truncated frame header: {body:?}");
        let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        assert!(body.len() >= 5 + length, "truncated frame: {body:?}");
        frames.push((body[0], body[5..5 + length].to_vec()));
        body = &body[5 + length..];
    }
    frames
}

fn decode_varint(bytes: &mut &[u8]) -> u64 {
    let mut value = 0;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().expect("truncated varint");
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return value;
        }
    }
    panic!("varint longer than 10 bytes");
}

/// Decodes `UploadReply { uint64 bytes = 1; string id = 2; }` into `(bytes, id)`.
fn decode_upload_reply(mut message: &[u8]) -> (u64, String) {
    let (mut bytes, mut id) = (0, String::new());
    while !message.is_empty() {
        let tag = decode_varint(&mut message);
        match tag {
            0x08 => bytes = decode_varint(&mut message),
            0x12 => {
                let length = decode_varint(&mut message) as usize;
                let (value, rest) = message.split_at(length);
                id = String::from_utf8(value.to_vec()).expect("id is UTF-8");
                message = rest;
            }
            other => panic!("unexpected tag {other:#x} in UploadReply"),
        }
    }
    (bytes, id)
}

/// Reads a successful call's body: its one reply message and the `grpc-status` of its trailer
/// frame.
async fn read_reply(response: Response) -> ((u64, String), String) {
    let body = response.bytes().await.expect("failed to read the body");
    let frames = frames(&body);
    assert_eq!(frames.len(), 2, "frames: {frames:?}");
    assert_eq!(frames[0].0, 0, "the first frame is a message");
    assert_eq!(
        frames[1].0, TRAILER_FLAG,
        "the last frame holds the trailers"
    );

    let trailers = String::from_utf8(frames[1].1.clone()).expect("trailers are ASCII");
    let status = trailers
        .split("\r\n")
        .find_map(|line| line.strip_prefix("grpc-status:"))
        .unwrap_or_else(|| panic!("no grpc-status in trailers {trailers:?}"))
        .trim()
        .to_owned();
    (decode_upload_reply(&frames[0].1), status)
}

/// Runs the example with arguments that make it exit without serving.
fn run_example(args: &[&str]) -> Output {
    run_to_exit(EXAMPLE, args, EXIT_TIMEOUT)
}

#[tokio::test]
async fn fixed_token_rejection_readable() {
    let api = Api::start(&["--mode", "fixed"]);
    let origin = api.page_origin();

    for token in [None, Some("not-the-token")] {
        let rejected = api.upload(&origin, token, b"hello").await;
        assert_eq!(rejected.status(), StatusCode::OK, "token {token:?}");
        assert_eq!(
            header(&rejected, CONTENT_TYPE),
            Some(GRPC_WEB_CONTENT_TYPE),
            "token {token:?}"
        );
        assert_eq!(
            header(&rejected, "grpc-status"),
            Some(UNAUTHENTICATED),
            "token {token:?}"
        );
        // gRPC percent-encodes grpc-message.
        assert_eq!(
            header(&rejected, "grpc-message"),
            Some("missing%20or%20invalid%20upload%20token"),
            "token {token:?}"
        );
        assert_status_readable(&rejected);
        assert!(
            rejected.bytes().await.unwrap().is_empty(),
            "token {token:?}"
        );
    }
}

#[tokio::test]
async fn fixed_too_large_readable() {
    let api = Api::start(&["--mode", "fixed"]);

    let data = vec![0; TOO_LARGE_BYTES];
    let rejected = api.upload(&api.page_origin(), Some(TOKEN), &data).await;

    assert_eq!(rejected.status(), StatusCode::OK);
    assert_eq!(header(&rejected, "grpc-status"), Some(OUT_OF_RANGE));
    let message = header(&rejected, "grpc-message").unwrap_or_default();
    assert!(
        message.contains("message%20length%20too%20large"),
        "grpc-message: {message:?}"
    );
    assert_status_readable(&rejected);
}

#[tokio::test]
async fn fixed_upload_reply_readable() {
    let api = Api::start(&["--mode", "fixed"]);

    let upload = api.upload(&api.page_origin(), Some(TOKEN), b"hello").await;

    assert_eq!(upload.status(), StatusCode::OK);
    assert_eq!(header(&upload, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    // The status travels in the trailer frame, so no grpc-status header is sent.
    assert_eq!(header(&upload, "grpc-status"), None);
    let (reply, status) = read_reply(upload).await;
    assert_eq!(reply, (5, "upload-1".to_owned()));
    assert_eq!(status, "0");
}

#[tokio::test]
async fn fixed_preflight_allows_grpc_web_headers() {
    let api = Api::start(&["--mode", "fixed"]);

    let preflight = api.preflight().await;

    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&preflight, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(
        header(&preflight, ACCESS_CONTROL_ALLOW_HEADERS),
        Some(PREFLIGHT_REQUEST_HEADERS)
    );
    let methods = header(&preflight, ACCESS_CONTROL_ALLOW_METHODS).unwrap_or_default();
    assert!(
        methods.split(',').any(|method| method.trim() == "POST"),
        "allow-methods: {methods:?}"
    );
}

/// tonic-web rejects an HTTP/1 request that is not gRPC-web with 400. The CORS layer around it
/// puts its headers on that response too.
#[tokio::test]
async fn fixed_non_grpc_web_request_carries_cors() {
    let api = Api::start(&["--mode", "fixed"]);
    let url = format!("{}/", api.process.api());

    let response = api
        .client
        .get(&url)
        .header(ORIGIN, api.page_origin())
        .send()
        .await
        .expect("GET failed");

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(header(&response, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
}

#[tokio::test]
async fn allow_list_echoes_origin_with_credentials() {
    let api = Api::start(&["--allow-origin", "http://allowed.test", "--credentials"]);

    let rejected = api.upload("http://allowed.test", None, b"hello").await;

    assert_eq!(header(&rejected, "grpc-status"), Some(UNAUTHENTICATED));
    assert_eq!(
        header(&rejected, ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("http://allowed.test")
    );
    assert_eq!(
        header(&rejected, ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("true")
    );
    assert_eq!(
        exposed_headers(&rejected),
        ["grpc-status", "grpc-message", "grpc-status-details-bin"]
    );

    let other = api.upload("http://other.test", None, b"hello").await;
    assert_eq!(header(&other, ACCESS_CONTROL_ALLOW_ORIGIN), None);
    assert_eq!(header(&other, ACCESS_CONTROL_EXPOSE_HEADERS), None);
}

/// In broken mode the origin is allowed, so `fetch` resolves with status 200, but nothing is
/// exposed: the browser hides `grpc-status` and `grpc-message` although the server sent them.
#[tokio::test]
async fn broken_error_status_hidden() {
    let api = Api::start(&["--mode", "broken"]);
    let origin = api.page_origin();

    let rejected = api.upload(&origin, None, b"hello").await;
    assert_eq!(rejected.status(), StatusCode::OK);
    assert_eq!(header(&rejected, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(header(&rejected, "grpc-status"), Some(UNAUTHENTICATED));
    assert_eq!(header(&rejected, ACCESS_CONTROL_EXPOSE_HEADERS), None);

    let data = vec![0; TOO_LARGE_BYTES];
    let too_large = api.upload(&origin, Some(TOKEN), &data).await;
    assert_eq!(too_large.status(), StatusCode::OK);
    assert_eq!(header(&too_large, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(header(&too_large, "grpc-status"), Some(OUT_OF_RANGE));
    assert_eq!(header(&too_large, ACCESS_CONTROL_EXPOSE_HEADERS), None);
}

/// Broken mode looks finished: preflights pass and a successful call is readable, because its
/// status travels in the body's trailer frame, which needs no exposed header.
#[tokio::test]
async fn broken_upload_still_works() {
    let api = Api::start(&["--mode", "broken"]);

    let preflight = api.preflight().await;
    assert!(
        preflight.status().is_success(),
        "status {}",
        preflight.status()
    );
    assert_eq!(header(&preflight, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));

    let upload = api.upload(&api.page_origin(), Some(TOKEN), b"hello").await;
    assert_eq!(upload.status(), StatusCode::OK);
    assert_eq!(header(&upload, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    let (reply, status) = read_reply(upload).await;
    assert_eq!(reply, (5, "upload-1".to_owned()));
    assert_eq!(status, "0");
}

#[test]
fn invalid_arguments_exit_2() {
    let cases: [&[&str]; 5] = [
        &["--mode", "sideways"],
        &["--no-such-flag"],
        // The gRPC-web example has no panicking route.
        &["--catch-panic"],
        &["--mode", "broken", "--allow-origin", "http://allowed.test"],
        &["--credentials"],
    ];

    for args in cases {
        let output = run_example(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: stderr {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: stderr {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: stderr {stderr}");
    }
}

#[test]
fn help_exits_0() {
    let output = run_example(&["--help"]);
    let stdout = String::from_utf8_lossy(&output.stdout);

    assert_eq!(output.status.code(), Some(0));
    assert!(stdout.contains("gRPC-web"), "help: {stdout}");
    assert!(!stdout.contains("--catch-panic"), "help: {stdout}");
}
