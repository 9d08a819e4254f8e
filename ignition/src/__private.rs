//! What the expansions of `#[vim_driver]` and `#[derive(ApiError)]` name. Not a public
//! API: it changes without notice.
//!
//! Besides re-exports, it holds the traits behind the macros' compile-time checks. Each
//! is implemented only for what an operation expects (a parameter's type, the
//! `Result<T, E>` it returns), and carries a `#[diagnostic::on_unimplemented]` message;
//! the expansion asserts it on the author's own tokens, so a wrong type is reported in
//! the macro's words, on the author's code, as one error.

use std::future::Future;

pub use crate::driver::{
    FindReferenceCall, LifecycleExecuteCall, LifecycleExecutionQuery, Operation, ResourceDriver,
    VimDriver,
};
pub use crate::driver_files::DriverFiles;
pub use crate::error::{ApiError, DriverError, InfrastructureError};
pub use crate::models::{
    AssociatedTopology, CreateInfrastructureRequest, CreateInfrastructureResponse,
    DeleteInfrastructureRequest, DeleteInfrastructureResponse, DeploymentLocation,
    FindInfrastructureRequest, FindInfrastructureResponse, FindReferenceResponse,
    InfrastructureTask, InfrastructureTaskQuery, LifecycleExecuteResponse, LifecycleExecution,
    PropValueMap,
};
pub use crate::serve::Serve;
pub use serde::Serialize;

/// An operation's error type `E`, asserted `ApiError` once: the expansion names it
/// with `error_type::<E>()` at the author's `E` (twice, for the erasure and the statuses:
/// the same obligation at the same place, reported once).
pub struct ErrorType<E> {
    convert: fn(E) -> DriverError,
    statuses: fn() -> Vec<u16>,
}

impl<E> std::fmt::Debug for ErrorType<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(std::any::type_name::<E>())
    }
}

/// [`ErrorType`] of `E`.
pub fn error_type<E: ApiError>() -> ErrorType<E> {
    ErrorType {
        convert: DriverError::from_api_error::<E>,
        statuses: E::statuses,
    }
}

impl<E> ErrorType<E> {
    /// The author's future with its error erased into a [`DriverError`]: a plain
    /// combinator (no `async` block around the author's future), so that a future that
    /// is not `Send` is reported as the author's own ("future returned by
    /// `find_infrastructure` is not `Send`").
    pub fn erase<T, F>(self, future: F) -> futures_util::future::MapErr<F, fn(E) -> DriverError>
    where
        F: Future<Output = Result<T, E>>,
    {
        futures_util::TryFutureExt::map_err(future, self.convert)
    }

    /// Every status `E` can produce.
    pub fn statuses(self) -> Vec<u16> {
        (self.statuses)()
    }
}
pub use serde_json::{Map as JsonMap, Value as JsonValue};

/// A type that can be a field of an error's JSON body (`#[api_error(field)]`): any
/// `Serialize` type. Its own name only gives the derive a message of its own.
#[diagnostic::on_unimplemented(
    message = "#[derive(ApiError)]: a field of type `{Self}` cannot go into the error body: \
               it does not implement `Serialize`",
    label = "not serialisable to JSON",
    note = "use a type such as `String`, a number, `bool`, an `Option` or a `Vec` of those, \
            or `serde_json::Value`; or leave `#[api_error(field)]` off this field"
)]
pub trait ErrorField: Serialize {}

#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized> ErrorField for T {}

/// Adds a field of an error to the extra fields of its JSON body
/// (`#[api_error(field)]`). A value that does not serialise is left out, and logged.
pub fn insert_field<T: ErrorField + ?Sized>(
    fields: &mut JsonMap<String, JsonValue>,
    key: &str,
    value: &T,
) {
    match serde_json::to_value(value) {
        Ok(value) => {
            fields.insert(key.to_owned(), value);
        }
        Err(err) => tracing::warn!(field = key, %err, "error field left out of the body"),
    }
}

/// Names `E` of an operation's return type written through an alias (`MyResult<T>`).
///
/// Besides `Result<T, E>`, it is implemented, with a placeholder `E`, for the return types
/// a driver author may write by mistake (a response without `Result`, an `Option`, `()`):
/// then the output check alone reports the mistake, instead of this trait too.
pub trait OperationError {
    /// `E`.
    type Err;
}

impl<T, E> OperationError for Result<T, E> {
    type Err = E;
}

macro_rules! placeholder_error {
    ($($ty:ty),*) => {$(
        impl OperationError for $ty {
            type Err = InfrastructureError;
        }
    )*};
}

placeholder_error!(
    (),
    CreateInfrastructureResponse,
    InfrastructureTask,
    DeleteInfrastructureResponse,
    FindInfrastructureResponse,
    LifecycleExecuteResponse,
    LifecycleExecution,
    FindReferenceResponse
);

impl<T> OperationError for Option<T> {
    type Err = InfrastructureError;
}

/// A parameter check: `Self` is the author's parameter type, implemented only for the
/// request field's type.
macro_rules! param_check {
    ($name:ident: $ty:ty, $message:literal, $label:literal, $note:literal) => {
        #[doc = concat!("Implemented for `", stringify!($ty), "` only: checks one parameter.")]
        #[diagnostic::on_unimplemented(message = $message, label = $label, note = $note)]
        pub trait $name: Sized {
            /// The request's field, as the author's parameter.
            fn from_request(value: $ty) -> Self;
        }

        #[diagnostic::do_not_recommend]
        impl $name for $ty {
            #[inline(always)]
            fn from_request(value: $ty) -> Self {
                value
            }
        }
    };
}

/// A return type check: `Self` is the author's return type, implemented only for
/// `Result<$response, E>`. It also names `E` when the author wrote an alias, and passes
/// the author's future through unchanged.
macro_rules! output_check {
    ($name:ident: $response:ident, $message:literal, $label:literal, $note:literal) => {
        #[doc = concat!(
            "Implemented for `Result<", stringify!($response), ", E>` only: checks the return type."
        )]
        #[diagnostic::on_unimplemented(message = $message, label = $label, note = $note)]
        pub trait $name: Sized {
            /// `E`.
            type Err;
            /// The author's future.
            type Future<F: Future<Output = Self>>: Future<Output = Result<$response, Self::Err>>;
            /// The author's future, unchanged.
            fn check<F: Future<Output = Self>>(future: F) -> Self::Future<F>;
        }

        #[diagnostic::do_not_recommend]
        impl<E> $name for Result<$response, E> {
            type Err = E;
            type Future<F: Future<Output = Self>> = F;
            #[inline(always)]
            fn check<F: Future<Output = Self>>(future: F) -> F {
                future
            }
        }
    };
}

// The 17 check traits (the return type of each operation, each of its parameters), from
// the table `#[vim_driver]` validates with: one table, so the traits the expansion asserts
// and the messages they carry cannot drift from the macro's checks.
ignition_macros::__check_traits!();
