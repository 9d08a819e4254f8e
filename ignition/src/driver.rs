//! The seam between a driver author's impl block and the runtime.
//!
//! `#[vim_driver]` implements [`Driver`] for the annotated type by forwarding each
//! operation to the author's inherent `async fn`. Nothing else implements it by hand,
//! but it is public so that the generated code (and the docs) can name it.

use std::future::Future;

use crate::error::ApiError;
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, FindInfrastructureRequest, FindInfrastructureResponse,
    InfrastructureTask, InfrastructureTaskQuery,
};

/// A VIM driver as the runtime drives it: the four operations of the contract.
///
/// Implemented by `#[vim_driver]`; each method unpacks the request and calls the
/// author's method of the same operation. Futures are `Send` so that the HTTP server and
/// the monitor can run them on any worker thread.
pub trait Driver: Send + Sync + 'static {
    /// Error type of `create_infrastructure`.
    type CreateError: ApiError;
    /// Error type of `get_infrastructure_task` (query and monitoring polls).
    type QueryError: ApiError;
    /// Error type of `delete_infrastructure`.
    type DeleteError: ApiError;
    /// Error type of `find_infrastructure`.
    type FindError: ApiError;

    /// Starts creating infrastructure; answers at once with the ids to monitor.
    fn create(
        &self,
        request: CreateInfrastructureRequest,
    ) -> impl Future<Output = Result<CreateInfrastructureResponse, Self::CreateError>> + Send;

    /// Reports the state of a create or delete task (a query, or a monitoring poll).
    fn query(
        &self,
        request: InfrastructureTaskQuery,
    ) -> impl Future<Output = Result<InfrastructureTask, Self::QueryError>> + Send;

    /// Starts deleting infrastructure; answers at once with the ids to monitor.
    fn delete(
        &self,
        request: DeleteInfrastructureRequest,
    ) -> impl Future<Output = Result<DeleteInfrastructureResponse, Self::DeleteError>> + Send;

    /// Finds infrastructure matching a template and an instance name.
    fn find(
        &self,
        request: FindInfrastructureRequest,
    ) -> impl Future<Output = Result<FindInfrastructureResponse, Self::FindError>> + Send;
}

/// A driver with no VIM behind it, whose errors are all `InfrastructureError`: the
/// document of its API is the contract's (used by `App::openapi_*` before a driver is
/// given). Every operation answers 500.
pub(crate) struct ContractOnly;

impl Driver for ContractOnly {
    type CreateError = crate::error::InfrastructureError;
    type QueryError = crate::error::InfrastructureError;
    type DeleteError = crate::error::InfrastructureError;
    type FindError = crate::error::InfrastructureError;

    async fn create(
        &self,
        _: CreateInfrastructureRequest,
    ) -> Result<CreateInfrastructureResponse, Self::CreateError> {
        Err(no_driver())
    }

    async fn query(
        &self,
        _: InfrastructureTaskQuery,
    ) -> Result<InfrastructureTask, Self::QueryError> {
        Err(no_driver())
    }

    async fn delete(
        &self,
        _: DeleteInfrastructureRequest,
    ) -> Result<DeleteInfrastructureResponse, Self::DeleteError> {
        Err(no_driver())
    }

    async fn find(
        &self,
        _: FindInfrastructureRequest,
    ) -> Result<FindInfrastructureResponse, Self::FindError> {
        Err(no_driver())
    }
}

fn no_driver() -> crate::error::InfrastructureError {
    crate::error::InfrastructureError::Internal("no driver".into())
}
