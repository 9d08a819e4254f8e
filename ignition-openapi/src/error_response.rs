//! [`ErrorResponse`]: the body of every error answer of both APIs.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The contract's error body, `{"localizedMessage": "...", "status": N}`, plus any extra
/// fields a driver's error adds (e.g. `"code": "X1"`); the same in the Infrastructure and
/// the Resource Driver API (component `ErrorResponse` of both contracts).
///
/// Written with `localizedMessage` and `status` first, then the extra fields in their
/// order; an extra field named `localizedMessage` or `status` is left out, so the two
/// can never be overridden. Read back, the extra fields are everything else.
///
/// ```
/// # use ignition_openapi::ErrorResponse;
/// let mut body = ErrorResponse::new(409, "quota exceeded for p1");
/// body.extra.insert("code".into(), "Q1".into());
/// body.extra.insert("status".into(), 200.into()); // never written
/// let json = serde_json::to_string(&body).unwrap();
/// assert_eq!(json, r#"{"localizedMessage":"quota exceeded for p1","status":409,"code":"Q1"}"#);
/// let read: ErrorResponse = serde_json::from_str(&json).unwrap();
/// assert_eq!((read.status, read.extra.len()), (409, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponse {
    /// What went wrong, for people (the error's `Display`).
    pub localized_message: String,
    /// The HTTP status of the answer.
    pub status: u16,
    /// Other fields of the body.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The two keys the contract fixes, which extra fields cannot replace.
const FIXED_KEYS: [&str; 2] = ["localizedMessage", "status"];

impl ErrorResponse {
    /// A body with this status and message, and no extra fields.
    pub fn new(status: u16, localized_message: impl Into<String>) -> Self {
        Self {
            localized_message: localized_message.into(),
            status,
            extra: Map::new(),
        }
    }
}

impl Serialize for ErrorResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let extra = self
            .extra
            .iter()
            .filter(|(key, _)| !FIXED_KEYS.contains(&key.as_str()));
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(FIXED_KEYS[0], &self.localized_message)?;
        map.serialize_entry(FIXED_KEYS[1], &self.status)?;
        for (key, value) in extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn extra_fields_never_override_the_fixed_two() {
        let mut body = ErrorResponse::new(400, "bad template");
        body.extra.insert("localizedMessage".into(), "other".into());
        body.extra.insert("reason".into(), json!({"line": 3}));
        body.extra.insert("status".into(), 200.into());
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"localizedMessage":"bad template","status":400,"reason":{"line":3}}"#
        );
    }

    #[test]
    fn extra_fields_keep_their_order_and_read_back() {
        let text = r#"{"localizedMessage":"m","status":503,"z":1,"a":[true],"m":null}"#;
        let body: ErrorResponse = serde_json::from_str(text).unwrap();
        assert_eq!(body.localized_message, "m");
        assert_eq!(body.status, 503);
        assert_eq!(
            Value::Object(body.extra.clone()),
            json!({"z": 1, "a": [true], "m": null})
        );
        assert_eq!(serde_json::to_string(&body).unwrap(), text);
    }

    #[test]
    fn a_body_without_the_fixed_two_is_not_an_error_response() {
        for text in [
            r#"{"status": 400}"#,
            r#"{"localizedMessage": "m"}"#,
            r#"{"localizedMessage": "m", "status": "400"}"#,
            r#"{"localizedMessage": 1, "status": 400}"#,
            r#"{"localizedMessage": "m", "status": 70000}"#,
        ] {
            let err = serde_json::from_str::<ErrorResponse>(text);
            assert!(err.is_err(), "{text} read as {err:?}");
        }
    }
}
