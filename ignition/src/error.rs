//! Errors a driver returns, and how each becomes an HTTP status and a monitoring action.

use std::error::Error as StdError;

/// An error an operation can return: its `Display` is the contract's
/// `localizedMessage`, [`ApiError::status`] its HTTP status.
///
/// Implement it with `#[derive(ApiError)]` (or by hand) on your own error type to return
/// `Result<T, YourError>` from an operation.
pub trait ApiError: StdError + Send + Sync + 'static {
    /// The HTTP status of this error (400–599).
    fn status(&self) -> u16;

    /// Whether the task monitor polls again after `get_infrastructure_task` returned this
    /// error (as it does for a temporary error), instead of forgetting the task.
    fn retry(&self) -> bool {
        false
    }

    /// Extra fields for the JSON error body, beside `localizedMessage` and `status`.
    fn extra_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// Every status this type can produce, for the OpenAPI document.
    fn statuses() -> Vec<u16>
    where
        Self: Sized;
}

/// The errors of the seed's `infrastructure` module, with their statuses.
///
/// `Temporary` and `UnreachableDeploymentLocation` make the task monitor poll again
/// later; any other error from `get_infrastructure_task` makes it forget the task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfrastructureError {
    /// The template is not valid (create, find). 400.
    #[error("{0}")]
    InvalidTemplate(String),
    /// No infrastructure with that id (delete, query). 400.
    #[error("{0}")]
    NotFound(String),
    /// No request with that id (query). 400.
    #[error("{0}")]
    RequestNotFound(String),
    /// The deployment location cannot be reached. 400; monitoring retries.
    #[error("{0}")]
    UnreachableDeploymentLocation(String),
    /// The request cannot be handled at this time. 503; monitoring retries.
    #[error("{0}")]
    Temporary(String),
    /// Any other error. 500.
    #[error("{0}")]
    Internal(String),
}

impl ApiError for InfrastructureError {
    fn status(&self) -> u16 {
        match self {
            Self::InvalidTemplate(_)
            | Self::NotFound(_)
            | Self::RequestNotFound(_)
            | Self::UnreachableDeploymentLocation(_) => 400,
            Self::Temporary(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    fn retry(&self) -> bool {
        matches!(
            self,
            Self::Temporary(_) | Self::UnreachableDeploymentLocation(_)
        )
    }

    fn statuses() -> Vec<u16> {
        vec![400, 500, 503]
    }
}
