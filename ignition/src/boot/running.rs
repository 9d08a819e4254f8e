//! [`RunningApp`]: the handle of a started app.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::jobqueue::JobQueue;
use crate::management::AppVital;
use crate::messaging::{Delivery, Envelope};

/// A started app: where it listens, its embedded events, and a graceful stop.
///
/// ```no_run
/// # use ignition::prelude::*;
/// # struct EchoDriver;
/// # #[vim_driver]
/// # impl EchoDriver {
/// #     async fn create_infrastructure(&self, _: String, _: String, _: PropValueMap, _: PropValueMap, _: DeploymentLocation) -> Result<CreateInfrastructureResponse, InfrastructureError> { todo!() }
/// #     async fn get_infrastructure_task(&self, _: String, _: String, _: DeploymentLocation) -> Result<InfrastructureTask, InfrastructureError> { todo!() }
/// #     async fn delete_infrastructure(&self, _: String, _: DeploymentLocation) -> Result<DeleteInfrastructureResponse, InfrastructureError> { todo!() }
/// #     async fn find_infrastructure(&self, _: String, _: String, _: String, _: DeploymentLocation) -> Result<FindInfrastructureResponse, InfrastructureError> { todo!() }
/// # }
/// # async fn embed() -> Result<(), BootError> {
/// let running = App::new("Echo VIM Driver")
///     .property("application.port", 0) // any free port
///     .driver(EchoDriver)
///     .start()
///     .await?;
/// println!("serving on {}", running.local_addr());
/// // ... later: no new requests, in-flight ones finish, jobs stop, deliveries flush.
/// running.shutdown().await;
/// # Ok(()) }
/// ```
pub struct RunningApp {
    pub(super) name: String,
    pub(super) local_addr: SocketAddr,
    pub(super) stop: CancellationToken,
    pub(super) server: Option<JoinHandle<()>>,
    pub(super) job_queue: Option<Arc<dyn JobQueue>>,
    pub(super) delivery: Option<Arc<dyn Delivery>>,
    pub(super) events: Option<broadcast::Receiver<Envelope>>,
    pub(super) app_vital: AppVital,
    /// `application.shutdown_grace`.
    pub(super) shutdown_grace: std::time::Duration,
}

impl RunningApp {
    /// The app's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The first part of a shutdown on SIGTERM: readiness answers 503 at once (so that
    /// Kubernetes takes the pod out of its Service) while the listener keeps serving for
    /// `application.shutdown_grace` — the calls LM makes before the endpoint is removed
    /// are still answered. A second signal ends the wait.
    pub(crate) async fn drain(&self) {
        self.app_vital.stopping();
        if self.shutdown_grace.is_zero() {
            return;
        }
        tracing::info!(app = %self.name, grace = ?self.shutdown_grace, "not ready any more; serving for `application.shutdown_grace` before closing");
        tokio::select! {
            () = tokio::time::sleep(self.shutdown_grace) => {}
            () = crate::runtime::shutdown_signal() => {
                tracing::info!(app = %self.name, "second shutdown signal: closing now");
            }
        }
    }

    /// The address the HTTP server listens on (its port is the real one when
    /// `application.port` was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// On the embedded default: every message delivered since start (task events),
    /// for tests and tools. `None` when messages go elsewhere (Kafka, a supplied
    /// delivery). Take it once; later calls return `None`.
    pub fn take_embedded_events(&mut self) -> Option<broadcast::Receiver<Envelope>> {
        self.events.take()
    }

    /// Stops gracefully: no new requests; requests in flight finish (up to
    /// `application.shutdown_timeout`, after which one still running is cancelled and
    /// answered 503); then the job queue stops (running polls finish) and deliveries in
    /// flight are flushed.
    pub async fn shutdown(mut self) {
        self.app_vital.stopping();
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(queue) = &self.job_queue {
            queue.shutdown().await;
        }
        if let Some(delivery) = &self.delivery {
            delivery.flush().await;
        }
        tracing::info!(app = %self.name, "stopped");
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        // Dropped without shutdown(): stop serving at least.
        self.stop.cancel();
    }
}

impl std::fmt::Debug for RunningApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningApp")
            .field("name", &self.name)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}
