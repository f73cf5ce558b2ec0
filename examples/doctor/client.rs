//! A small HTTP/1.1 client that sends exactly the headers it is given, one connection per
//! request, never follows redirects, and distinguishes connection failures from HTTP responses.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Version};
use hyper::body::{Body, Frame, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::args::Target;

/// The maximum size of a response head, status line included: 256 KiB, the `kMaxHeaderBufSize`
/// of Chromium's `net/http/http_stream_parser.h`. Chromium fails a response whose head goes
/// past it with `ERR_RESPONSE_HEADERS_TOO_BIG`.
pub const MAX_RESPONSE_HEAD_BYTES: usize = 256 * 1024;

/// The maximum number of response headers, set so that [`MAX_RESPONSE_HEAD_BYTES`] always
/// applies first: the shortest header line that hyper's parser accepts, `a:` and a bare LF,
/// takes 3 bytes. Without this setting, hyper 1 rejects a response with more than 100 headers.
/// NOTE: hyper allocates this many header slots on each parse attempt, an estimated 5.6 MB on
/// 64-bit targets (64 bytes a slot), which suits a CLI that sends at most three requests.
const MAX_RESPONSE_HEADERS: usize = MAX_RESPONSE_HEAD_BYTES / 3;

/// A request to send: its method and headers, and the size of its body.
pub struct OutgoingRequest {
    pub method: String,
    /// The headers in the order they are sent, `Host` first.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body_bytes: Option<u64>,
}

impl OutgoingRequest {
    /// Creates a request with `Host` for `target` and the given headers. With a body, it also
    /// sets `Content-Length`, as a browser does for a string body.
    pub fn new(
        target: &Target,
        method: &str,
        headers: Vec<(HeaderName, HeaderValue)>,
        body_bytes: Option<u64>,
    ) -> Self {
        let mut all_headers = Vec::with_capacity(headers.len() + 2);
        // The host comes from a parsed URI, so it is always a valid header value.
        if let Ok(host) = HeaderValue::from_str(&target.host_header) {
            all_headers.push((HOST, host));
        }
        all_headers.extend(headers);
        if let Some(length) = body_bytes {
            all_headers.push((CONTENT_LENGTH, HeaderValue::from(length)));
        }
        Self {
            method: method.to_owned(),
            headers: all_headers,
            body_bytes,
        }
    }
}

/// The head of a response. The doctor never reads the body.
pub struct ResponseHead {
    pub version: Version,
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Whether the server closed the connection before the whole request body was sent.
    pub body_cut_short: bool,
}

/// A failure to get an HTTP response. None of these is a CORS problem.
#[derive(Debug)]
pub enum SendError {
    /// The host name did not resolve.
    Resolve { host: String, error: io::Error },
    /// Every address of the host refused the connection: nothing listens on the port.
    Refused { addresses: Vec<SocketAddr> },
    /// Name resolution or connecting took longer than the timeout.
    ConnectTimeout { host: String, timeout: Duration },
    /// Connecting failed for another reason, such as an unreachable network.
    Connect {
        address: SocketAddr,
        error: io::Error,
    },
    /// The connection was open, but no response head came within the timeout.
    ResponseTimeout { timeout: Duration },
    /// The server closed or reset the connection before a complete response head.
    NoResponse {
        error: String,
        body_bytes: Option<u64>,
    },
    /// The server's reply is not HTTP/1.x.
    InvalidResponse { error: String },
    /// The response head is larger than [`MAX_RESPONSE_HEAD_BYTES`].
    ResponseHeadTooLarge { max_bytes: usize },
    /// The request could not be built, for example for a method `http` rejects.
    InvalidRequest { error: String },
}

impl fmt::Display for SendError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resolve { host, error } => write!(formatter, "failed to resolve {host}: {error}"),
            Self::Refused { addresses } => {
                let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
                write!(formatter, "connection refused by {}", addresses.join(", "))
            }
            Self::ConnectTimeout { host, timeout } => write!(
                formatter,
                "connecting to {host} timed out after {} s",
                timeout.as_secs()
            ),
            Self::Connect { address, error } => {
                write!(formatter, "failed to connect to {address}: {error}")
            }
            Self::ResponseTimeout { timeout } => write!(
                formatter,
                "no response within {} s after connecting",
                timeout.as_secs()
            ),
            Self::NoResponse { error, .. } => {
                write!(formatter, "connection closed without a response: {error}")
            }
            Self::InvalidResponse { error } => write!(formatter, "invalid HTTP response: {error}"),
            Self::ResponseHeadTooLarge { max_bytes } => write!(
                formatter,
                "response head larger than the maximum of {max_bytes} bytes"
            ),
            Self::InvalidRequest { error } => write!(formatter, "invalid request: {error}"),
        }
    }
}

/// Sends `request` to `target` on a new connection and returns the response head.
///
/// `limit` bounds name resolution, each connection attempt, and the wait for the response head,
/// separately. The body is sent while the response is awaited, so a server that responds
/// early, as a body limit does, is seen.
pub async fn send(
    target: &Target,
    request: &OutgoingRequest,
    limit: Duration,
) -> Result<ResponseHead, SendError> {
    let stream = connect(target, limit).await?;
    let write_failed = Arc::new(AtomicBool::new(false));
    let stream = EarlyResponseStream {
        inner: stream,
        write_failed: Arc::clone(&write_failed),
    };
    // hyper 1.13's default maximum read buffer, about 408 KiB, is larger than the head limit,
    // so the head limit is the one that applies.
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .max_headers(MAX_RESPONSE_HEADERS)
        .max_header_size(MAX_RESPONSE_HEAD_BYTES)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|error| SendError::NoResponse {
            error: error_chain(&error),
            body_bytes: request.body_bytes,
        })?;
    // The connection task ends when the response and the sender are dropped, or with the
    // error that `send_request` also reports.
    tokio::spawn(connection);

    let http_request = build_request(target, request)?;
    let response = match timeout(limit, sender.send_request(http_request)).await {
        Err(_elapsed) => return Err(SendError::ResponseTimeout { timeout: limit }),
        // Checked before `is_parse`, which is also true for a head that is too large.
        Ok(Err(error)) if error.is_parse_too_large() => {
            return Err(SendError::ResponseHeadTooLarge {
                max_bytes: MAX_RESPONSE_HEAD_BYTES,
            });
        }
        Ok(Err(error)) if error.is_parse() => {
            return Err(SendError::InvalidResponse {
                error: error_chain(&error),
            });
        }
        Ok(Err(error)) => {
            return Err(SendError::NoResponse {
                error: error_chain(&error),
                body_bytes: request.body_bytes,
            });
        }
        Ok(Ok(response)) => response,
    };
    let (parts, _body) = response.into_parts();
    Ok(ResponseHead {
        version: parts.version,
        status: parts.status,
        headers: parts.headers,
        body_cut_short: write_failed.load(Ordering::Relaxed),
    })
}

/// Resolves the host and connects to its addresses in turn, as a browser falls back from one
/// address to the next.
async fn connect(target: &Target, limit: Duration) -> Result<TcpStream, SendError> {
    let host_port = (target.host.as_str(), target.port);
    let addresses: Vec<SocketAddr> = match timeout(limit, tokio::net::lookup_host(host_port)).await
    {
        Err(_elapsed) => {
            return Err(SendError::ConnectTimeout {
                host: target.host_header.clone(),
                timeout: limit,
            });
        }
        Ok(Err(error)) => {
            return Err(SendError::Resolve {
                host: target.host.clone(),
                error,
            });
        }
        Ok(Ok(addresses)) => addresses.collect(),
    };
    if addresses.is_empty() {
        return Err(SendError::Resolve {
            host: target.host.clone(),
            error: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
        });
    }

    let mut refused = Vec::new();
    let mut timed_out = false;
    let mut other_failure = None;
    for &address in &addresses {
        match timeout(limit, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(error)) if error.kind() == io::ErrorKind::ConnectionRefused => {
                refused.push(address);
            }
            Ok(Err(error)) if error.kind() == io::ErrorKind::TimedOut => timed_out = true,
            Ok(Err(error)) => other_failure = Some(SendError::Connect { address, error }),
            Err(_elapsed) => timed_out = true,
        }
    }
    if let Some(failure) = other_failure {
        return Err(failure);
    }
    if timed_out {
        return Err(SendError::ConnectTimeout {
            host: target.host_header.clone(),
            timeout: limit,
        });
    }
    Err(SendError::Refused { addresses: refused })
}

fn build_request(
    target: &Target,
    request: &OutgoingRequest,
) -> Result<Request<RepeatedBody>, SendError> {
    let invalid = |error: String| SendError::InvalidRequest { error };
    let method = Method::from_bytes(request.method.as_bytes())
        .map_err(|error| invalid(format!("method {:?}: {error}", request.method)))?;
    let mut http_request = Request::builder()
        .method(method)
        .uri(target.path_and_query.as_str())
        .body(RepeatedBody::new(request.body_bytes.unwrap_or(0)))
        .map_err(|error| invalid(error.to_string()))?;
    let headers = http_request.headers_mut();
    for (name, value) in &request.headers {
        headers.append(name.clone(), value.clone());
    }
    Ok(http_request)
}

/// Returns an error and its sources, joined with `: `.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A TCP stream that keeps reading after the peer stopped reading the request.
///
/// A server that rejects a request early, as a body limit does with 413, sends its response and
/// closes the connection with the rest of the body unread, so writing the body fails with a
/// broken pipe or a reset. Chromium then still reads the response (`ShouldTryReadingOnUploadError`
/// in its `net/http/http_stream_parser.cc`), so the page gets the 413. To do the same, this
/// stream reports such write errors as success and discards the rest of the body, which lets
/// hyper go on to read the response.
struct EarlyResponseStream {
    inner: TcpStream,
    write_failed: Arc<AtomicBool>,
}

impl EarlyResponseStream {
    /// Turns a write error that means "the peer stopped reading" into a write of `length`
    /// discarded bytes.
    fn discard_if_peer_gone(
        &self,
        result: Poll<io::Result<usize>>,
        length: usize,
    ) -> Poll<io::Result<usize>> {
        match result {
            Poll::Ready(Err(error)) if is_peer_gone(&error) => {
                self.write_failed.store(true, Ordering::Relaxed);
                Poll::Ready(Ok(length))
            }
            other => other,
        }
    }
}

fn is_peer_gone(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

impl AsyncRead for EarlyResponseStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(context, buffer)
    }
}

impl AsyncWrite for EarlyResponseStream {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        let stream = self.get_mut();
        if stream.write_failed.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(buffer.len()));
        }
        let result = Pin::new(&mut stream.inner).poll_write(context, buffer);
        stream.discard_if_peer_gone(result, buffer.len())
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let stream = self.get_mut();
        let length = buffers.iter().map(|buffer| buffer.len()).sum();
        if stream.write_failed.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(length));
        }
        let result = Pin::new(&mut stream.inner).poll_write_vectored(context, buffers);
        stream.discard_if_peer_gone(result, length)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stream = self.get_mut();
        if stream.write_failed.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(()));
        }
        let result = Pin::new(&mut stream.inner).poll_flush(context);
        stream
            .discard_if_peer_gone(result.map_ok(|()| 0), 0)
            .map_ok(|_| ())
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stream = self.get_mut();
        if stream.write_failed.load(Ordering::Relaxed) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut stream.inner).poll_shutdown(context)
    }
}

/// A body of `remaining` bytes of `x`, as `"x".repeat(n)` gives in JavaScript, sent in 64 KiB
/// chunks so that a large body never sits in memory at once.
pub struct RepeatedBody {
    remaining: u64,
    chunk: Bytes,
}

impl RepeatedBody {
    const CHUNK_BYTES: usize = 64 * 1024;

    fn new(length: u64) -> Self {
        let chunk_length = usize::try_from(length)
            .unwrap_or(Self::CHUNK_BYTES)
            .min(Self::CHUNK_BYTES);
        Self {
            remaining: length,
            chunk: Bytes::from(vec![b'x'; chunk_length]),
        }
    }
}

impl Body for RepeatedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let body = self.get_mut();
        if body.remaining == 0 {
            return Poll::Ready(None);
        }
        let length = usize::try_from(body.remaining)
            .unwrap_or(usize::MAX)
            .min(body.chunk.len());
        body.remaining -= length as u64;
        Poll::Ready(Some(Ok(Frame::data(body.chunk.slice(..length)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
