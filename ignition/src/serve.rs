//! What serving a driver takes: the public [`Driver`] trait that `#[vim_driver]` and
//! `#[resource_driver]` implement, and the type-erased [`DriverParts`] the app starts
//! from (the driver's API, and its kind's poller for the task monitor).

use std::sync::Arc;

use crate::api::{self, ApiParts, ApiWiring};
use crate::driver::{ResourceDriver, VimDriver};
use crate::monitor::{ResourcePoller, TaskPoller, VimPoller};
use crate::operations::{ApiKind, Operation};

/// A driver of either API kind: what [`App::driver`](crate::App::driver) takes.
///
/// `#[vim_driver]` and `#[resource_driver]` implement it, for a type that is `Send + Sync +
/// 'static` (the macro's own trait requires it, so a type that is not gets one error, on
/// that trait); name it in bounds (e.g. a test helper `fn start<D: Driver>(driver: D)`),
/// never implement it by hand: its one method is the generated glue between the author's
/// impl block and the runtime, and may change.
///
/// ```no_run
/// use ignition::Driver;
///
/// /// Starts any driver on a free port, for a test.
/// async fn start<D: Driver>(driver: D) -> Result<ignition::RunningApp, ignition::BootError> {
///     ignition::App::new("Test Driver")
///         .property("application.port", 0)
///         .driver(driver)
///         .start()
///         .await
/// }
/// ```
pub trait Driver {
    /// How the runtime serves this driver (generated).
    #[doc(hidden)]
    fn __serve() -> Serve<Self>
    where
        Self: Sized;
}

/// How the runtime serves a driver of type `D`: its API kind, how its parts are made and
/// its spec without a driver. Not an API: the macros name it.
#[doc(hidden)]
pub struct Serve<D> {
    pub(crate) kind: ApiKind,
    pub(crate) parts: fn(Arc<D>) -> DriverParts,
    pub(crate) spec: fn() -> ApiParts,
}

impl<D: VimDriver> Serve<D> {
    /// A VIM driver (`#[vim_driver]`).
    pub fn vim() -> Self {
        Self {
            kind: ApiKind::Infrastructure,
            parts: |driver| DriverParts {
                kind: ApiKind::Infrastructure,
                error_statuses: <D as VimDriver>::error_statuses,
                poller: Arc::new(VimPoller(driver.clone())),
                api: Box::new(move |wiring| api::infrastructure_api(driver, wiring)),
            },
            spec: api::infrastructure_spec::<D>,
        }
    }
}

impl<D: ResourceDriver> Serve<D> {
    /// A resource driver (`#[resource_driver]`).
    pub fn resource_driver() -> Self {
        Self {
            kind: ApiKind::ResourceDriver,
            parts: |driver| DriverParts {
                kind: ApiKind::ResourceDriver,
                error_statuses: <D as ResourceDriver>::error_statuses,
                poller: Arc::new(ResourcePoller(driver.clone())),
                api: Box::new(move |wiring| api::resource_driver_api(driver, wiring)),
            },
            spec: api::resource_driver_spec::<D>,
        }
    }
}

impl<D> std::fmt::Debug for Serve<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve").field("kind", &self.kind).finish()
    }
}

/// What the app needs of a driver, with its type erased.
pub(crate) struct DriverParts {
    pub(crate) kind: ApiKind,
    /// Every status the error type of an operation can produce.
    pub(crate) error_statuses: fn(Operation) -> Vec<u16>,
    /// The task monitor's view of the driver.
    pub(crate) poller: Arc<dyn TaskPoller>,
    /// Its API, once the services it is wired to are known.
    pub(crate) api: Box<dyn FnOnce(ApiWiring) -> ApiParts + Send>,
}

impl DriverParts {
    /// The parts of `driver`.
    pub(crate) fn of<D: Driver>(driver: D) -> Self {
        (D::__serve().parts)(Arc::new(driver))
    }
}
