//! The wire side of Ignition for Rust, for the two APIs a lifecycle manager (LM) calls
//! on a driver:
//!
//! - the **Infrastructure API** of VIM drivers (`contract/infrastructure-api.yaml`,
//!   [`CONTRACT_YAML`]): [`CreateInfrastructureRequest`], [`InfrastructureTask`], ...;
//! - the **Resource Driver API** of LM 2.x/3.x (`contract/resource-driver-api.yaml`,
//!   [`RESOURCE_DRIVER_CONTRACT_YAML`]): [`LifecycleExecutionRequest`],
//!   [`LifecycleExecution`], [`AssociatedTopology`], ...
//!
//! Both share [`DeploymentLocation`], [`PropValueMap`], [`TaskStatus`],
//! [`FailureDetails`], [`Outputs`] and the error body [`ErrorResponse`]. The types are
//! read and written with serde, in the contracts' JSON; [`schema`] gives their OpenAPI
//! schemas under each contract's component names, and [`compat::check`] tells whether a
//! generated spec still agrees with a contract.
//!
//! Driver authors use these types through `ignition::prelude`; this crate is a
//! dependency of `ignition`, not something to name directly.

pub mod compat;
mod error_response;
mod location_properties;
mod models;
mod propvaluemap;
mod resource;
pub mod schema;

pub use error_response::ErrorResponse;
pub use location_properties::PropertiesError;
pub use models::*;
pub use propvaluemap::{PropValue, PropValueMap};
pub use resource::{
    AssociatedTopology, AssociatedTopologyEntry, FindReferenceRequest, FindReferenceResponse,
    FindReferenceResult, LifecycleExecuteResponse, LifecycleExecution, LifecycleExecutionRequest,
};

/// The Infrastructure API contract, as LM publishes it (OpenAPI 3.0, YAML).
pub const CONTRACT_YAML: &str = include_str!("../contract/infrastructure-api.yaml");

/// The Resource Driver API contract (LM 2.x/3.x; OpenAPI 3.0, YAML).
pub const RESOURCE_DRIVER_CONTRACT_YAML: &str =
    include_str!("../contract/resource-driver-api.yaml");
