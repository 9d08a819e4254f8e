//! # Ignition for Rust
//!
//! Write a driver as one impl block of async methods; the attribute and this crate supply
//! the rest: the HTTP API with its OpenAPI document and Swagger UI, the mapping of errors
//! to statuses and to the contract's error JSON, the monitoring of every task the driver
//! starts through a job queue, and the events that tell the lifecycle manager (LM) how
//! each one ended. Two kinds of driver, one runtime:
//!
//! - `#[vim_driver]`: the Infrastructure API of LM 1.x (create, query, delete, find);
//! - `#[resource_driver]`: the Resource Driver API of LM 2.x/3.x (execute a lifecycle
//!   transition with the driver's files, find a reference).
//!
//! ```no_run
//! use ignition::prelude::*;
//!
//! pub struct EchoDriver;
//!
//! #[vim_driver]
//! impl EchoDriver {
//!     async fn create_infrastructure(&self, _template: String, _template_type: String,
//!         _system_properties: PropValueMap, _properties: PropValueMap,
//!         _deployment_location: DeploymentLocation,
//!     ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
//!         Ok(CreateInfrastructureResponse::new("stack-1", "request-1"))
//!     }
//!
//!     async fn get_infrastructure_task(&self, infrastructure_id: String, request_id: String,
//!         _deployment_location: DeploymentLocation,
//!     ) -> Result<InfrastructureTask, InfrastructureError> {
//!         Ok(InfrastructureTask::complete(infrastructure_id, request_id))
//!     }
//!
//!     async fn delete_infrastructure(&self, infrastructure_id: String,
//!         _deployment_location: DeploymentLocation,
//!     ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
//!         Ok(DeleteInfrastructureResponse::new(infrastructure_id, "request-2"))
//!     }
//!
//!     async fn find_infrastructure(&self, _template: String, _template_type: String,
//!         _instance_name: String, _deployment_location: DeploymentLocation,
//!     ) -> Result<FindInfrastructureResponse, InfrastructureError> {
//!         Ok(FindInfrastructureResponse::not_found())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), ignition::BootError> {
//!     App::new("Echo VIM Driver").driver(EchoDriver).run().await
//! }
//! ```
//!
//! ## How a request flows (the seed's services, and Python 3.x's)
//!
//! | service (Infrastructure / Resource Driver API) | module | what it does |
//! | --- | --- | --- |
//! | InfrastructureApiService / ResourceDriverApiService | `api` | the routes of each kind (`/api/infrastructure/*`, `/api/driver/*`), spec, Swagger UI |
//! | InfrastructureService / ResourceDriverService | `service` | forwards to the driver within its time limit (unpacking `driverFiles` first: `driver_files`); after create, delete or execute asks the monitor to watch the task |
//! | InfrastructureTaskMonitoringService / LifecycleExecutionMonitoringService | `monitor` | polls the task through the job queue until it ends, each kind's policy in its `TaskPoller` |
//! | InfrastructureMessagingService / LifecycleMessagingService | [`messaging`] | posts the finished task as an event on its kind's topic |
//! | JobQueueService | [`jobqueue`] | runs each monitoring job again after a delay until done |
//! | Postal / Delivery | [`messaging`] | hands events to the bus |
//!
//! Without `messaging.connection_address` everything runs in process (the embedded
//! default): jobs are timers, and each event is printed on stdout as one JSON line.
//! Configuration is described in [`config`]; start-up errors are [`BootError`]s.
//!
//! ## The modules
//!
//! | module | concept |
//! | --- | --- |
//! | `operations` | the operation table of both API kinds: name, author's method, path, success status |
//! | `driver` | the seam with the author's impl block: one trait per kind (`VimDriver`, `ResourceDriver`) |
//! | `serve` | [`Driver`], what the app starts from a driver of either kind |
//! | `app` | [`App`], the builder; [`DriverContext`] |
//! | `boot` | start-up (connect → wire → start → bind), [`BootError`], [`RunningApp`] |
//! | [`config`] | the configuration: sources, properties, defaults, rules, secrets |
//! | `api`, `response`, `server` | HTTP: the routes of each kind, the error body, the listener and the layer around every route |
//! | `service` | the service layer of each kind |
//! | `driver_files` | [`DriverFiles`]: a request's `driverFiles` unpacked, safely |
//! | `monitor` | the task monitor, its job data, sealing, and each kind's poller |
//! | [`messaging`] | events and their delivery (embedded bus; [`TaskEvents`]) |
//! | [`jobqueue`] | the job queue and the embedded one |
//! | `kafka` | Kafka: delivery, job queue, spool, topics (hidden: bench and tests) |
//! | `management`, `metrics` | `/management/health` and its probes, [`Vital`]; `/management/metrics` |
//! | `logging`, `tracectx` | log formats, the private-key filter; the `X-Tracectx-*` context |
//! | `error` | [`ApiError`], [`InfrastructureError`], [`ResourceDriverError`] |
//! | `tls`, `runtime`, `backoff`, `util` | HTTPS; signals; backoff; small helpers written once |
//! | [`testing`] (feature `testing`) | [`testing::TestApp`], the conformance run, [`testing::DriverFilesBuilder`] |
//!
//! ## Extension points
//!
//! - [`App::job_queue`] with a [`jobqueue::JobQueue`] (its jobs run by
//!   [`jobqueue::JobHandler`]s) replaces the built-in job queue;
//! - [`App::delivery`] with a [`messaging::Delivery`] replaces how events reach the bus;
//! - [`App::vital`] with a [`Vital`] adds a line to `/management/health`.
//! - [`App::driver_with`] builds the driver once the configuration is loaded (its own
//!   section, read with [`DriverContext::properties`]).

// Lets `::ignition::...` paths (what the macros generate) resolve inside this crate too.
extern crate self as ignition;

mod api;
mod app;
mod backoff;
mod boot;
pub mod config;
mod driver;
mod driver_files;
mod error;
pub mod jobqueue;
#[cfg(feature = "kafka")]
#[doc(hidden)] // for the bench and the tests only; changes without notice
pub mod kafka;
mod logging;
mod management;
pub mod messaging;
mod metrics;
mod monitor;
mod operations;
mod response;
mod runtime;
mod serve;
mod server;
mod service;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;
mod tracectx;
mod util;

#[doc(hidden)]
pub mod __private;

#[cfg(feature = "fuzz-internals")]
#[doc(hidden)] // for the fuzz targets in fuzz/ only; changes without notice
pub mod __fuzz;

/// The README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The contracts' types: requests, responses, tasks and executions, deployment locations,
/// properties — of the Infrastructure API and of the Resource Driver API.
pub mod models {
    pub use ignition_openapi::{
        AssociatedTopology, AssociatedTopologyEntry, CreateInfrastructureRequest,
        CreateInfrastructureResponse, DeleteInfrastructureRequest, DeleteInfrastructureResponse,
        DeploymentLocation, FailureCode, FailureDetails, FindInfrastructureRequest,
        FindInfrastructureResponse, FindInfrastructureResult, FindReferenceRequest,
        FindReferenceResponse, FindReferenceResult, InfrastructureTask, InfrastructureTaskQuery,
        LifecycleExecuteResponse, LifecycleExecution, LifecycleExecutionRequest, Outputs,
        PropValue, PropValueMap, PropertiesError, TaskStatus,
    };
}

pub use app::{App, DriverContext};
pub use boot::{BootError, RunningApp};
pub use driver_files::DriverFiles;
pub use error::{ApiError, InfrastructureError, ResourceDriverError};
#[doc = include_str!("docs/resource_driver.md")]
pub use ignition_macros::resource_driver;
#[doc = include_str!("docs/vim_driver.md")]
pub use ignition_macros::vim_driver;
#[doc = include_str!("docs/api_error.md")]
pub use ignition_macros::ApiError;
#[cfg(feature = "kafka")]
pub use kafka::{KafkaError, SpoolError};
pub use management::{Vital, VitalStatus};
pub use messaging::TaskEvents;
/// serde, for a driver's own configuration types without a dependency of its own:
/// `#[derive(ignition::serde::Deserialize)] #[serde(crate = "ignition::serde")]`.
pub use serde;
pub use serde_json;
pub use serve::Driver;
pub use server::ListenError;
pub use tls::TlsError;

/// A boxed `Send` future: what the object-safe extension traits return
/// ([`Vital::check`], [`messaging::Delivery::deliver`], [`jobqueue::JobQueue::queue`],
/// [`jobqueue::JobHandler::handle`]).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Everything a driver needs: `use ignition::prelude::*;`.
pub mod prelude {
    pub use crate::driver_files::DriverFiles;
    pub use crate::error::{ApiError, InfrastructureError, ResourceDriverError};
    pub use crate::models::*;
    pub use crate::{resource_driver, vim_driver};
    pub use crate::{App, BootError, DriverContext, TaskEvents, Vital, VitalStatus};
    pub use ignition_macros::ApiError;
}
