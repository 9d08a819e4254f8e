// Hygiene: the expansion uses absolute paths only, and its locals cannot clash with the
// author's names: not with a const generic named like a request field, nor with a driver
// type named like the runtime's trait.
#![no_implicit_prelude]
#![allow(non_upper_case_globals)]

use ::ignition::prelude::*;
use ::std::string::String;

#[derive(::std::fmt::Debug, ::thiserror::Error, ApiError)]
pub enum Error {
    #[error("busy")]
    #[api_error(status = 503, retry)]
    Busy,
}

pub struct ResourceDriver<const driver_files: usize>;

#[resource_driver]
impl<const driver_files: usize> ResourceDriver<driver_files> {
    async fn execute_lifecycle(
        &self,
        request: String,
        __ignition_request: DriverFiles,
        _: PropValueMap,
        _: PropValueMap,
        _: PropValueMap,
        _: AssociatedTopology,
        _: DeploymentLocation,
    ) -> ::std::result::Result<LifecycleExecuteResponse, ResourceDriverError> {
        let _ = __ignition_request;
        ::std::result::Result::Ok(LifecycleExecuteResponse::new(request))
    }

    async fn get_lifecycle_execution(
        &self,
        _: String,
        _: DeploymentLocation,
    ) -> ::std::result::Result<LifecycleExecution, Error> {
        ::std::todo!()
    }

    async fn find_reference(
        &self,
        _: String,
        _: DriverFiles,
        _: DeploymentLocation,
    ) -> ::std::result::Result<FindReferenceResponse, ResourceDriverError> {
        ::std::todo!()
    }
}

fn assert_driver<D: ::ignition::Driver + ::ignition::__private::ResourceDriver>() {}

fn main() {
    assert_driver::<ResourceDriver<1>>();
}
