//! JSON responses, for every endpoint (the API, its errors, management).

use poem::http::StatusCode;
use poem::Response;

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
