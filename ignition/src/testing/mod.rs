//! Testing a driver: start it in process, call its operations over real HTTP, wait
//! for its task events, count its polls, and run the conformance lifecycle
//! ([`Lifecycle`], like Terraform's `resource.Test`).
//!
//! Enable the `testing` feature of `ignition` for the crate's tests (a driver crate needs
//! no other dependency than `ignition` and `tokio`):
//!
//! ```toml
//! [dev-dependencies]
//! ignition = { version = "0.1", features = ["testing"] }
//! ```
//!
//! A [`TestApp`] is the driver on the **embedded default** (in-process job queue and
//! event bus, no Kafka) on a free port of 127.0.0.1; it listens to the task events from
//! its first moment, so no event is missed however late a test waits for it.
//!
//! ```no_run
//! use std::sync::Mutex;
//! use std::time::Duration;
//!
//! use ignition::prelude::*;
//! use ignition::testing::{Lifecycle, TestApp, TestError};
//!
//! /// A VIM of one stack, named by the create's `resourceName`; every task completes at
//! /// its first poll.
//! #[derive(Default)]
//! pub struct OneStackDriver {
//!     name: Mutex<Option<String>>,
//! }
//!
//! #[vim_driver]
//! impl OneStackDriver {
//!     async fn create_infrastructure(&self, _template: String, _template_type: String,
//!         system_properties: PropValueMap, _properties: PropValueMap,
//!         _deployment_location: DeploymentLocation,
//!     ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
//!         let name = system_properties.get("resourceName").map(|n| n.into_owned());
//!         *self.name.lock().unwrap() = name;
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
//!         *self.name.lock().unwrap() = None;
//!         Ok(DeleteInfrastructureResponse::new(infrastructure_id, "request-2"))
//!     }
//!
//!     async fn find_infrastructure(&self, _template: String, _template_type: String,
//!         instance_name: String, _deployment_location: DeploymentLocation,
//!     ) -> Result<FindInfrastructureResponse, InfrastructureError> {
//!         Ok(match self.name.lock().unwrap().as_deref() {
//!             Some(name) if name == instance_name => {
//!                 FindInfrastructureResponse::found("stack-1", Outputs::new())
//!             }
//!             _ => FindInfrastructureResponse::not_found(),
//!         })
//!     }
//! }
//!
//! #[tokio::test]
//! async fn create_sends_a_complete_event() -> Result<(), TestError> {
//!     let app = TestApp::start(OneStackDriver::default()).await?;
//!     let created = app
//!         .create(CreateInfrastructureRequest {
//!             template: "stack: {}".into(),
//!             template_type: "HEAT".into(),
//!             system_properties: PropValueMap::new(),
//!             properties: PropValueMap::new(),
//!             deployment_location: DeploymentLocation::new("dl"),
//!         })
//!         .await?;
//!     let event = app.wait_for_event(&created.request_id, Duration::from_secs(10)).await?;
//!     assert_eq!(event.status, TaskStatus::Complete);
//!     assert_eq!(app.poll_count(&created.infrastructure_id, &created.request_id), Some(1));
//!     app.shutdown().await;
//!     Ok(())
//! }
//!
//! #[tokio::test]
//! async fn the_driver_passes_the_lifecycle() -> Result<(), Box<dyn std::error::Error>> {
//!     let app = TestApp::start(OneStackDriver::default()).await?;
//!     let report = Lifecycle::new("stack: {}", "HEAT", DeploymentLocation::new("dl"))
//!         .instance_name("web")
//!         .run(&app)
//!         .await?;
//!     println!("{report}");
//!     app.shutdown().await;
//!     Ok(())
//! }
//! # fn main() {}
//! ```
//!
//! Logs: a `TestApp` installs no log subscriber, so a test may set its own at any time
//! (and nothing is printed unless it does). Set `IGNITION_TEST_LOG` to a filter (`warn`,
//! `info,ignition=debug`) to have the first `TestApp` of the process install one that
//! writes through the test harness's capture, unless a subscriber is already set. Each
//! task event is still printed on stdout by the embedded bus.
//!
//! Against a real VIM, gate the test with [`Lifecycle::acceptance_enabled`]
//! (`IGNITION_ACCEPTANCE=1`), as Terraform gates its acceptance tests with `TF_ACC`.

mod app;
mod driver_files;
mod error;
mod events;
mod lifecycle;

pub use app::TestApp;
pub use driver_files::DriverFilesBuilder;
pub use error::{ErrorBody, TestError};
pub use lifecycle::{Lifecycle, LifecycleError, LifecycleReport, Step, StepReport};
