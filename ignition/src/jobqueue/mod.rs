//! The job queue (the seed's JobQueueService): durable, delayed re-runs of small jobs.
//!
//! The task monitor is its only user today: one job per create, delete or execute task,
//! run again after a delay until it says it is done. A [`JobQueue`] runs each [`Job`] with
//! the [`JobHandler`] registered for its `job_type`; the handler's [`Action`] decides
//! whether the job is finished or runs again later. Implementations: [`EmbeddedJobQueue`]
//! (in-process timers, the default) and, with `messaging.connection_address`, Kafka.

mod embedded;

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use embedded::EmbeddedJobQueue;

use crate::util::RwLocked;

/// [`crate::BoxFuture`], where the job queue's traits first named it.
pub use crate::BoxFuture;

/// One job: its type (which handler runs it), its key, and its handler's data as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Job {
    /// Selects the handler, e.g. `InfrastructureTaskMonitoring`.
    pub job_type: String,
    /// Jobs with the same key stay in order (on Kafka: the message key, so they share a
    /// partition); keys spread jobs over the partitions, and so over the replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The handler's own data, as JSON text. Only the handler reads it, so it is never
    /// parsed into a generic JSON tree on the way (one allocation to store, copy or send).
    pub data: Box<RawValue>,
    /// The value `data` was written from, while the job has not left this process (the
    /// embedded queue): its handler takes it back instead of parsing `data` again, which
    /// was a tenth of a monitored create's cost. Never sent nor stored.
    #[serde(skip)]
    written_from: Option<Arc<dyn Any + Send + Sync>>,
}

impl Job {
    /// A job of `job_type` carrying `data`, serialised as JSON.
    pub fn new(
        job_type: impl Into<String>,
        key: Option<String>,
        data: &impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            job_type: job_type.into(),
            key,
            data: serde_json::value::to_raw_value(data)?,
            written_from: None,
        })
    }

    /// [`Job::new`], keeping `data` itself for [`Job::take_data`] in this process.
    pub(crate) fn new_kept<T: Serialize + Send + Sync + 'static>(
        job_type: impl Into<String>,
        key: Option<String>,
        data: T,
    ) -> Result<Self, serde_json::Error> {
        let mut job = Self::new(job_type, key, &data)?;
        job.written_from = Some(Arc::new(data));
        Ok(job)
    }

    /// A copy without the value kept by [`Job::new_kept`] (for a log line), so that the
    /// job's handler takes that value back rather than a copy of it.
    pub(crate) fn copy_for_log(&self) -> Job {
        Job {
            job_type: self.job_type.clone(),
            key: self.key.clone(),
            data: self.data.clone(),
            written_from: None,
        }
    }

    /// The job's data as a `T`.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.data.get())
    }

    /// [`Job::data`], without parsing when the job still holds the value its data was
    /// written from ([`Job::new_kept`]).
    pub(crate) fn take_data<T: DeserializeOwned + Clone + Send + Sync + 'static>(
        &mut self,
    ) -> Result<T, serde_json::Error> {
        let kept = self
            .written_from
            .take()
            .and_then(|kept| kept.downcast::<T>().ok());
        match kept {
            Some(kept) => Ok(Arc::try_unwrap(kept).unwrap_or_else(|shared| (*shared).clone())),
            None => self.data(),
        }
    }
}

impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.job_type == other.job_type
            && self.key == other.key
            && self.data.get() == other.data.get()
    }
}

/// What a handler wants done with the job it just ran.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum Action {
    /// The job is finished: forget it.
    Done,
    /// Run this (possibly updated) job again after `after`.
    Requeue {
        /// The job to run again; the handler may have updated its data (e.g. a counter).
        job: Job,
        /// How long after the start of the run that asked for it the job runs again.
        after: Duration,
        /// Why, for the logs.
        reason: String,
    },
}

impl Action {
    /// The job is finished.
    pub fn done() -> Self {
        Action::Done
    }

    /// Run `job` again after `after`, because of `reason`.
    pub fn requeue(job: Job, after: Duration, reason: impl fmt::Display) -> Self {
        Action::Requeue {
            job,
            after,
            reason: reason.to_string(),
        }
    }
}

/// Runs jobs of one type (the task monitor registers one for its jobs); its [`Action`]
/// says whether the job is done or runs again later.
///
/// ```
/// use std::time::Duration;
/// use ignition::jobqueue::{Action, BoxFuture, Job, JobHandler};
///
/// /// Runs each job three times, a second apart.
/// struct ThreeTimes;
///
/// impl JobHandler for ThreeTimes {
///     fn handle(&self, job: Job) -> BoxFuture<'static, Action> {
///         Box::pin(async move {
///             let runs: u32 = job.data().unwrap_or(0) + 1;
///             if runs == 3 {
///                 return Action::done();
///             }
///             let next = Job::new(job.job_type, job.key, &runs).expect("a number serialises");
///             Action::requeue(next, Duration::from_secs(1), format!("run {runs} of 3"))
///         })
///     }
/// }
/// ```
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one job. Panics are caught by the queue, logged, and the job is dropped.
    fn handle(&self, job: Job) -> BoxFuture<'static, Action>;
}

/// Why a job could not be queued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobQueueError {
    /// No handler was registered for the job's type.
    #[error("no handler for job type `{0}`")]
    NoHandler(String),
    /// The queue is shutting down and takes no more jobs.
    #[error("the job queue is shutting down")]
    ShuttingDown,
    /// The queue's storage did not accept the job.
    #[error("the job queue could not store the job: {0}")]
    Storage(String),
    /// The queue's backend failed (e.g. it could not start consuming); its own error.
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// Runs one job with `handler`, catching a panic (a bug in a handler must not take the
/// queue down): the handler's action, or the panic's message. Both built-in queues run
/// their jobs through it.
pub(crate) async fn run_handler(handler: &dyn JobHandler, job: Job) -> Result<Action, String> {
    use futures_util::FutureExt as _;
    std::panic::AssertUnwindSafe(handler.handle(job))
        .catch_unwind()
        .await
        .map_err(|panic| crate::util::panic_message(panic.as_ref()))
}

/// The handlers of a job queue, by job type.
#[derive(Default)]
pub(crate) struct Handlers(
    std::sync::RwLock<std::collections::HashMap<String, std::sync::Arc<dyn JobHandler>>>,
);

impl Handlers {
    pub(crate) fn register(&self, job_type: &str, handler: std::sync::Arc<dyn JobHandler>) {
        let mut handlers = self.0.write_locked();
        handlers.insert(job_type.to_string(), handler);
    }

    pub(crate) fn get(&self, job_type: &str) -> Option<std::sync::Arc<dyn JobHandler>> {
        let handlers = self.0.read_locked();
        handlers.get(job_type).cloned()
    }
}

/// A queue of jobs, each run by the handler of its type until it is done. Replace the
/// built-in one with [`App::job_queue`](crate::App::job_queue).
///
/// An implementation stores each job (durably, if it must survive a restart), runs it
/// with the registered handler as soon as it can, and runs it again `after` the delay of
/// an [`Action::Requeue`]. This one counts the jobs it is given and lets the embedded
/// queue run them:
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use ignition::jobqueue::{BoxFuture, EmbeddedJobQueue, Job, JobHandler, JobQueue, JobQueueError};
///
/// struct Counting { inner: EmbeddedJobQueue, queued: Arc<AtomicUsize> }
///
/// impl JobQueue for Counting {
///     fn register_handler(&self, job_type: &str, handler: Arc<dyn JobHandler>) {
///         self.inner.register_handler(job_type, handler);
///     }
///     fn queue(&self, job: Job) -> BoxFuture<'_, Result<(), JobQueueError>> {
///         self.queued.fetch_add(1, Ordering::SeqCst);
///         self.inner.queue(job)
///     }
///     fn shutdown(&self) -> BoxFuture<'_, ()> {
///         self.inner.shutdown()
///     }
/// }
///
/// let queue = Counting { inner: EmbeddedJobQueue::new(16), queued: Arc::default() };
/// let _app = ignition::App::new("Counting Driver").job_queue(queue);
/// ```
pub trait JobQueue: Send + Sync + 'static {
    /// Registers the handler for `job_type`; must happen before jobs of that type arrive.
    fn register_handler(&self, job_type: &str, handler: std::sync::Arc<dyn JobHandler>);

    /// Queues a job; it runs as soon as a worker is free. Returns once the job is stored.
    fn queue(&self, job: Job) -> BoxFuture<'_, Result<(), JobQueueError>>;

    /// Starts running jobs (after every handler is registered). The default does nothing.
    fn start(&self) -> BoxFuture<'_, Result<(), JobQueueError>> {
        Box::pin(async { Ok(()) })
    }

    /// Stops taking and running jobs; jobs already running finish first.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}
