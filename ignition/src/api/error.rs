//! The one place where an error becomes the contract's JSON body
//! `{"localizedMessage": "...", "status": N}` (plus a custom error's extra fields).
//!
//! Driver errors, request parse failures, unknown paths, wrong methods and content
//! types, and driver panics all come through here: no error ever leaves as plain text.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};

use crate::error::ApiError;

/// An error on its way to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBody {
    /// The HTTP status.
    pub status: StatusCode,
    /// The contract's `localizedMessage`.
    pub message: String,
    /// Extra fields a custom error adds to the body.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ErrorBody {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            extra: serde_json::Map::new(),
        }
    }

    /// The body of a driver's error. A status outside 400–599 is a bug in the error type;
    /// it is reported as 500 rather than sent as a success or an invalid status.
    pub fn from_api_error<E: ApiError + ?Sized>(err: &E) -> Self {
        let status = StatusCode::from_u16(err.status())
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or_else(|| {
                tracing::error!(
                    status = err.status(),
                    "error type reported a status outside 400-599; answering 500"
                );
                StatusCode::INTERNAL_SERVER_ERROR
            });
        Self {
            status,
            message: err.to_string(),
            extra: err.extra_fields(),
        }
    }

    /// The body of an error raised by poem or poem-openapi (parsing, routing, ...).
    pub fn from_poem(err: &poem::Error) -> Self {
        Self::new(err.status(), err.to_string())
    }

    /// The JSON body: `localizedMessage` and `status` first, then the extra fields
    /// (which cannot override those two).
    pub fn to_json(&self) -> serde_json::Value {
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

/// A JSON response with this status.
pub(crate) fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => Response::builder()
            .status(status)
            .content_type("application/json")
            .body(bytes),
        Err(err) => {
            tracing::error!(error = %err, "cannot serialise a response body");
            let fallback = r#"{"localizedMessage":"internal error: cannot serialise the response","status":500}"#;
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("application/json")
                .body(fallback)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InfrastructureError;

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

    #[derive(Debug, thiserror::Error)]
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
