//! Errors a driver returns, and how each becomes an HTTP status and a monitoring action.

use ignition_macros::ApiError;

/// An error an operation can return: its `Display` is the contract's
/// `localizedMessage`, [`ApiError::status`] its HTTP status.
///
/// Implement it with [`#[derive(ApiError)]`](macro@crate::ApiError) (or by hand) on your
/// own error type to return `Result<T, YourError>` from an operation.
#[diagnostic::on_unimplemented(
    message = "the error type `{Self}` does not implement `ApiError`",
    label = "an operation's error type must implement `ApiError`",
    note = "derive it: `#[derive(ApiError)]` with `#[api_error(status = N)]` on each variant, \
            or return `InfrastructureError` (`#[vim_driver]`) or `ResourceDriverError` \
            (`#[resource_driver]`)"
)]
pub trait ApiError: std::error::Error + Send + Sync + 'static {
    /// The HTTP status of this error (400–599).
    fn status(&self) -> u16;

    /// Whether the task monitor polls again after `get_infrastructure_task` or
    /// `get_lifecycle_execution` returned this error (as it does for a temporary error),
    /// instead of forgetting the task (an infrastructure task) or ending it FAILED (a
    /// lifecycle execution).
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

/// An operation's error with its type erased: what the HTTP answer and the task monitor
/// need of it. The generated driver impl converts the author's `E: ApiError` into this
/// inside its method bodies, so `E` never appears in a public signature (an author's
/// private error type is fine). Not an API: reachable through `ignition::__private`.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverError {
    /// The HTTP status (400–599; anything else is reported as 500).
    pub(crate) status: u16,
    /// The `localizedMessage` (the error's `Display`).
    pub(crate) message: String,
    /// Extra fields of the JSON body.
    pub(crate) extra: serde_json::Map<String, serde_json::Value>,
    /// Whether monitoring polls again after this error.
    pub(crate) retry: bool,
    /// Whether it is a `RequestNotFound` (of `InfrastructureError` or
    /// `ResourceDriverError`): monitoring of an execution forgets the request instead of
    /// ending it FAILED, as the Python framework did.
    pub(crate) request_not_found: bool,
}

impl DriverError {
    /// Erases `err`.
    pub fn from_api_error<E: ApiError>(err: E) -> Self {
        let any: &dyn std::any::Any = &err;
        let request_not_found = matches!(
            any.downcast_ref(),
            Some(ResourceDriverError::RequestNotFound(_))
        ) || matches!(
            any.downcast_ref(),
            Some(InfrastructureError::RequestNotFound(_))
        );
        Self {
            status: err.status(),
            message: err.to_string(),
            extra: err.extra_fields(),
            retry: err.retry(),
            request_not_found,
        }
    }

    /// A temporary error of the framework's own (503, retried): e.g. a call past its
    /// time limit.
    pub(crate) fn temporary(message: impl Into<String>) -> Self {
        Self::framework(503, true, message.into())
    }

    /// An internal error of the framework's own (500, not retried).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::framework(500, false, message.into())
    }

    fn framework(status: u16, retry: bool, message: String) -> Self {
        Self {
            status,
            message,
            extra: serde_json::Map::new(),
            retry,
            request_not_found: false,
        }
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DriverError {}

/// The errors of the seed's `infrastructure` module, with their statuses.
///
/// `Temporary` and `UnreachableDeploymentLocation` make the task monitor poll again
/// later; any other error from `get_infrastructure_task` makes it forget the task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, ApiError)]
pub enum InfrastructureError {
    /// The template is not valid (create, find). 400.
    #[error("{0}")]
    #[api_error(status = 400)]
    InvalidTemplate(String),
    /// No infrastructure with that id (delete, query). 400.
    #[error("{0}")]
    #[api_error(status = 400)]
    NotFound(String),
    /// No request with that id (query). 400.
    #[error("{0}")]
    #[api_error(status = 400)]
    RequestNotFound(String),
    /// The deployment location cannot be reached. 400; monitoring retries.
    #[error("{0}")]
    #[api_error(status = 400, retry)]
    UnreachableDeploymentLocation(String),
    /// The request cannot be handled at this time. 503; monitoring retries.
    #[error("{0}")]
    #[api_error(status = 503, retry)]
    Temporary(String),
    /// Any other error. 500.
    #[error("{0}")]
    #[api_error(status = 500)]
    Internal(String),
}

/// The errors of a resource driver (the Python framework's `ignition.service.resourcedriver`
/// exceptions, 3.x), with their statuses.
///
/// During monitoring (`get_lifecycle_execution`): `Temporary` and
/// `UnreachableDeploymentLocation` make the monitor poll again later; `RequestNotFound`
/// makes it forget the request (no event, as in Python: another replica may have handled
/// it); any other error ends the execution with a FAILED event (`INTERNAL_ERROR` and the
/// error's message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, ApiError)]
#[non_exhaustive]
pub enum ResourceDriverError {
    /// The driver files are not valid (a missing or unreadable file, a bad archive). 400.
    #[error("{0}")]
    #[api_error(status = 400)]
    InvalidDriverFiles(String),
    /// The driver has nothing to run for this lifecycle name. 400.
    #[error("{0}")]
    #[api_error(status = 400)]
    InvalidLifecycleName(String),
    /// The request is not valid (e.g. a missing property). 400.
    #[error("{0}")]
    #[api_error(status = 400)]
    InvalidRequest(String),
    /// No request with that id (a poll): monitoring forgets it, no event. 400.
    #[error("{0}")]
    #[api_error(status = 400)]
    RequestNotFound(String),
    /// The infrastructure the request names does not exist. 400.
    #[error("{0}")]
    #[api_error(status = 400)]
    InfrastructureNotFound(String),
    /// The deployment location cannot be reached. 400; monitoring retries.
    #[error("{0}")]
    #[api_error(status = 400, retry)]
    UnreachableDeploymentLocation(String),
    /// The request cannot be handled at this time. 503; monitoring retries.
    #[error("{0}")]
    #[api_error(status = 503, retry)]
    Temporary(String),
    /// Any other error. 500.
    #[error("{0}")]
    #[api_error(status = 500)]
    Internal(String),
}

/// A deployment location whose properties do not fit the driver's type
/// ([`DeploymentLocation::properties_as`](crate::models::DeploymentLocation::properties_as))
/// is a bad request: 400, naming the location and the property.
///
/// It becomes `InvalidTemplate`, the variant for a request that cannot be carried out as
/// given (400, not retried): a poll with such a location forgets the task instead of
/// retrying it forever, which `UnreachableDeploymentLocation` would do.
impl From<ignition_openapi::PropertiesError> for InfrastructureError {
    fn from(err: ignition_openapi::PropertiesError) -> Self {
        InfrastructureError::InvalidTemplate(err.to_string())
    }
}

/// A deployment location whose properties do not fit the driver's type
/// ([`DeploymentLocation::properties_as`](crate::models::DeploymentLocation::properties_as))
/// is an `InvalidRequest`: 400, naming the location and the property; during monitoring
/// it ends the execution (FAILED), never retried.
impl From<ignition_openapi::PropertiesError> for ResourceDriverError {
    fn from(err: ignition_openapi::PropertiesError) -> Self {
        ResourceDriverError::InvalidRequest(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> [(InfrastructureError, u16, bool); 6] {
        let m = || "m".to_string();
        [
            (InfrastructureError::InvalidTemplate(m()), 400, false),
            (InfrastructureError::NotFound(m()), 400, false),
            (InfrastructureError::RequestNotFound(m()), 400, false),
            (
                InfrastructureError::UnreachableDeploymentLocation(m()),
                400,
                true,
            ),
            (InfrastructureError::Temporary(m()), 503, true),
            (InfrastructureError::Internal(m()), 500, false),
        ]
    }

    #[test]
    fn each_variant_has_its_status_and_retry() {
        for (err, status, retry) in all() {
            assert_eq!(err.status(), status, "{err:?}");
            assert_eq!(err.retry(), retry, "{err:?}");
            assert!(err.extra_fields().is_empty(), "{err:?}");
        }
    }

    #[test]
    fn only_request_not_found_is_marked_as_such_when_erased() {
        for (err, _, _) in all() {
            let expected = matches!(err, InfrastructureError::RequestNotFound(_));
            assert_eq!(
                DriverError::from_api_error(err.clone()).request_not_found,
                expected,
                "{err:?}"
            );
        }
        let erased = DriverError::from_api_error(ResourceDriverError::RequestNotFound("r".into()));
        assert!(erased.request_not_found);
        assert!(
            !DriverError::from_api_error(ResourceDriverError::Internal("r".into()))
                .request_not_found
        );
    }

    #[test]
    fn statuses_lists_each_status_once_in_order() {
        assert_eq!(InfrastructureError::statuses(), [400, 500, 503]);
    }
}

#[cfg(test)]
mod resource_driver_error_tests {
    use super::*;

    #[test]
    fn each_variant_has_its_status_and_retry() {
        let m = || "m".to_string();
        let cases = [
            (ResourceDriverError::InvalidDriverFiles(m()), 400, false),
            (ResourceDriverError::InvalidLifecycleName(m()), 400, false),
            (ResourceDriverError::InvalidRequest(m()), 400, false),
            (ResourceDriverError::RequestNotFound(m()), 400, false),
            (ResourceDriverError::InfrastructureNotFound(m()), 400, false),
            (
                ResourceDriverError::UnreachableDeploymentLocation(m()),
                400,
                true,
            ),
            (ResourceDriverError::Temporary(m()), 503, true),
            (ResourceDriverError::Internal(m()), 500, false),
        ];
        for (err, status, retry) in cases {
            assert_eq!((err.status(), err.retry()), (status, retry), "{err:?}");
        }
        assert_eq!(ResourceDriverError::statuses(), [400, 500, 503]);
    }
}

#[cfg(test)]
mod properties_error_tests {
    use super::*;
    use crate::models::DeploymentLocation;

    #[derive(Debug, serde::Deserialize)]
    struct Needs {
        #[allow(dead_code)]
        os_api_url: String,
    }

    fn read<E: From<ignition_openapi::PropertiesError>>() -> Result<Needs, E> {
        Ok(DeploymentLocation::new("dl-9").properties_as::<Needs>()?)
    }

    #[test]
    fn a_bad_location_is_a_400_that_is_not_retried() {
        let message = "deployment location 'dl-9': property 'os_api_url' is missing";
        let err = read::<InfrastructureError>().unwrap_err();
        assert_eq!(err, InfrastructureError::InvalidTemplate(message.into()));
        assert_eq!((err.status(), err.retry()), (400, false));
        let err = read::<ResourceDriverError>().unwrap_err();
        assert_eq!(err, ResourceDriverError::InvalidRequest(message.into()));
        assert_eq!((err.status(), err.retry()), (400, false));
    }
}
