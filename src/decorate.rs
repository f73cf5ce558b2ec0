//! Putting the CORS headers on a response from the inner service.

use bytes::{BufMut, BytesMut};
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS,
    HeaderMap, HeaderName, HeaderValue,
};

use crate::config::{Config, ExposePolicy};
use crate::header_list::merge_vary;

/// Replaces whatever CORS headers the inner service set with those of the configuration.
///
/// `allow_origin` is the `Access-Control-Allow-Origin` value, or `None` when the request's origin
/// is not allowed (or absent under an origin-dependent configuration); then the response leaves
/// without CORS headers, so nothing the inner service wrote can grant access.
pub(crate) fn decorate(
    config: &Config,
    headers: &mut HeaderMap,
    allow_origin: Option<HeaderValue>,
) {
    remove_access_control(headers);

    if let Some(allow_origin) = allow_origin {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if config.credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        insert_expose_headers(config, headers);
    }

    let vary_token = config.varies_by_origin().then_some("Origin");
    merge_vary(headers, vary_token);
}

/// Removes every `Access-Control-*` response header. The scan allocates nothing; removal, which
/// is rare, collects the names first.
fn remove_access_control(headers: &mut HeaderMap) {
    if headers.keys().any(is_access_control) {
        remove_found_access_control(headers);
    }
}

#[cold]
fn remove_found_access_control(headers: &mut HeaderMap) {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| is_access_control(name))
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}

fn is_access_control(name: &HeaderName) -> bool {
    name.as_str().starts_with("access-control-")
}

fn insert_expose_headers(config: &Config, headers: &mut HeaderMap) {
    match &config.expose {
        ExposePolicy::None => {}
        ExposePolicy::Value(value) => {
            headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, value.clone());
        }
        ExposePolicy::ResponseHeaderNames(configured) => {
            if let Some(value) = response_header_names(configured, headers) {
                headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, value);
            }
        }
    }
}

/// Lists the response's own header names, for exposing every header under credentials where a
/// browser reads `*` as a name.
fn response_header_names(configured: &[HeaderName], headers: &HeaderMap) -> Option<HeaderValue> {
    let from_response = headers
        .keys()
        .filter(|name| !is_access_control(name) && !configured.contains(name));
    let mut joined = BytesMut::new();
    for name in configured.iter().chain(from_response) {
        if !joined.is_empty() {
            joined.put_slice(b", ");
        }
        joined.put_slice(name.as_str().as_bytes());
    }
    if joined.is_empty() {
        return None;
    }
    HeaderValue::from_maybe_shared(joined.freeze()).ok()
}
