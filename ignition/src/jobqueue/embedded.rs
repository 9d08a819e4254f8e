//! The in-process job queue: each job is a task that sleeps on a timer between runs.
//!
//! Nothing polls: a job waiting for its next run is a parked timer, so with tasks in
//! progress and no requests the process sleeps. Jobs live in memory only; a restart
//! forgets them (Kafka is the durable choice).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Action, BoxFuture, Handlers, Job, JobHandler, JobQueue, JobQueueError};

/// The embedded default [`JobQueue`].
#[derive(Clone)]
pub struct EmbeddedJobQueue {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EmbeddedJobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedJobQueue")
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

struct Inner {
    handlers: Handlers,
    /// Bounds the handlers running at once (`job_queue.max_concurrent_polls`).
    permits: Arc<Semaphore>,
    /// Jobs due and waiting for a permit.
    waiting: AtomicUsize,
    jobs: TaskTracker,
    stop: CancellationToken,
}

impl EmbeddedJobQueue {
    /// A queue that runs at most `max_concurrent` handlers at once.
    pub fn new(max_concurrent: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                handlers: Handlers::default(),
                permits: Arc::new(Semaphore::new(max_concurrent)),
                waiting: AtomicUsize::new(0),
                jobs: TaskTracker::new(),
                stop: CancellationToken::new(),
            }),
        }
    }

    /// Jobs queued and not yet done (running or waiting for their next run).
    pub fn pending(&self) -> usize {
        self.inner.jobs.len()
    }

    /// Jobs due and waiting for a free worker (all `job_queue.max_concurrent_polls` are
    /// busy): the embedded queue's lag.
    pub fn waiting(&self) -> usize {
        self.inner.waiting.load(Ordering::Relaxed)
    }

    /// Reads ([`pending`](Self::pending), [`waiting`](Self::waiting)) without keeping
    /// the queue alive (`None` once it is gone), for the metrics.
    pub(crate) fn probe(&self) -> impl Fn() -> Option<(usize, usize)> + Send + Sync + 'static {
        let inner = Arc::downgrade(&self.inner);
        move || {
            inner
                .upgrade()
                .map(|inner| (inner.jobs.len(), inner.waiting.load(Ordering::Relaxed)))
        }
    }

    fn handler(&self, job_type: &str) -> Option<Arc<dyn JobHandler>> {
        self.inner.handlers.get(job_type)
    }
}

impl JobQueue for EmbeddedJobQueue {
    fn register_handler(&self, job_type: &str, handler: Arc<dyn JobHandler>) {
        self.inner.handlers.register(job_type, handler);
    }

    fn queue(&self, job: Job) -> BoxFuture<'_, Result<(), JobQueueError>> {
        Box::pin(async move {
            if self.inner.stop.is_cancelled() {
                return Err(JobQueueError::ShuttingDown);
            }
            let handler = self
                .handler(&job.job_type)
                .ok_or_else(|| JobQueueError::NoHandler(job.job_type.clone()))?;
            let inner = self.inner.clone();
            self.inner.jobs.spawn(run_job(inner, handler, job));
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.inner.stop.cancel();
            self.inner.jobs.close();
            self.inner.jobs.wait().await;
        })
    }
}

/// Runs one job until its handler says it is done, sleeping between runs.
async fn run_job(inner: Arc<Inner>, handler: Arc<dyn JobHandler>, mut job: Job) {
    loop {
        // A free permit is taken at once; only a full house waits (or stops).
        let permit = match inner.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                inner.waiting.fetch_add(1, Ordering::Relaxed);
                let permit = tokio::select! {
                    permit = inner.permits.clone().acquire_owned() => permit,
                    () = inner.stop.cancelled() => {
                        inner.waiting.fetch_sub(1, Ordering::Relaxed);
                        return abandon(&job);
                    }
                };
                inner.waiting.fetch_sub(1, Ordering::Relaxed);
                let Ok(permit) = permit else { return };
                permit
            }
        };
        // The delay counts from the start of this run, so a task in progress is polled
        // once per interval however long the poll takes.
        let started = tokio::time::Instant::now();
        // A panicking handler is caught here, not fatal.
        // The job itself goes to its handler (which may take back the value its data was
        // written from); a copy of its data stays for the log line of a panic.
        let logged = job.copy_for_log();
        let action = super::run_handler(handler.as_ref(), job).await;
        drop(permit);
        match action {
            Ok(Action::Done) => return,
            Ok(Action::Requeue {
                job: next,
                after,
                reason,
            }) => {
                tracing::debug!(job_type = %next.job_type, after = ?after, %reason, "job requeued");
                job = next;
                tokio::select! {
                    () = tokio::time::sleep_until(started + after) => {}
                    () = inner.stop.cancelled() => return abandon(&job),
                }
            }
            Err(panic) => {
                tracing::error!(job_type = %logged.job_type, job = %job_json(&logged), %panic, "job handler panicked; job dropped");
                return;
            }
        }
    }
}

fn abandon(job: &Job) {
    tracing::warn!(
        job_type = %job.job_type,
        job = %job_json(job),
        "shutting down: job abandoned (the embedded job queue keeps jobs in memory only)"
    );
}

fn job_json(job: &Job) -> String {
    serde_json::to_string(job).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Requeues each job `runs - 1` times, 1 s apart, counting runs.
    struct Counting {
        runs: usize,
        seen: Arc<AtomicUsize>,
    }

    impl JobHandler for Counting {
        fn handle(&self, job: Job) -> BoxFuture<'static, Action> {
            let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
            let runs = self.runs;
            Box::pin(async move {
                if n >= runs {
                    Action::done()
                } else {
                    let job =
                        Job::new(job.job_type, job.key, &serde_json::json!({"n": n})).unwrap();
                    Action::requeue(job, Duration::from_secs(1), "again")
                }
            })
        }
    }

    struct Panicking;
    impl JobHandler for Panicking {
        fn handle(&self, _job: Job) -> BoxFuture<'static, Action> {
            Box::pin(async { panic!("handler bug") })
        }
    }

    fn job(job_type: &str) -> Job {
        Job::new(job_type, None, &serde_json::json!({})).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn requeued_job_runs_after_its_delay_and_not_before() {
        let queue = EmbeddedJobQueue::new(4);
        let seen = Arc::new(AtomicUsize::new(0));
        queue.register_handler(
            "count",
            Arc::new(Counting {
                runs: 3,
                seen: seen.clone(),
            }),
        );
        queue.queue(job("count")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(seen.load(Ordering::SeqCst), 1, "first run happens at once");
        tokio::time::sleep(Duration::from_millis(980)).await;
        assert_eq!(
            seen.load(Ordering::SeqCst),
            1,
            "no second run before the delay"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(seen.load(Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(seen.load(Ordering::SeqCst), 3);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(seen.load(Ordering::SeqCst), 3, "done jobs do not run again");
        assert_eq!(queue.pending(), 0);
    }

    #[tokio::test]
    async fn unknown_job_type_is_refused() {
        let queue = EmbeddedJobQueue::new(1);
        let err = queue.queue(job("nobody")).await.unwrap_err();
        assert!(matches!(err, JobQueueError::NoHandler(t) if t == "nobody"));
    }

    #[tokio::test]
    async fn a_panicking_handler_does_not_stop_the_queue() {
        let queue = EmbeddedJobQueue::new(1);
        let seen = Arc::new(AtomicUsize::new(0));
        queue.register_handler("panic", Arc::new(Panicking));
        queue.register_handler(
            "count",
            Arc::new(Counting {
                runs: 1,
                seen: seen.clone(),
            }),
        );
        queue.queue(job("panic")).await.unwrap();
        queue.queue(job("count")).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), async {
            while seen.load(Ordering::SeqCst) == 0 || queue.pending() > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the second job ran and both finished");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_abandons_waiting_jobs_and_refuses_new_ones() {
        let queue = EmbeddedJobQueue::new(1);
        let seen = Arc::new(AtomicUsize::new(0));
        queue.register_handler(
            "count",
            Arc::new(Counting {
                runs: 100,
                seen: seen.clone(),
            }),
        );
        queue.queue(job("count")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        queue.shutdown().await;
        assert_eq!(queue.pending(), 0);
        assert!(matches!(
            queue.queue(job("count")).await,
            Err(JobQueueError::ShuttingDown)
        ));
    }
}
