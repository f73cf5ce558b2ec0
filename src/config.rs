//! The builder, the presets, and the validated configuration shared by every clone of the service.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use http::header::{HeaderName, HeaderValue};
use http::{Method, StatusCode};

use crate::origin::{OriginMatcher, OriginPolicy, Predicate};
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

const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
const PREFLIGHT_VARY_WITH_PRIVATE_NETWORK: &str = "Origin, Access-Control-Request-Method, \
    Access-Control-Request-Headers, Access-Control-Request-Private-Network";

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
    origins: Vec<String>,
    predicate: Option<Predicate>,
    any_origin: bool,
    methods: Vec<String>,
    any_method: bool,
    headers: Vec<String>,
    any_header: bool,
    exposed: Vec<String>,
    expose_any: bool,
    credentials: bool,
    max_age: Option<Duration>,
    private_network: bool,
    preflight_status: StatusCode,
    rejection_status: StatusCode,
    catch_panic: bool,
    catch_errors: bool,
    /// A mistake found before `build`, in an environment variable, reported by `build`.
    pending_error: Option<ConfigError>,
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
    /// An entry is an exact origin (`https://app.example.com`, `http://127.0.0.1:8000`), a
    /// subdomain pattern (`https://*.example.com` matches `https://a.example.com` and
    /// `https://a.b.example.com` but neither `https://example.com` nor
    /// `https://evil-example.com`; a port matches only if written), or `null` for the opaque
    /// origin of sandboxed frames and `file:` pages. Exact origins are looked up in a hash set, so
    /// a long list costs no more per request than a short one.
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

    /// Allows every request header by answering a preflight with the headers it requested.
    ///
    /// The answer mirrors `Access-Control-Request-Headers` instead of sending `*`, because the
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
    /// name, so the layer lists the names of the response's headers instead, which costs one
    /// allocation per response.
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

    /// Sets how long a browser may cache a preflight answer (`Access-Control-Max-Age`, whole
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

    /// Answers Private Network Access preflights: when a preflight carries
    /// `Access-Control-Request-Private-Network: true`, an allowed answer adds
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

    /// Sets the status of an allowed preflight answer: 204 by default; any status in
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

    /// Sets the status of a rejected preflight answer: 403 by default; any status in
    /// `400..=599` is accepted. A rejected answer carries no CORS headers either way.
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
    /// headers in [`GRPC_WEB_EXPOSED_HEADERS`] exposed. Origins and credentials stay as they are,
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

/// The allowed methods, with the `Access-Control-Allow-Methods` value computed once.
#[derive(Clone, Debug)]
pub(crate) enum MethodPolicy {
    /// Every method; answered with `*`, or with the requested method under credentials.
    Any,
    List {
        methods: Vec<Method>,
        value: HeaderValue,
    },
}

/// The allowed request headers, with the `Access-Control-Allow-Headers` value computed once.
#[derive(Clone, Debug)]
pub(crate) enum HeaderPolicy {
    /// Every header; answered with the preflight's `Access-Control-Request-Headers`.
    Mirror,
    List {
        names: Vec<HeaderName>,
        value: Option<HeaderValue>,
    },
}

/// The exposed response headers.
#[derive(Clone, Debug)]
pub(crate) enum ExposePolicy {
    None,
    Value(HeaderValue),
    /// Every header under credentials: the response's own header names are listed.
    ResponseHeaderNames,
}

/// A validated configuration with every constant header value computed, shared by `Arc`.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) origins: OriginPolicy,
    pub(crate) methods: MethodPolicy,
    pub(crate) headers: HeaderPolicy,
    pub(crate) expose: ExposePolicy,
    pub(crate) credentials: bool,
    pub(crate) max_age: Option<HeaderValue>,
    pub(crate) private_network: bool,
    pub(crate) preflight_status: StatusCode,
    pub(crate) rejection_status: StatusCode,
    pub(crate) preflight_vary: HeaderValue,
    pub(crate) catch_panic: bool,
    pub(crate) catch_errors: bool,
}

impl Config {
    /// Tells whether the answer depends on the request's origin, which calls for `Vary: Origin`.
    pub(crate) fn varies_by_origin(&self) -> bool {
        !matches!(self.origins, OriginPolicy::Any)
    }
}

impl TryFrom<ForceCorsBuilder> for Config {
    type Error = ConfigError;

    fn try_from(mut builder: ForceCorsBuilder) -> Result<Self, ConfigError> {
        if let Some(error) = builder.pending_error.take() {
            return Err(error);
        }
        let origins = origin_policy(&builder)?;
        let methods = method_policy(&builder)?;
        let headers = header_policy(&builder)?;
        let expose = expose_policy(&builder)?;

        let preflight_status = builder.preflight_status;
        if !preflight_status.is_success() {
            return Err(ConfigError::PreflightStatusNotOk {
                status: preflight_status.as_u16(),
            });
        }
        let rejection_status = builder.rejection_status;
        if !(rejection_status.is_client_error() || rejection_status.is_server_error()) {
            return Err(ConfigError::RejectionStatusNotError {
                status: rejection_status.as_u16(),
            });
        }

        let preflight_vary = HeaderValue::from_static(if builder.private_network {
            PREFLIGHT_VARY_WITH_PRIVATE_NETWORK
        } else {
            PREFLIGHT_VARY
        });
        Ok(Self {
            origins,
            methods,
            headers,
            expose,
            credentials: builder.credentials,
            max_age: builder.max_age.map(|age| HeaderValue::from(age.as_secs())),
            private_network: builder.private_network,
            preflight_status,
            rejection_status,
            preflight_vary,
            catch_panic: builder.catch_panic,
            catch_errors: builder.catch_errors,
        })
    }
}

fn origin_policy(builder: &ForceCorsBuilder) -> Result<OriginPolicy, ConfigError> {
    let matcher = OriginMatcher::new(
        builder.origins.iter().map(String::as_str),
        builder.predicate.clone(),
    )?;
    if builder.any_origin {
        if builder.credentials {
            return Err(ConfigError::AnyOriginWithCredentials);
        }
        if !matcher.is_empty() {
            return Err(ConfigError::AnyOriginWithOriginList);
        }
        return Ok(OriginPolicy::Any);
    }
    if matcher.is_empty() {
        return Err(ConfigError::NoOriginAllowed);
    }
    Ok(OriginPolicy::Matching(matcher))
}

fn method_policy(builder: &ForceCorsBuilder) -> Result<MethodPolicy, ConfigError> {
    if builder.any_method {
        return Ok(MethodPolicy::Any);
    }
    let mut methods: Vec<Method> = Vec::with_capacity(builder.methods.len());
    for name in &builder.methods {
        let method = parse_method(name).ok_or_else(|| ConfigError::InvalidMethod {
            method: name.clone(),
        })?;
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    let value = join_header_value(methods.iter().map(Method::as_str));
    Ok(MethodPolicy::List { methods, value })
}

/// Parses a method the way a browser writes it in `Access-Control-Request-Method`: the six
/// methods the Fetch standard normalizes (`DELETE`, `GET`, `HEAD`, `OPTIONS`, `POST`, `PUT`) in
/// upper case, every other method exactly as written, since `patch` and `PATCH` differ.
fn parse_method(name: &str) -> Option<Method> {
    let name = name.trim();
    if name.is_empty() || name == "*" {
        return None;
    }
    const NORMALIZED: [Method; 6] = [
        Method::DELETE,
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::POST,
        Method::PUT,
    ];
    if let Some(method) = NORMALIZED
        .iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(name))
    {
        return Some(method.clone());
    }
    name.parse().ok()
}

fn header_policy(builder: &ForceCorsBuilder) -> Result<HeaderPolicy, ConfigError> {
    let names = header_names("allow_headers", &builder.headers)?;
    if builder.any_header {
        return Ok(HeaderPolicy::Mirror);
    }
    let value =
        (!names.is_empty()).then(|| join_header_value(names.iter().map(HeaderName::as_str)));
    Ok(HeaderPolicy::List { names, value })
}

fn expose_policy(builder: &ForceCorsBuilder) -> Result<ExposePolicy, ConfigError> {
    let names = header_names("expose_headers", &builder.exposed)?;
    Ok(match (builder.expose_any, builder.credentials) {
        (true, false) => ExposePolicy::Value(HeaderValue::from_static("*")),
        (true, true) => ExposePolicy::ResponseHeaderNames,
        (false, _) if names.is_empty() => ExposePolicy::None,
        (false, _) => ExposePolicy::Value(join_header_value(names.iter().map(HeaderName::as_str))),
    })
}

/// Iterates over the non-empty, trimmed entries of a comma-separated list.
fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
}

/// Parses header names, lowercased and without duplicates.
fn header_names(setting: &'static str, names: &[String]) -> Result<Vec<HeaderName>, ConfigError> {
    let mut parsed: Vec<HeaderName> = Vec::with_capacity(names.len());
    for name in names {
        if name.trim() == "*" {
            return Err(ConfigError::WildcardInHeaderList { setting });
        }
        let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            ConfigError::InvalidHeaderName {
                setting,
                name: name.clone(),
            }
        })?;
        if !parsed.contains(&header) {
            parsed.push(header);
        }
    }
    Ok(parsed)
}

/// Joins validated tokens into one `a, b, c` header value.
fn join_header_value<'a>(tokens: impl Iterator<Item = &'a str>) -> HeaderValue {
    let mut joined = BytesMut::new();
    for (index, token) in tokens.enumerate() {
        if index > 0 {
            joined.put_slice(b", ");
        }
        joined.put_slice(token.as_bytes());
    }
    // Method tokens and header names never contain bytes a header value rejects.
    HeaderValue::from_maybe_shared(joined.freeze()).unwrap_or_else(|_| HeaderValue::from_static(""))
}
