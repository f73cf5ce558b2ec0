//! The builder and its presets.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use http::header::HeaderValue;

use crate::config::Config;
use crate::origin::{OriginMatcher, Predicate};
use crate::{ConfigError, ForceCorsLayer};

/// The `Access-Control-Max-Age` sent when none is configured: 10 minutes.
///
/// Browsers cap the value (Chromium at 2 hours, Firefox at 24 hours), and a long cache delays
/// configuration changes, so the default stays short.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

/// The response headers that the [gRPC-web preset](ForceCorsBuilder::grpc_web) exposes to page
/// JavaScript: the status and message of a gRPC-web call travel in them.
pub const GRPC_WEB_EXPOSED_HEADERS: [&str; 3] =
    ["grpc-status", "grpc-message", "grpc-status-details-bin"];

/// The request headers that the [gRPC-web preset](ForceCorsBuilder::grpc_web) allows by name.
pub const GRPC_WEB_ALLOWED_HEADERS: [&str; 4] =
    ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"];
/// A builder for a [`ForceCorsLayer`] with an origin allow-list, credentials and other settings.
///
/// Nothing is checked until [`build`](Self::build), which reports every mistake as a
/// [`ConfigError`]. The defaults: no origin allowed (one of the `allow_origin*` methods is
/// required), methods `GET, HEAD, POST`, no request headers beyond the CORS-safelisted ones, no
/// exposed headers, no credentials, a max-age of [`DEFAULT_MAX_AGE`], no Private Network Access,
/// preflight status 204, rejection status 403.
///
/// ```
/// use force_cors::ForceCorsLayer;
///
/// let layer = ForceCorsLayer::builder()
///     .allow_origins(["https://app.example.com", "https://*.preview.example.com"])
///     .allow_methods(["GET", "POST", "DELETE"])
///     .allow_headers(["content-type", "x-upload-token"])
///     .expose_headers(["x-upload-id"])
///     .allow_credentials(true)
///     .build()?;
/// # Ok::<(), force_cors::ConfigError>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ForceCorsBuilder {
    pub(crate) origins: Vec<String>,
    pub(crate) predicate: Option<Predicate>,
    pub(crate) any_origin: bool,
    pub(crate) methods: Vec<String>,
    pub(crate) any_method: bool,
    pub(crate) headers: Vec<String>,
    pub(crate) any_header: bool,
    pub(crate) exposed: Vec<String>,
    pub(crate) expose_any: bool,
    pub(crate) credentials: bool,
    pub(crate) max_age: Option<Duration>,
    pub(crate) private_network: bool,
    pub(crate) preflight_status: StatusCode,
    pub(crate) rejection_status: StatusCode,
    pub(crate) catch_panic: bool,
    pub(crate) catch_errors: bool,
    /// A mistake found before `build`, in an environment variable, reported by `build`.
    pub(crate) pending_error: Option<ConfigError>,
}

impl Default for ForceCorsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ForceCorsBuilder {
    /// Creates a builder with the defaults listed on [`ForceCorsBuilder`].
    ///
    /// ```
    /// use force_cors::{ConfigError, ForceCorsBuilder};
    ///
    /// // The defaults allow no origin, so one must be added before `build`.
    /// let empty = ForceCorsBuilder::new().build();
    /// assert_eq!(empty.unwrap_err(), ConfigError::NoOriginAllowed);
    /// ```
    pub fn new() -> Self {
        Self {
            origins: Vec::new(),
            predicate: None,
            any_origin: false,
            methods: vec!["GET".into(), "HEAD".into(), "POST".into()],
            any_method: false,
            headers: Vec::new(),
            any_header: false,
            exposed: Vec::new(),
            expose_any: false,
            credentials: false,
            max_age: Some(DEFAULT_MAX_AGE),
            private_network: false,
            preflight_status: StatusCode::NO_CONTENT,
            rejection_status: StatusCode::FORBIDDEN,
            catch_panic: false,
            catch_errors: false,
            pending_error: None,
        }
    }

    /// Creates a builder with the settings of [`ForceCorsLayer::permissive`], for adding
    /// settings on top, such as [`catch_panic`](Self::catch_panic).
    ///
    /// Every origin is allowed, so [`allow_credentials`](Self::allow_credentials) makes
    /// [`build`](Self::build) fail; start from [`new`](Self::new) for an allow-list.
    ///
    /// ```
    /// use force_cors::ForceCorsBuilder;
    ///
    /// let layer = ForceCorsBuilder::permissive().catch_panic(true).build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn permissive() -> Self {
        Self::new()
            .allow_any_origin()
            .allow_any_method()
            .allow_any_header()
            .expose_any_header()
    }

    /// Allows the given origins, adding to those already allowed.
    ///
    /// An entry is one of:
    ///
    /// - an exact origin (`https://app.example.com`, `http://127.0.0.1:8000`), looked up in a
    ///   hash set, so a long list costs no more per request than a short one. Scheme and host
    ///   are lower-cased, a default port is dropped and IPv6 addresses are compressed, as
    ///   browsers write them;
    /// - a subdomain pattern: `https://*.example.com` matches `https://a.example.com` and
    ///   `https://a.b.example.com` but neither `https://example.com` nor
    ///   `https://evil-example.com`, and a port matches only if written. A pattern over a public
    ///   suffix, such as `https://*.co.uk`, allows every site under it;
    /// - `null`, the opaque origin of sandboxed frames, `file:` pages and some redirects. Any
    ///   website can produce it with a sandboxed frame, so allowing `null` together with
    ///   credentials lets every website read credentialed responses.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_origins(["https://app.example.com", "https://*.example.org"])
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_origins<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.origins
            .extend(origins.into_iter().map(|o| o.as_ref().to_owned()));
        self
    }

    /// Allows the origins of a comma-separated list such as
    /// `"https://app.example.com, https://*.example.org"`, as read from a configuration file or a
    /// command line. Each entry is taken as by [`allow_origins`](Self::allow_origins); whitespace
    /// around entries and empty entries are ignored.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_origin_list("https://app.example.com, http://localhost:3000")
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_origin_list(self, list: &str) -> Self {
        self.allow_origins(split_list(list))
    }

    /// Allows the origins of a comma-separated list read from the environment variable `name`,
    /// as [`allow_origin_list`](Self::allow_origin_list) does.
    ///
    /// A missing variable, or an invalid entry, is reported by [`build`](Self::build) with the
    /// variable's name and the entry's position.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// # unsafe { std::env::set_var("CORS_ALLOWED_ORIGINS", "https://app.example.com") };
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_origins_from_env("CORS_ALLOWED_ORIGINS")
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_origins_from_env(mut self, name: &str) -> Self {
        let list = match std::env::var(name) {
            Ok(list) => list,
            Err(error) => {
                let unicode = matches!(error, std::env::VarError::NotUnicode(_));
                self.pending_error
                    .get_or_insert(ConfigError::EnvironmentVariableMissing {
                        name: name.to_owned(),
                        not_unicode: unicode,
                    });
                return self;
            }
        };
        if split_list(&list).next().is_none() {
            self.pending_error
                .get_or_insert(ConfigError::EnvironmentVariableEmpty {
                    name: name.to_owned(),
                });
            return self;
        }
        for (index, entry) in split_list(&list).enumerate() {
            if let Err(error) = OriginMatcher::new([entry], None) {
                self.pending_error
                    .get_or_insert(ConfigError::InEnvironmentVariable {
                        name: name.to_owned(),
                        position: index + 1,
                        error: Box::new(error),
                    });
                return self;
            }
        }
        self.allow_origin_list(&list)
    }

    /// Allows the origins for which `predicate` returns `true`, in addition to any list.
    ///
    /// The predicate receives the request's `Origin` header. It is not called for the opaque
    /// origin `null`, which is allowed only when listed in
    /// [`allow_origins`](Self::allow_origins).
    ///
    /// The predicate runs in the service's `call`, before the inner service, so a panic in it is
    /// not turned into a 500 by [`catch_panic`](Self::catch_panic).
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_origin_predicate(|origin| origin.as_bytes().ends_with(b".localhost:3000"))
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_origin_predicate<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&HeaderValue) -> bool + Send + Sync + 'static,
    {
        self.predicate = Some(Arc::new(predicate));
        self
    }

    /// Allows every origin, `null` included, with `Access-Control-Allow-Origin: *`.
    ///
    /// Cannot be combined with credentials or with an origin list.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder().allow_any_origin().build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_any_origin(mut self) -> Self {
        self.any_origin = true;
        self
    }

    /// Sets the methods a preflight may request (default `GET, HEAD, POST`), replacing the
    /// previous list.
    ///
    /// Browsers never preflight for the CORS-safelisted methods `GET`, `HEAD` and `POST` alone,
    /// and accept them in any preflight response, so those pass the preflight check even when not
    /// listed.
    ///
    /// Methods are compared case-sensitively, as browsers compare them. Browsers upper-case
    /// `delete`, `get`, `head`, `options`, `post` and `put`, and so does this list, but any other
    /// method is sent as the page wrote it: `fetch(url, { method: "patch" })` requests `patch`,
    /// which `PATCH` does not allow.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    /// use http::Method;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_any_origin()
    ///     .allow_methods([Method::GET, Method::PUT, Method::DELETE])
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_methods<I>(mut self, methods: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.methods = methods.into_iter().map(|m| m.as_ref().to_owned()).collect();
        self.any_method = false;
        self
    }

    /// Allows every method: sends `*`, or the requested method when credentials are on, because
    /// a browser then reads `*` as a method name.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder().allow_any_origin().allow_any_method().build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_any_method(mut self) -> Self {
        self.any_method = true;
        self
    }

    /// Allows the given request headers, adding to those already allowed.
    ///
    /// CORS-safelisted headers (`Accept`, `Accept-Language`, `Content-Language`, and
    /// `Content-Type` with a form or plain-text value) need no entry. `Content-Type:
    /// application/json` does, and so do `Authorization` and custom headers.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_any_origin()
    ///     .allow_headers(["content-type", "authorization"])
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_headers<I>(mut self, headers: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.headers
            .extend(headers.into_iter().map(|h| h.as_ref().to_owned()));
        self
    }

    /// Allows every request header by repeating, in the preflight response, the headers the
    /// preflight requested.
    ///
    /// The response mirrors `Access-Control-Request-Headers` instead of sending `*`, because the
    /// Fetch standard says `*` never covers `Authorization`.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder().allow_any_origin().allow_any_header().build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_any_header(mut self) -> Self {
        self.any_header = true;
        self
    }

    /// Lets page JavaScript read the given response headers, adding to those already exposed.
    ///
    /// Without this, a page reads only the CORS-safelisted response headers
    /// (`Cache-Control`, `Content-Language`, `Content-Length`, `Content-Type`, `Expires`,
    /// `Last-Modified`, `Pragma`).
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_any_origin()
    ///     .expose_headers(["x-upload-id", "x-request-id"])
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn expose_headers<I>(mut self, headers: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.exposed
            .extend(headers.into_iter().map(|h| h.as_ref().to_owned()));
        self
    }

    /// Lets page JavaScript read every response header.
    ///
    /// Sends `Access-Control-Expose-Headers: *`. With credentials a browser reads `*` as a header
    /// name, so the layer lists the names given to [`expose_headers`](Self::expose_headers) and
    /// those of the response's headers instead, which costs one allocation per response. Headers
    /// that the server adds after the layer has run, such as hyper's `date`, are not in that list.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder().allow_any_origin().expose_any_header().build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn expose_any_header(mut self) -> Self {
        self.expose_any = true;
        self
    }

    /// Lets the page send cookies and HTTP authentication and read the response
    /// (`Access-Control-Allow-Credentials: true`).
    ///
    /// Requires an origin list or predicate: the allowed origin is echoed and `Vary: Origin` set.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_credentials(true)
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// Sets how long a browser may cache a preflight response (`Access-Control-Max-Age`, whole
    /// seconds; default [`DEFAULT_MAX_AGE`]). `None` omits the header, so browsers use their own
    /// default (5 seconds in Chromium); `Some(Duration::ZERO)` disables caching.
    ///
    /// ```
    /// use std::time::Duration;
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_any_origin()
    ///     .max_age(Some(Duration::from_secs(3600)))
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// Responds to Private Network Access preflights: when a preflight carries
    /// `Access-Control-Request-Private-Network: true`, an allowed preflight's response adds
    /// `Access-Control-Allow-Private-Network: true`. Off by default, because it lets public
    /// websites call a server on a private network.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_private_network(true)
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn allow_private_network(mut self, allow: bool) -> Self {
        self.private_network = allow;
        self
    }

    /// Sets the status of the response to an allowed preflight: 204 by default; any status in
    /// `200..=299` is accepted (some old clients want 200).
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    /// use http::StatusCode;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_any_origin()
    ///     .preflight_status(StatusCode::OK)
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn preflight_status(mut self, status: StatusCode) -> Self {
        self.preflight_status = status;
        self
    }

    /// Sets the status of the response to a rejected preflight: 403 by default; any status in
    /// `400..=599` is accepted. That response carries no CORS headers either way.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    /// use http::StatusCode;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .rejection_status(StatusCode::BAD_REQUEST)
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn rejection_status(mut self, status: StatusCode) -> Self {
        self.rejection_status = status;
        self
    }

    /// Turns a panic in the inner service, in `call` or while its future is polled, into a
    /// `500 Internal Server Error` with the CORS headers and an empty body, instead of a dropped
    /// connection that a browser reports as a network error. Off by default.
    ///
    /// The panic message never reaches the response; with the `tracing` feature it is logged.
    /// Nothing is caught in a binary built with `panic = "abort"`, since the process ends first.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder().allow_any_origin().catch_panic(true).build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn catch_panic(mut self, catch: bool) -> Self {
        self.catch_panic = catch;
        self
    }

    /// Turns an `Err` from the inner service into a `500 Internal Server Error` with the CORS
    /// headers and an empty body. Off by default.
    ///
    /// Servers such as hyper close the connection when a service returns `Err`, and a browser
    /// then reports a network error. With this on, the page reads a 500 instead. With the
    /// `tracing` feature the error's type is logged (the error value has no `Display` bound).
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder().allow_any_origin().catch_errors(true).build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn catch_errors(mut self, catch: bool) -> Self {
        self.catch_errors = catch;
        self
    }

    /// Applies the gRPC-web settings: methods `POST, OPTIONS`, the request headers in
    /// [`GRPC_WEB_ALLOWED_HEADERS`] plus any header a preflight requests, and the response
    /// headers in [`GRPC_WEB_EXPOSED_HEADERS`] exposed. The method list is replaced, as
    /// [`allow_methods`](Self::allow_methods) does; header lists are added to. Origins and
    /// credentials stay as they are,
    /// so an allow-list and credentials can be added on top.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .grpc_web()
    ///     .allow_origins(["https://app.example.com"])
    ///     .allow_credentials(true)
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn grpc_web(self) -> Self {
        self.allow_methods(["POST", "OPTIONS"])
            .allow_headers(GRPC_WEB_ALLOWED_HEADERS)
            .allow_any_header()
            .expose_headers(GRPC_WEB_EXPOSED_HEADERS)
    }

    /// Checks the configuration and builds the layer.
    ///
    /// ```
    /// use force_cors::{ConfigError, ForceCorsLayer};
    ///
    /// let error = ForceCorsLayer::builder()
    ///     .allow_origins(["https://app.example.com/"])
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(error, ConfigError::InvalidOrigin { .. }));
    /// assert!(error.to_string().contains("trailing"));
    /// ```
    ///
    /// # Errors
    ///
    /// Returns the first [`ConfigError`] found: an invalid origin, pattern, method or header
    /// name, a `*` inside a list, every origin allowed together with credentials or a list, no
    /// origin allowed, or a status outside its range.
    pub fn build(self) -> Result<ForceCorsLayer, ConfigError> {
        Config::try_from(self).map(|config| ForceCorsLayer::from_config(Arc::new(config)))
    }
}

impl fmt::Debug for ForceCorsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForceCorsBuilder")
            .field("origins", &self.origins)
            .field(
                "predicate",
                &self.predicate.as_ref().map(|_| "Fn(&HeaderValue) -> bool"),
            )
            .field("any_origin", &self.any_origin)
            .field("methods", &self.methods)
            .field("any_method", &self.any_method)
            .field("headers", &self.headers)
            .field("any_header", &self.any_header)
            .field("exposed", &self.exposed)
            .field("expose_any", &self.expose_any)
            .field("credentials", &self.credentials)
            .field("max_age", &self.max_age)
            .field("private_network", &self.private_network)
            .field("preflight_status", &self.preflight_status)
            .field("rejection_status", &self.rejection_status)
            .field("catch_panic", &self.catch_panic)
            .field("catch_errors", &self.catch_errors)
            .field("pending_error", &self.pending_error)
            .finish()
    }
}

/// Iterates over the non-empty, trimmed entries of a comma-separated list.
fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
}
