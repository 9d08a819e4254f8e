//! [`VimDriver`]: a driver of the Infrastructure API (LM 1.x), as `#[vim_driver]` makes it.

use std::future::Future;

use crate::error::{ApiError, DriverError, InfrastructureError};
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, FindInfrastructureRequest, FindInfrastructureResponse,
    InfrastructureTask, InfrastructureTaskQuery,
};
use crate::operations::Operation;

/// A VIM driver as the runtime drives it: the four operations of the Infrastructure API.
///
/// Implemented by `#[vim_driver]`; each method unpacks the request and calls the
/// author's method of the same operation. Futures are `Send` so that the HTTP server and
/// the monitor can run them on any worker thread.
pub trait VimDriver: Send + Sync + 'static {
    /// Starts creating infrastructure; answers at once with the ids to monitor.
    fn create(
        &self,
        request: CreateInfrastructureRequest,
    ) -> impl Future<Output = Result<CreateInfrastructureResponse, DriverError>> + Send;

    /// Reports the state of a create or delete task (a query, or a monitoring poll).
    fn query(
        &self,
        request: InfrastructureTaskQuery,
    ) -> impl Future<Output = Result<InfrastructureTask, DriverError>> + Send;

    /// Starts deleting infrastructure; answers at once with the ids to monitor.
    fn delete(
        &self,
        request: DeleteInfrastructureRequest,
    ) -> impl Future<Output = Result<DeleteInfrastructureResponse, DriverError>> + Send;

    /// Finds infrastructure matching a template and an instance name.
    fn find(
        &self,
        request: FindInfrastructureRequest,
    ) -> impl Future<Output = Result<FindInfrastructureResponse, DriverError>> + Send;

    /// Every status the error type of `operation` can produce, for the OpenAPI document.
    fn error_statuses(operation: Operation) -> Vec<u16>
    where
        Self: Sized;
}

/// A driver with no VIM behind it, whose errors are all `InfrastructureError`: the
/// document of its API is the contract's (used by `App::openapi_*` before a driver is
/// given). Every operation answers 500.
pub(crate) struct ContractOnly;

impl VimDriver for ContractOnly {
    async fn create(
        &self,
        _: CreateInfrastructureRequest,
    ) -> Result<CreateInfrastructureResponse, DriverError> {
        Err(no_driver())
    }

    async fn query(&self, _: InfrastructureTaskQuery) -> Result<InfrastructureTask, DriverError> {
        Err(no_driver())
    }

    async fn delete(
        &self,
        _: DeleteInfrastructureRequest,
    ) -> Result<DeleteInfrastructureResponse, DriverError> {
        Err(no_driver())
    }

    async fn find(
        &self,
        _: FindInfrastructureRequest,
    ) -> Result<FindInfrastructureResponse, DriverError> {
        Err(no_driver())
    }

    fn error_statuses(_: Operation) -> Vec<u16> {
        InfrastructureError::statuses()
    }
}

fn no_driver() -> DriverError {
    DriverError::from_api_error(InfrastructureError::Internal("no driver".into()))
}
