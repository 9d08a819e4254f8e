//! Request bodies and operation responses as poem-openapi sees them.
//!
//! Bodies are parsed with serde (through `serde_path_to_error`, so a failure names the
//! field); schemas come from `ignition_openapi::schema`. Responses list, per operation,
//! the success status and every error status the driver's error type can produce.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::time::Duration;

use poem::http::StatusCode;
use poem::{IntoResponse, Request, RequestBody, Response};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::driver::{ResourceDriver, VimDriver};
use crate::models::{
    CreateInfrastructureResponse, DeleteInfrastructureResponse, FindInfrastructureResponse,
    FindReferenceResponse, InfrastructureTask, LifecycleExecuteResponse,
};
use crate::operations::Operation;
use crate::response::{json_response, ErrorBody};
use crate::service::ServiceError;

const JSON: &str = "application/json";

/// A JSON request body of type `T`, parsed with serde, of at most the request's
/// [`BodyLimit`] bytes.
pub(crate) struct ContractJson<T>(pub(crate) T);

/// `application.max_body_size` and `application.body_read_timeout`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit {
    /// Largest body read, in bytes.
    pub(crate) max: u64,
    /// Longest the whole body may take to arrive.
    pub(crate) timeout: Duration,
}

impl<T: Type + DeserializeOwned + Send> Payload for ContractJson<T> {
    const CONTENT_TYPE: &'static str = JSON;

    fn check_content_type(content_type: &str) -> bool {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        essence.eq_ignore_ascii_case(JSON)
            || (essence.len() > 5 && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Send> ParsePayload for ContractJson<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Self::parse(
            request,
            body.take()?,
            BodyLimit {
                max: u64::MAX,
                timeout: Duration::MAX,
            },
        )
        .await
    }
}

impl<T: Type + DeserializeOwned + Send> ContractJson<T> {
    /// Reads (at most `limit` bytes) and parses the body of `request`.
    pub(crate) async fn parse(
        request: &Request,
        body: poem::Body,
        limit: BodyLimit,
    ) -> poem::Result<Self> {
        let bytes = read_limited(request, body, limit).await?;
        parse_body(&bytes).map(ContractJson).map_err(|message| {
            tracing::debug!(path = %request.uri().path(), %message, "request rejected");
            bad_request(message)
        })
    }
}

poem_openapi::impl_apirequest_for_payload!(ContractJson<T>, T: Type + DeserializeOwned + Send);

/// Reads a body of at most `limit.max` bytes within `limit.timeout`: a declared
/// `Content-Length` over the size is refused before anything is read, and a chunked body
/// as soon as it passes it (413 either way); a body still arriving after the timeout is
/// answered 408 (and its connection closed). A body that arrives as one chunk (a small
/// one, read with its header) is kept as it is, not copied.
async fn read_limited(request: &Request, body: poem::Body, limit: BodyLimit) -> poem::Result<Body> {
    use futures_util::StreamExt;

    let BodyLimit { max, timeout } = limit;
    let too_large = || {
        poem::Error::from_string(
            format!(
                "the request body is larger than {} (`application.max_body_size`)",
                crate::config::ByteSize(max)
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    };
    let declared = request
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(too_large());
    }
    let mut received: u64 = 0;
    let read = async {
        let mut chunks = std::pin::pin!(body.into_bytes_stream());
        let mut read = Body::Empty;
        while let Some(chunk) = chunks.next().await {
            let chunk =
                chunk.map_err(|err| bad_request(format!("cannot read the request body: {err}")))?;
            received += chunk.len() as u64;
            if received > max {
                return Err(too_large());
            }
            read = match read {
                Body::Empty => Body::One(chunk),
                Body::One(first) => {
                    let capacity = declared.unwrap_or(0).min(max).min(1 << 20) as usize;
                    let mut all = Vec::with_capacity(capacity.max(first.len() + chunk.len()));
                    all.extend_from_slice(&first);
                    all.extend_from_slice(&chunk);
                    Body::Many(all)
                }
                Body::Many(mut all) => {
                    all.extend_from_slice(&chunk);
                    Body::Many(all)
                }
            };
        }
        Ok(read)
    };
    match crate::util::within(timeout, read).await {
        Ok(read) => read,
        Err(_) => {
            tracing::debug!(path = %request.uri().path(), received, ?timeout, "request body too slow; answered 408");
            Err(poem::Error::from_string(
                format!(
                    "the request body did not arrive within {timeout:?} (`application.body_read_timeout`); {received} bytes received"
                ),
                StatusCode::REQUEST_TIMEOUT,
            ))
        }
    }
}

/// A request body as read: nothing, one chunk as it came, or several copied together.
enum Body {
    Empty,
    One(bytes::Bytes),
    Many(Vec<u8>),
}

impl std::ops::Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::One(bytes) => bytes,
            Body::Many(bytes) => bytes,
        }
    }
}

/// Parses a body, naming the offending field on failure.
pub(crate) fn parse_body<T: Type + DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    // The fast path: plain serde_json. Only a body that fails is parsed again with
    // path tracking, to name the field (tracking every request costs throughput).
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let name = T::name();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("the request body is empty; expected a JSON {name}"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // A syntax error has no meaningful field (serde_path_to_error says `?`).
        let at_field = !(path == "." || path.contains('?') || is_syntax(&inner));
        let what = describe(inner);
        if at_field {
            format!("invalid {name}: field `{path}`: {what}")
        } else {
            format!("invalid {name}: {what}")
        }
    })?;
    de.end()
        .map_err(|err| format!("invalid {name}: {}", describe(err)))?;
    Ok(value)
}

fn is_syntax(err: &serde_json::Error) -> bool {
    matches!(
        err.classify(),
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof
    )
}

fn describe(err: serde_json::Error) -> String {
    if is_syntax(&err) {
        format!("malformed JSON: {err}")
    } else {
        err.to_string()
    }
}

fn bad_request(message: String) -> poem::Error {
    poem::Error::from_string(message, StatusCode::BAD_REQUEST)
}

/// The success side of an operation: its status and description in the spec.
pub(crate) trait OperationOutput: Serialize + Type + Send {
    /// The operation it answers (its success status is the operation's).
    const OPERATION: Operation;
    /// The success response's description.
    const DESCRIPTION: &'static str;
}

impl OperationOutput for CreateInfrastructureResponse {
    const OPERATION: Operation = Operation::Create;
    const DESCRIPTION: &'static str =
        "accepted; the outcome arrives later as an InfrastructureTask event on Kafka";
}

impl OperationOutput for DeleteInfrastructureResponse {
    const OPERATION: Operation = Operation::Delete;
    const DESCRIPTION: &'static str =
        "accepted; the outcome arrives later as an InfrastructureTask event on Kafka";
}

impl OperationOutput for InfrastructureTask {
    const OPERATION: Operation = Operation::Query;
    const DESCRIPTION: &'static str = "the task's current state";
}

impl OperationOutput for FindInfrastructureResponse {
    const OPERATION: Operation = Operation::Find;
    const DESCRIPTION: &'static str = "handled; result is null when nothing matched";
}

impl OperationOutput for LifecycleExecuteResponse {
    const OPERATION: Operation = Operation::Execute;
    const DESCRIPTION: &'static str =
        "accepted; the outcome arrives later as a LifecycleExecution event on Kafka";
}

impl OperationOutput for FindReferenceResponse {
    const OPERATION: Operation = Operation::FindReference;
    const DESCRIPTION: &'static str = "handled; result is null when nothing was found";
}

/// Where the spec finds the error statuses of a driver's operations (each kind's driver
/// trait has its own `error_statuses`).
pub(crate) trait ErrorStatuses {
    /// Every status the error type of `operation` can produce.
    fn error_statuses(operation: Operation) -> Vec<u16>;
}

/// The [`ErrorStatuses`] of a VIM driver `D`.
pub(crate) struct VimStatuses<D>(PhantomData<fn() -> D>);

impl<D: VimDriver> ErrorStatuses for VimStatuses<D> {
    fn error_statuses(operation: Operation) -> Vec<u16> {
        D::error_statuses(operation)
    }
}

/// The [`ErrorStatuses`] of a resource driver `D`.
pub(crate) struct ResourceStatuses<D>(PhantomData<fn() -> D>);

impl<D: ResourceDriver> ErrorStatuses for ResourceStatuses<D> {
    fn error_statuses(operation: Operation) -> Vec<u16> {
        D::error_statuses(operation)
    }
}

/// The answer of one operation: its output, or an error body. `S` gives the spec the
/// statuses of the operation's error type.
pub(crate) struct OperationResponse<T, S> {
    result: Result<T, ErrorBody>,
    _statuses: PhantomData<fn() -> S>,
}

impl<T, S> From<Result<T, ServiceError>> for OperationResponse<T, S> {
    fn from(result: Result<T, ServiceError>) -> Self {
        let result = result.map_err(|err| match err {
            ServiceError::Driver(err) => ErrorBody::from_driver_error(err),
            err => ErrorBody::new(StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
        });
        Self {
            result,
            _statuses: PhantomData,
        }
    }
}

impl<T: OperationOutput, S> IntoResponse for OperationResponse<T, S> {
    fn into_response(self) -> Response {
        match self.result {
            Ok(output) => json_response(success_status::<T>(), &output),
            Err(body) => body.into_response(),
        }
    }
}

fn success_status<T: OperationOutput>() -> StatusCode {
    StatusCode::from_u16(T::OPERATION.success_status()).unwrap_or(StatusCode::OK)
}

impl<T: OperationOutput, S: ErrorStatuses> ApiResponse for OperationResponse<T, S> {
    const BAD_REQUEST_HANDLER: bool = true;

    fn meta() -> MetaResponses {
        let success = MetaResponse {
            description: T::DESCRIPTION,
            status: Some(T::OPERATION.success_status()),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: JSON,
                schema: T::schema_ref(),
            }],
            headers: vec![],
        };
        let errors: BTreeSet<u16> = S::error_statuses(T::OPERATION)
            .into_iter()
            .chain(T::OPERATION.framework_error_statuses().iter().copied())
            .collect();
        let errors = errors.into_iter().map(|status| MetaResponse {
            description: StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error"),
            status: Some(status),
            status_range: None,
            content: vec![MetaMediaType {
                content_type: JSON,
                schema: ignition_openapi::schema::ErrorResponseSchema::schema_ref(),
            }],
            headers: vec![],
        });
        MetaResponses {
            responses: std::iter::once(success).chain(errors).collect(),
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
        ignition_openapi::schema::ErrorResponseSchema::register(registry);
    }

    fn from_parse_request_error(err: poem::Error) -> Self {
        Self {
            result: Err(ErrorBody::from_poem(&err)),
            _statuses: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::CreateInfrastructureRequest;

    fn parse(body: &str) -> Result<CreateInfrastructureRequest, String> {
        parse_body(body.as_bytes())
    }

    const DL: &str = r#""deploymentLocation": {"name": "dl"}"#;

    #[test]
    fn a_valid_body_parses() {
        let req = parse(&format!(
            r#"{{"template": "t", "templateType": "TOSCA", {DL}}}"#
        ))
        .unwrap();
        assert_eq!(req.template_type, "TOSCA");
        assert!(req.properties.is_empty());
    }

    #[test]
    fn failures_name_the_field() {
        let missing = parse(&format!(r#"{{"template": "t", {DL}}}"#)).unwrap_err();
        assert!(
            missing.contains("missing field `templateType`"),
            "{missing}"
        );
        let wrong = parse(&format!(r#"{{"template": 5, "templateType": "x", {DL}}}"#)).unwrap_err();
        assert!(
            wrong.contains("field `template`") && wrong.contains("expected a string"),
            "{wrong}"
        );
        let nested = parse(r#"{"template": "t", "templateType": "x", "deploymentLocation": {}}"#)
            .unwrap_err();
        assert!(
            nested.contains("field `deploymentLocation`")
                && nested.contains("missing field `name`"),
            "{nested}"
        );
    }

    #[test]
    fn malformed_empty_and_trailing_bodies_are_refused() {
        let malformed = parse("{bad").unwrap_err();
        assert_eq!(
            malformed,
            "invalid CreateInfrastructureRequest: malformed JSON: key must be a string at line 1 column 2"
        );
        assert!(parse("{").unwrap_err().contains("malformed JSON"));
        assert!(parse("  ").unwrap_err().contains("empty"));
        assert!(parse("[]").unwrap_err().contains("invalid"));
        let trailing = parse(&format!(
            r#"{{"template": "t", "templateType": "x", {DL}}} x"#
        ))
        .unwrap_err();
        assert!(trailing.contains("malformed JSON"), "{trailing}");
    }

    #[test]
    fn json_content_types_are_recognised() {
        type P = ContractJson<CreateInfrastructureRequest>;
        assert!(P::check_content_type("application/json"));
        assert!(P::check_content_type("application/json; charset=utf-8"));
        assert!(P::check_content_type("application/vnd.lm+json"));
        assert!(!P::check_content_type("text/plain"));
        assert!(!P::check_content_type("application/jsonx"));
    }
}
