//! A plain configuration struct for files and environment-driven setups (feature `serde`).

use std::time::Duration;

use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::{ConfigError, ForceCorsBuilder, ForceCorsLayer};

/// A CORS configuration as plain data, for TOML, JSON or any other `serde` format.
///
/// Every field is optional and defaults to the [`ForceCorsBuilder`] default; unknown fields are
/// rejected, so a misspelled setting is an error instead of being silently ignored.
/// [`build`](Self::build) runs the same checks as [`ForceCorsBuilder::build`].
///
/// ```
/// use force_cors::CorsConfig;
///
/// let config: CorsConfig = serde_json::from_str(r#"{
///     "allow_origins": ["https://app.example.com", "https://*.example.org"],
///     "allow_methods": ["GET", "POST", "DELETE"],
///     "allow_headers": ["content-type", "authorization"],
///     "expose_headers": ["x-upload-id"],
///     "allow_credentials": true,
///     "max_age_seconds": 3600
/// }"#).unwrap();
/// let layer = config.build()?;
/// # Ok::<(), force_cors::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CorsConfig {
    /// Exact origins, `scheme://*.domain` patterns and `null`, as in
    /// [`ForceCorsBuilder::allow_origins`].
    pub allow_origins: Vec<String>,
    /// Every origin, allowed with `*`.
    pub allow_any_origin: bool,
    /// The allowed methods; absent means `GET, HEAD, POST`.
    pub allow_methods: Option<Vec<String>>,
    /// Every method.
    pub allow_any_method: bool,
    /// The allowed request headers.
    pub allow_headers: Vec<String>,
    /// Every request header, mirrored from the preflight.
    pub allow_any_header: bool,
    /// The response headers page JavaScript may read.
    pub expose_headers: Vec<String>,
    /// Every response header.
    pub expose_any_header: bool,
    /// Cookies and HTTP authentication.
    pub allow_credentials: bool,
    /// `Access-Control-Max-Age` in seconds; absent means 600.
    pub max_age_seconds: Option<u64>,
    /// `Access-Control-Allow-Private-Network` on Private Network Access preflights.
    pub allow_private_network: bool,
    /// Status of an allowed preflight; absent means 204.
    pub preflight_status: Option<u16>,
    /// Status of a rejected preflight; absent means 403.
    pub rejection_status: Option<u16>,
    /// Inner panics turned into a 500 carrying the CORS headers.
    pub catch_panic: bool,
    /// Inner errors turned into a 500 carrying the CORS headers.
    pub catch_errors: bool,
}

impl CorsConfig {
    /// Converts the configuration into a builder, for settings that plain data cannot hold,
    /// such as an origin predicate.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::PreflightStatusNotOk`] or [`ConfigError::RejectionStatusNotError`]
    /// for a status number that is not an HTTP status at all.
    pub fn into_builder(self) -> Result<ForceCorsBuilder, ConfigError> {
        let mut builder = ForceCorsBuilder::new()
            .allow_origins(self.allow_origins)
            .allow_headers(self.allow_headers)
            .expose_headers(self.expose_headers)
            .allow_credentials(self.allow_credentials)
            .allow_private_network(self.allow_private_network)
            .catch_panic(self.catch_panic)
            .catch_errors(self.catch_errors);
        if self.allow_any_origin {
            builder = builder.allow_any_origin();
        }
        if let Some(methods) = self.allow_methods {
            builder = builder.allow_methods(methods);
        }
        if self.allow_any_method {
            builder = builder.allow_any_method();
        }
        if self.allow_any_header {
            builder = builder.allow_any_header();
        }
        if self.expose_any_header {
            builder = builder.expose_any_header();
        }
        if let Some(seconds) = self.max_age_seconds {
            builder = builder.max_age(Some(Duration::from_secs(seconds)));
        }
        if let Some(status) = self.preflight_status {
            let status = StatusCode::from_u16(status)
                .map_err(|_| ConfigError::PreflightStatusNotOk { status })?;
            builder = builder.preflight_status(status);
        }
        if let Some(status) = self.rejection_status {
            let status = StatusCode::from_u16(status)
                .map_err(|_| ConfigError::RejectionStatusNotError { status })?;
            builder = builder.rejection_status(status);
        }
        Ok(builder)
    }

    /// Checks the configuration and builds the layer.
    ///
    /// # Errors
    ///
    /// Returns the same [`ConfigError`]s as [`ForceCorsBuilder::build`].
    pub fn build(self) -> Result<ForceCorsLayer, ConfigError> {
        self.into_builder()?.build()
    }
}
