//! JSON responses, for every endpoint (the API, its errors, management).

use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response};

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

impl<E: Endpoint> Endpoint for Allow<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        match self.inner.call(request).await {
            Ok(output) => Ok(output.into_response()),
            Err(err) if err.status() == StatusCode::METHOD_NOT_ALLOWED => {
                // The contract's error JSON (as `api::ErrorBody` writes it).
                let body = serde_json::json!({
                    "localizedMessage": err.to_string(),
                    "status": StatusCode::METHOD_NOT_ALLOWED.as_u16(),
                });
                let mut response = json_response(StatusCode::METHOD_NOT_ALLOWED, &body);
                response.headers_mut().insert(
                    poem::http::header::ALLOW,
                    poem::http::HeaderValue::from_static(self.methods),
                );
                Ok(response)
            }
            Err(err) => Err(err),
        }
    }
}
