// `#[derive(ApiError)]` on every shape: unit, tuple and struct variants; a struct, a tuple
// struct and a unit struct; generics; an empty enum (an operation that cannot fail).
use ignition::prelude::*;
use ignition::serde_json::{json, Value};

#[derive(Debug, thiserror::Error, ApiError)]
pub enum Shapes {
    #[error("unit")]
    #[api_error(status = 404)]
    Unit,
    #[error("tuple {0} {1}")]
    #[api_error(status = 422)]
    Tuple(#[api_error(field = "first")] u8, String),
    #[error("named")]
    #[api_error(status = 422, retry)]
    Named {
        #[api_error(field)]
        names: Vec<String>,
        #[api_error(field = "detail")]
        details: Option<Value>,
        ignored: u8,
    },
}

#[derive(Debug, thiserror::Error, ApiError)]
#[error("conflict on {resource}")]
#[api_error(status = 409)]
pub struct Conflict {
    #[api_error(field)]
    resource: String,
}

#[derive(Debug, thiserror::Error, ApiError)]
#[error("busy")]
#[api_error(status = 429, retry)]
pub struct Busy(#[api_error(field = "retryAfter")] u32);

#[derive(Debug, thiserror::Error, ApiError)]
#[error("gone")]
#[api_error(status = 410)]
pub struct Gone;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum Wrapped<T: std::fmt::Debug + std::fmt::Display + Send + Sync + 'static> {
    #[error("wrapped {0}")]
    #[api_error(status = 502)]
    Upstream(#[api_error(field = "upstream")] T),
}

#[derive(Debug, thiserror::Error, ApiError)]
pub enum Never {}

fn body<E: ApiError>(err: &E) -> Value {
    Value::Object(err.extra_fields())
}

fn main() {
    assert_eq!((Shapes::Unit.status(), Shapes::Unit.retry()), (404, false));
    assert_eq!(body(&Shapes::Unit), json!({}));
    let tuple = Shapes::Tuple(7, "x".into());
    assert_eq!((tuple.status(), tuple.retry()), (422, false));
    assert_eq!(body(&tuple), json!({"first": 7}));
    let named = Shapes::Named { names: vec!["a".into()], details: None, ignored: 1 };
    assert_eq!((named.status(), named.retry()), (422, true));
    assert_eq!(body(&named), json!({"names": ["a"], "detail": null}));
    assert_eq!(Shapes::statuses(), [404, 422]);

    let conflict = Conflict { resource: "vm-1".into() };
    assert_eq!((conflict.status(), body(&conflict)), (409, json!({"resource": "vm-1"})));
    assert_eq!(Conflict::statuses(), [409]);
    assert_eq!((Busy(5).status(), Busy(5).retry()), (429, true));
    assert_eq!(body(&Busy(5)), json!({"retryAfter": 5}));
    assert_eq!((Gone.status(), Gone::statuses()), (410, vec![410]));

    let wrapped = Wrapped::Upstream(String::from("timeout"));
    assert_eq!(wrapped.status(), 502);
    assert_eq!(body(&wrapped), json!({"upstream": "timeout"}));

    assert_eq!(Never::statuses(), Vec::<u16>::new());
}
