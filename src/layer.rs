//! The tower layer.

use std::sync::Arc;

use tower_layer::Layer;

use crate::config::Config;
use crate::{ForceCors, ForceCorsBuilder};

/// A layer that puts CORS headers on every response and responds to preflights itself.
///
/// Add it as the outermost layer, outside authentication, body limits, routing and timeouts, so
/// that their rejections (401, 404, 413, ...) carry CORS headers too and page JavaScript can read
/// them.
///
/// ```
/// use force_cors::ForceCorsLayer;
/// use tower::ServiceBuilder;
///
/// let service = ServiceBuilder::new()
///     .layer(ForceCorsLayer::permissive())
///     .service_fn(|_request: http::Request<()>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     });
/// ```
#[derive(Clone, Debug)]
pub struct ForceCorsLayer {
    config: Arc<Config>,
}

impl ForceCorsLayer {
    /// Creates a layer that lets any page read every response: every origin (`null` included)
    /// allowed with `Access-Control-Allow-Origin: *`, every method, every requested header
    /// (mirrored, so that `Authorization` is covered too), every response header exposed, no
    /// credentials, and a preflight max-age of [`DEFAULT_MAX_AGE`](crate::DEFAULT_MAX_AGE).
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::permissive();
    /// ```
    #[must_use]
    pub fn permissive() -> Self {
        // Constant settings, checked by the test `permissive_preset_builds`.
        ForceCorsBuilder::permissive()
            .build()
            .expect("the permissive preset is a valid configuration")
    }

    /// Creates a layer for gRPC-web from any origin, without credentials; see
    /// [`ForceCorsBuilder::grpc_web`] for what it allows and exposes, and for adding an
    /// allow-list and credentials.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::grpc_web();
    /// ```
    #[must_use]
    pub fn grpc_web() -> Self {
        // Constant settings, checked by the test `grpc_web_preset_builds`.
        ForceCorsBuilder::new()
            .allow_any_origin()
            .grpc_web()
            .build()
            .expect("the gRPC-web preset is a valid configuration")
    }

    /// Starts a [`ForceCorsBuilder`] for an origin allow-list, credentials and other settings.
    ///
    /// ```
    /// use force_cors::ForceCorsLayer;
    ///
    /// let layer = ForceCorsLayer::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .build()?;
    /// # Ok::<(), force_cors::ConfigError>(())
    /// ```
    pub fn builder() -> ForceCorsBuilder {
        ForceCorsBuilder::new()
    }

    pub(crate) fn from_config(config: Arc<Config>) -> Self {
        Self { config }
    }
}

impl<S> Layer<S> for ForceCorsLayer {
    type Service = ForceCors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ForceCors::new(inner, Arc::clone(&self.config))
    }
}
