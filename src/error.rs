//! Configuration mistakes found by [`ForceCorsBuilder::build`](crate::ForceCorsBuilder::build).

use std::fmt;

/// A mistake in a CORS configuration, found when the layer is built.
///
/// Each variant's [`Display`](fmt::Display) names the bad value and the fix, so the message can be
/// shown to whoever wrote the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// An allowed origin is not of the form `scheme://host[:port]`.
    InvalidOrigin {
        /// The origin as it was configured.
        origin: String,
        /// The reason it is invalid.
        reason: &'static str,
    },
    /// A subdomain pattern is not of the form `scheme://*.domain[:port]`.
    InvalidOriginPattern {
        /// The pattern as it was configured.
        pattern: String,
        /// The reason it is invalid.
        reason: &'static str,
    },
    /// A bare `*` in the origin list.
    WildcardInOriginList,
    /// Every origin allowed together with credentials, which the Fetch standard forbids.
    AnyOriginWithCredentials,
    /// Every origin allowed and an origin list or predicate configured as well.
    AnyOriginWithOriginList,
    /// No origin is allowed, so the layer would reject every CORS request.
    NoOriginAllowed,
    /// A method that is not a valid HTTP method token.
    InvalidMethod {
        /// The method as it was configured.
        method: String,
    },
    /// A header name that is not a valid HTTP header name.
    InvalidHeaderName {
        /// The builder method that received it.
        setting: &'static str,
        /// The name as it was configured.
        name: String,
    },
    /// A `*` in a header list, where a browser reads it as a wildcard.
    WildcardInHeaderList {
        /// The builder method that received it.
        setting: &'static str,
    },
    /// A preflight status outside `200..=299`, which every browser treats as a failed preflight.
    PreflightStatusNotOk {
        /// The configured status code.
        status: u16,
    },
    /// An environment variable named as an origin list is not set, or not valid Unicode.
    EnvironmentVariableMissing {
        /// The variable's name.
        name: String,
        /// Whether the variable is set but not valid Unicode.
        not_unicode: bool,
    },
    /// An environment variable named as an origin list contains no origin.
    EnvironmentVariableEmpty {
        /// The variable's name.
        name: String,
    },
    /// An invalid entry in an origin list read from an environment variable.
    InEnvironmentVariable {
        /// The variable's name.
        name: String,
        /// The entry's position in the comma-separated list, from 1.
        position: usize,
        /// The reason the entry is invalid.
        error: Box<ConfigError>,
    },
    /// A rejection status outside `400..=599`.
    RejectionStatusNotError {
        /// The configured status code.
        status: u16,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidOrigin { origin, reason } => write!(
                f,
                "invalid allowed origin {origin:?}: {reason}; \
                 write it as scheme://host[:port], for example \"https://app.example.com\""
            ),
            Self::InvalidOriginPattern { pattern, reason } => write!(
                f,
                "invalid origin pattern {pattern:?}: {reason}; \
                 write it as scheme://*.domain[:port], for example \"https://*.example.com\""
            ),
            Self::WildcardInOriginList => f.write_str(
                "\"*\" in the origin list: call allow_any_origin() to allow every origin, \
                 or list the origins one by one",
            ),
            Self::AnyOriginWithCredentials => f.write_str(
                "allow_any_origin() together with allow_credentials(true): browsers reject \
                 \"Access-Control-Allow-Origin: *\" on credentialed requests; \
                 list the origins with allow_origins() instead",
            ),
            Self::AnyOriginWithOriginList => f.write_str(
                "allow_any_origin() together with an origin list or predicate: \
                 remove allow_any_origin() to allow only the listed origins, \
                 or remove the list",
            ),
            Self::NoOriginAllowed => f.write_str(
                "no origin is allowed: call allow_origins(), allow_origin_predicate() \
                 or allow_any_origin()",
            ),
            Self::InvalidMethod { method } if method.trim() == "*" => f.write_str(
                "\"*\" in allow_methods(): call allow_any_method() to allow every method",
            ),
            Self::InvalidMethod { method } => write!(
                f,
                "invalid method {method:?} in allow_methods(): \
                 a method is a token such as \"GET\" or \"PATCH\""
            ),
            Self::InvalidHeaderName { setting, name } => write!(
                f,
                "invalid header name {name:?} in {setting}(): \
                 a header name is a token such as \"x-upload-token\", without spaces or colons"
            ),
            Self::WildcardInHeaderList { setting } => {
                let any = if *setting == "expose_headers" {
                    "expose_any_header()"
                } else {
                    "allow_any_header()"
                };
                write!(
                    f,
                    "\"*\" in {setting}(): call {any} instead, or list the names"
                )
            }
            Self::PreflightStatusNotOk { status } => write!(
                f,
                "preflight status {status} is not in 200..=299: browsers treat any other status \
                 as a failed preflight; use 204 (the default) or 200"
            ),
            Self::EnvironmentVariableMissing {
                name,
                not_unicode: false,
            } => write!(
                f,
                "environment variable {name} is not set: set it to a comma-separated list of \
                 origins, for example \"https://app.example.com, https://*.example.org\""
            ),
            Self::EnvironmentVariableMissing {
                name,
                not_unicode: true,
            } => write!(
                f,
                "environment variable {name} is not valid Unicode: \
                 write the origins in ASCII, internationalized domain names as xn--..."
            ),
            Self::EnvironmentVariableEmpty { name } => write!(
                f,
                "environment variable {name} holds no origin: set it to a comma-separated list \
                 of origins, for example \"https://app.example.com, https://*.example.org\""
            ),
            Self::InEnvironmentVariable {
                name,
                position,
                error,
            } => {
                write!(f, "environment variable {name}, entry {position}: {error}")
            }
            Self::RejectionStatusNotError { status } => write!(
                f,
                "rejection status {status} is not in 400..=599: \
                 use 403 (the default) or another client or server error status"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
