//! Debug lines for rejected requests, written only with the `tracing` feature.
//!
//! Nothing is logged for an allowed request, so the hot path stays free of logging.

use std::any::Any;

use crate::preflight::{Rejection, RequestOrigin};

#[cfg(feature = "tracing")]
mod enabled {
    use super::*;
    use http::HeaderMap;
    use http::header::{ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD};

    /// Shows a header value as text, or its bytes when it is not visible ASCII.
    fn header_text(value: Option<&http::HeaderValue>) -> String {
        match value {
            None => String::from("(none)"),
            Some(value) => match value.to_str() {
                Ok(text) => text.to_owned(),
                Err(_) => format!("{:?}", value.as_bytes()),
            },
        }
    }

    fn origin_text(origin: RequestOrigin<'_>) -> String {
        match origin {
            RequestOrigin::Absent => String::from("(none)"),
            RequestOrigin::Single(value) => header_text(Some(value)),
            RequestOrigin::Several => String::from("(several Origin headers)"),
        }
    }

    pub(crate) fn rejected_preflight(
        rejection: Rejection,
        request: &HeaderMap,
        origin: RequestOrigin<'_>,
    ) {
        // The header list is built before the macro runs, so check first that anyone listens.
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return;
        }
        let headers: Vec<String> = request
            .get_all(ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .map(|line| header_text(Some(line)))
            .collect();
        tracing::debug!(
            origin = %origin_text(origin),
            method = %header_text(request.get(ACCESS_CONTROL_REQUEST_METHOD)),
            headers = %headers.join(", "),
            reason = rejection.reason(),
            "rejected CORS preflight"
        );
    }

    pub(crate) fn disallowed_origin(origin: RequestOrigin<'_>) {
        if !matches!(origin, RequestOrigin::Absent) {
            tracing::debug!(
                origin = %origin_text(origin),
                "CORS request from a disallowed origin; response sent without CORS headers"
            );
        }
    }

    pub(crate) fn caught_panic(panic: &(dyn Any + Send)) {
        tracing::error!(
            panic = panic_message(panic),
            "inner service panicked; sent 500 with CORS headers"
        );
    }

    /// Returns the message of a panic payload, when it is a string.
    fn panic_message(panic: &(dyn Any + Send)) -> &str {
        if let Some(message) = panic.downcast_ref::<&'static str>() {
            message
        } else if let Some(message) = panic.downcast_ref::<String>() {
            message
        } else {
            "(the panic payload is not a string)"
        }
    }

    pub(crate) fn caught_error<E>() {
        tracing::error!(
            error_type = std::any::type_name::<E>(),
            "inner service returned an error; sent 500 with CORS headers"
        );
    }
}

#[cfg(feature = "tracing")]
pub(crate) use enabled::*;

#[cfg(not(feature = "tracing"))]
pub(crate) fn rejected_preflight(
    _rejection: Rejection,
    _request: &http::HeaderMap,
    _origin: RequestOrigin<'_>,
) {
}

#[cfg(not(feature = "tracing"))]
pub(crate) fn disallowed_origin(_origin: RequestOrigin<'_>) {}

#[cfg(not(feature = "tracing"))]
pub(crate) fn caught_panic(_panic: &(dyn Any + Send)) {}

#[cfg(not(feature = "tracing"))]
pub(crate) fn caught_error<E>() {}
