//! [`ResourceDriver`]: a driver of the Resource Driver API (LM 2.x/3.x), as
//! `#[resource_driver]` makes it, and the calls it is given (a request with its driver
//! files already unpacked).

use std::future::Future;

use crate::driver_files::DriverFiles;
use crate::error::DriverError;
use crate::models::{
    AssociatedTopology, DeploymentLocation, FindReferenceResponse, LifecycleExecuteResponse,
    LifecycleExecution, PropValueMap,
};
use crate::operations::Operation;

/// An execute request as the driver sees it: the request's fields, its `driverFiles`
/// unpacked.
#[derive(Debug)]
#[non_exhaustive]
pub struct LifecycleExecuteCall {
    /// The transition or operation, e.g. `Create`.
    pub lifecycle_name: String,
    /// The driver's files of the Resource package, unpacked.
    pub driver_files: DriverFiles,
    /// Properties LM generated for the Resource.
    pub system_properties: PropValueMap,
    /// Property values of the Resource.
    pub resource_properties: PropValueMap,
    /// Properties of this request.
    pub request_properties: PropValueMap,
    /// External elements tied to the Resource.
    pub associated_topology: AssociatedTopology,
    /// Where the Resource lives.
    pub deployment_location: DeploymentLocation,
}

/// A poll of an execution.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LifecycleExecutionQuery {
    /// The request whose execution is asked about.
    pub request_id: String,
    /// Where the Resource lives.
    pub deployment_location: DeploymentLocation,
}

/// A find-reference request as the driver sees it: its `driverFiles` unpacked.
#[derive(Debug)]
#[non_exhaustive]
pub struct FindReferenceCall {
    /// The name to find.
    pub instance_name: String,
    /// The driver's files of the Resource package, unpacked.
    pub driver_files: DriverFiles,
    /// Where to find it.
    pub deployment_location: DeploymentLocation,
}

/// A resource driver as the runtime drives it: the three operations of the Resource
/// Driver API.
///
/// Implemented by `#[resource_driver]`; each method unpacks the call and calls the
/// author's method of the same operation. Futures are `Send` so that the HTTP server and
/// the monitor can run them on any worker thread.
pub trait ResourceDriver: Send + Sync + 'static {
    /// Starts a lifecycle transition or operation; answers at once with the request id to
    /// monitor (`execute_lifecycle`).
    fn execute(
        &self,
        request: LifecycleExecuteCall,
    ) -> impl Future<Output = Result<LifecycleExecuteResponse, DriverError>> + Send;

    /// Reports the state of an execution (`get_lifecycle_execution`, each monitoring
    /// poll).
    fn query(
        &self,
        request: LifecycleExecutionQuery,
    ) -> impl Future<Output = Result<LifecycleExecution, DriverError>> + Send;

    /// Finds a Resource by instance name (`find_reference`).
    fn find_reference(
        &self,
        request: FindReferenceCall,
    ) -> impl Future<Output = Result<FindReferenceResponse, DriverError>> + Send;

    /// Every status the error type of `operation` can produce, for the OpenAPI document.
    fn error_statuses(operation: Operation) -> Vec<u16>
    where
        Self: Sized;
}
