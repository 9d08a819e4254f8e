//! What `#[vim_driver]` expansions name. Not a public API: it changes without notice.

pub use crate::driver::{Driver, OperationResult};
pub use crate::error::ApiError;
pub use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, DeploymentLocation, FindInfrastructureRequest,
    FindInfrastructureResponse, InfrastructureTask, InfrastructureTaskQuery, PropValueMap,
};
