//! The seam between a driver author's impl block and the runtime: one trait per API kind,
//! implemented by its attribute (`#[vim_driver]`: [`VimDriver`]; `#[resource_driver]`:
//! [`ResourceDriver`]).
//!
//! Each trait method unpacks a request and calls the author's method of the same
//! operation, erasing its error type into a [`DriverError`]. Nothing else implements
//! them by hand; they are reachable (hidden) through `ignition::__private` so that the
//! generated code can name them.

mod resource;
mod vim;

pub use resource::{
    FindReferenceCall, LifecycleExecuteCall, LifecycleExecutionQuery, ResourceDriver,
};
pub(crate) use vim::ContractOnly;
pub use vim::VimDriver;

pub use crate::operations::Operation;
