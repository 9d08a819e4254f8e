//! JSON responses, for every endpoint (the API, management), and the one place where an
//! error becomes the contract's JSON body `{"localizedMessage": "...", "status": N}` (plus
//! a custom error's extra fields): [`ErrorBody`].
//!
//! Driver errors, request parse failures, unknown paths, wrong methods and content types,
//! and driver panics all come through [`ErrorBody`]: no error ever leaves as plain text.

use ignition_openapi::ErrorResponse;
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::DriverError;

/// A JSON response with this status.
pub(crate) fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => Response::builder()
            .status(status)
            .content_type("application/json")
            .body(bytes),
        Err(err) => {
            tracing::error!(error = %err, "cannot serialise a response body");
            let fallback = ErrorResponse::new(500, "internal error: cannot serialise the response");
            // Two strings: an ErrorResponse always serialises.
            let bytes = serde_json::to_vec(&fallback).unwrap_or_default();
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("application/json")
                .body(bytes)
        }
    }
}

/// An error on its way to the client, as the contract's [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorBody(ErrorResponse);

impl ErrorBody {
    /// An error with a status and a message.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(ErrorResponse::new(status.as_u16(), message))
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
        let mut body = ErrorResponse::new(status.as_u16(), err.message);
        body.extra = err.extra;
        Self(body)
    }

    /// The body of an error raised by poem or poem-openapi (parsing, routing, ...).
    pub(crate) fn from_poem(err: &poem::Error) -> Self {
        Self::new(err.status(), err.to_string())
    }
}

impl IntoResponse for ErrorBody {
    fn into_response(self) -> Response {
        // Made from a StatusCode (`new`) or checked (`from_driver_error`).
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, &self.0)
    }
}

/// A route's endpoint (a [`poem::RouteMethod`]) whose 405 names the methods it allows
/// in an `Allow` header (RFC 9110 §15.5.6), with the contract's error JSON.
pub(crate) struct Allow<E> {
    inner: E,
    methods: &'static str,
}

impl<E> Allow<E> {
    /// `inner`, answering only `methods` (e.g. `"POST"`, `"GET, HEAD"`).
    pub(crate) fn new(methods: &'static str, inner: E) -> Self {
        Self { inner, methods }
    }
}

impl Allow<()> {
    /// The 405 of a route that answers only `methods`: the contract's error JSON and an
    /// `Allow` header.
    pub(crate) fn method_not_allowed(methods: &'static str) -> Response {
        let err = poem::Error::from(poem::error::MethodNotAllowedError);
        Self::refused(&err, methods)
    }

    fn refused(err: &poem::Error, methods: &'static str) -> Response {
        let mut response = ErrorBody::from_poem(err).into_response();
        response.headers_mut().insert(
            poem::http::header::ALLOW,
            poem::http::HeaderValue::from_static(methods),
        );
        response
    }
}

impl<E: Endpoint> Endpoint for Allow<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        match self.inner.call(request).await {
            Ok(output) => Ok(output.into_response()),
            Err(err) if err.status() == StatusCode::METHOD_NOT_ALLOWED => {
                Ok(Allow::<()>::refused(&err, self.methods))
            }
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, DriverError, InfrastructureError};

    impl ErrorBody {
        fn from_api_error<E: ApiError + Clone>(err: &E) -> Self {
            Self::from_driver_error(DriverError::from_api_error(err.clone()))
        }

        fn json(&self) -> serde_json::Value {
            serde_json::to_value(&self.0).unwrap()
        }

        fn status(&self) -> u16 {
            self.0.status
        }
    }

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
            let body = ErrorBody::from_api_error(&err).json();
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
        let body = ErrorBody::from_api_error(&Odd(409)).json();
        assert_eq!(
            body,
            serde_json::json!({"localizedMessage": "odd", "status": 409, "code": "X1"})
        );
    }

    #[test]
    fn a_status_outside_the_error_range_becomes_500() {
        assert_eq!(ErrorBody::from_api_error(&Odd(200)).status(), 500);
        assert_eq!(ErrorBody::from_api_error(&Odd(1000)).status(), 500);
    }
}
