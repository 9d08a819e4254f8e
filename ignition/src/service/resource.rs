//! The ResourceDriverService (Python 3.x's): the driver files of each request unpacked
//! before the driver is called, then the call; an execute has its execution watched.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt as _;

use super::{Calls, ServiceError};
use crate::driver::{FindReferenceCall, LifecycleExecuteCall, ResourceDriver};
use crate::driver_files::{self, DriverFiles, DriverFilesLimits, Removal};
use crate::error::DriverError;
use crate::models::{
    FindReferenceRequest, FindReferenceResponse, LifecycleExecuteResponse,
    LifecycleExecutionRequest,
};
use crate::operations::Operation;

/// The ResourceDriverService.
pub(crate) struct ResourceDriverService<D> {
    driver: Arc<D>,
    calls: Calls,
    limits: DriverFilesLimits,
}

impl<D: ResourceDriver> ResourceDriverService<D> {
    /// A service over `driver`, unpacking driver files within `limits`.
    pub(crate) fn new(driver: Arc<D>, calls: Calls, limits: DriverFilesLimits) -> Self {
        Self {
            driver,
            calls,
            limits,
        }
    }

    /// Unpacks the request's driver files, forwards the execute, then has the execution
    /// watched. The files are removed once the driver's call returns (or is cancelled).
    pub(crate) async fn execute_lifecycle(
        &self,
        request: LifecycleExecutionRequest,
    ) -> Result<LifecycleExecuteResponse, ServiceError> {
        let LifecycleExecutionRequest {
            lifecycle_name,
            driver_files,
            system_properties,
            resource_properties,
            request_properties,
            associated_topology,
            deployment_location,
            ..
        } = request;
        let driver_files = self.unpack(driver_files).await?;
        let removal = driver_files.removal();
        let location = self.calls.location_to_watch(&deployment_location);
        let call = LifecycleExecuteCall {
            lifecycle_name,
            driver_files,
            system_properties,
            resource_properties,
            request_properties,
            associated_topology,
            deployment_location,
        };
        let call = self
            .calls
            .call(Operation::Execute, self.driver.execute(call));
        let response = then_removed(removal, call).await?;
        tracing::debug!(request_id = %response.request_id, location = location.as_ref().map(|l| tracing::field::display(&l.name)), "execute accepted");
        self.calls
            .watch(None, &response.request_id, location)
            .await?;
        Ok(response)
    }

    /// Unpacks the request's driver files and forwards the find.
    pub(crate) async fn find_reference(
        &self,
        request: FindReferenceRequest,
    ) -> Result<FindReferenceResponse, ServiceError> {
        let FindReferenceRequest {
            instance_name,
            driver_files,
            deployment_location,
            ..
        } = request;
        let driver_files = self.unpack(driver_files).await?;
        let removal = driver_files.removal();
        let call = FindReferenceCall {
            instance_name,
            driver_files,
            deployment_location,
        };
        let call = self
            .calls
            .call(Operation::FindReference, self.driver.find_reference(call));
        then_removed(removal, call).await
    }

    /// The request's driver files in a private directory; a bad archive is a 400 naming
    /// the reason and the entry.
    async fn unpack(&self, encoded: String) -> Result<DriverFiles, ServiceError> {
        driver_files::unpack(encoded, self.limits)
            .await
            .map_err(|err| {
                tracing::debug!(error = %err, "driverFiles refused");
                ServiceError::Driver(DriverError::from_api_error(err))
            })
    }
}

/// Runs the driver's `call`, then waits for the removal of its driver files, so that they
/// are gone before the answer (at once if the driver kept them: they go when it drops
/// them). A panicking call too: its files are dropped while it unwinds, and the panic goes
/// on to the server (a 500) once they are removed.
async fn then_removed<T>(removal: Removal, call: impl Future<Output = T>) -> T {
    let called = AssertUnwindSafe(call).catch_unwind().await;
    removal.settled().await;
    called.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
