//! The wire side of Ignition for Rust: the types of the Infrastructure API contract
//! (`contract/infrastructure-api.yaml`, a copy of what LM expects of every VIM driver),
//! their OpenAPI schemas, and [`compat::check`], which tells whether a generated spec
//! still agrees with that contract.
//!
//! Driver authors use these types through `ignition::prelude`; this crate is a
//! dependency of `ignition`, not something to name directly.

pub mod compat;
mod location_properties;
mod models;
mod propvaluemap;
pub mod schema;

pub use location_properties::PropertiesError;
pub use models::*;
pub use propvaluemap::{PropValue, PropValueMap};

/// The Infrastructure API contract, as LM publishes it (OpenAPI 3.0, YAML).
pub const CONTRACT_YAML: &str = include_str!("../contract/infrastructure-api.yaml");
