//! The one place where an error becomes the contract's JSON body
//! `{"localizedMessage": "...", "status": N}` (plus a custom error's extra fields).
//!
//! Driver errors, request parse failures, unknown paths, wrong methods and content
//! types, and driver panics all come through here: no error ever leaves as plain text.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};

use crate::error::DriverError;
use crate::response::json_response;

/// An error on its way to the client.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorBody {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The contract's `localizedMessage`.
    pub(crate) message: String,
    /// Extra fields a custom error adds to the body.
    pub(crate) extra: serde_json::Map<String, serde_json::Value>,
}

impl ErrorBody {
    /// An error with a status and a message.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            extra: serde_json::Map::new(),
        }
    }

    /// The body of a driver's error. A status outside 400–599 is a bug in the error type;
    /// it is reported as 500 rather than sent as a success or an invalid status.
    pub(crate) fn from_driver_error(err: DriverError) -> Self {
        let status = StatusCode::from_u16(err.status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or_else(|| {
                tracing::error!(
                    status = err.status,
                    "error type reported a status outside 400-599; answering 500"
                );
                StatusCode::INTERNAL_SERVER_ERROR
            });
        Self {
            status,
            message: err.message,
            extra: err.extra,
        }
    }

    /// The body of an `ApiError`.
    #[cfg(test)]
    fn from_api_error<E: crate::error::ApiError + Clone>(err: &E) -> Self {
        Self::from_driver_error(DriverError::from_api_error(err.clone()))
    }

    /// The body of an error raised by poem or poem-openapi (parsing, routing, ...).
    pub(crate) fn from_poem(err: &poem::Error) -> Self {
        Self::new(err.status(), err.to_string())
    }

    /// The JSON body: `localizedMessage` and `status` first, then the extra fields
    /// (which cannot override those two).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("localizedMessage".into(), self.message.clone().into());
        body.insert("status".into(), self.status.as_u16().into());
        for (key, value) in &self.extra {
            body.entry(key.clone()).or_insert_with(|| value.clone());
        }
        serde_json::Value::Object(body)
    }
}

impl IntoResponse for ErrorBody {
    fn into_response(self) -> Response {
        json_response(self.status, &self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, InfrastructureError};

    #[test]
    fn every_infrastructure_error_has_its_status() {
        let cases = [
            (InfrastructureError::InvalidTemplate("t".into()), 400),
            (InfrastructureError::NotFound("t".into()), 400),
            (InfrastructureError::RequestNotFound("t".into()), 400),
            (
                InfrastructureError::UnreachableDeploymentLocation("t".into()),
                400,
            ),
            (InfrastructureError::Temporary("t".into()), 503),
            (InfrastructureError::Internal("t".into()), 500),
        ];
        for (err, status) in cases {
            let body = ErrorBody::from_api_error(&err).to_json();
            assert_eq!(
                body,
                serde_json::json!({"localizedMessage": "t", "status": status}),
                "{err:?}"
            );
        }
    }

    #[derive(Debug, Clone, thiserror::Error)]
    #[error("odd")]
    struct Odd(u16);
    impl ApiError for Odd {
        fn status(&self) -> u16 {
            self.0
        }
        fn extra_fields(&self) -> serde_json::Map<String, serde_json::Value> {
            let mut m = serde_json::Map::new();
            m.insert("status".into(), 1.into());
            m.insert("code".into(), "X1".into());
            m
        }
        fn statuses() -> Vec<u16> {
            vec![]
        }
    }

    #[test]
    fn extra_fields_are_added_but_never_override() {
        let body = ErrorBody::from_api_error(&Odd(409)).to_json();
        assert_eq!(
            body,
            serde_json::json!({"localizedMessage": "odd", "status": 409, "code": "X1"})
        );
    }

    #[test]
    fn a_status_outside_the_error_range_becomes_500() {
        assert_eq!(
            ErrorBody::from_api_error(&Odd(200)).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            ErrorBody::from_api_error(&Odd(1000)).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
