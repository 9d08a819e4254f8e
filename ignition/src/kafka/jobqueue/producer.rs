//! Producing jobs: a new job, and the re-queue of a job that runs again (the next link
//! of its chain), which is retried until the broker confirms it, so that a job is never
//! dropped by an outage; its consumed offset is finished only once its successor is
//! safely on the topic.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::message::{now_ms, QueuedJob};
use super::Inner;
use crate::backoff::backoff;
use crate::jobqueue::JobQueueError;
use crate::kafka::spool::Message;

impl Inner {
    /// Produces a job and waits until the broker has it.
    pub(super) async fn produce(&self, queued: &QueuedJob) -> Result<(), JobQueueError> {
        let payload = serde_json::to_vec(queued)
            .map_err(|err| JobQueueError::Storage(format!("cannot serialise the job: {err}")))?;
        self.producer
            .send(&self.topic, queued.job.key.as_deref(), &payload)
            .await
            .map_err(|err| JobQueueError::Storage(err.to_string()))
    }

    /// Writes a new job to the spool (returns once it is on disk), then sends it in the
    /// background until the broker confirms it.
    pub(super) async fn spool_and_produce(&self, queued: &QueuedJob) -> Result<(), JobQueueError> {
        let payload = serde_json::to_vec(queued)
            .map_err(|err| JobQueueError::Storage(format!("cannot serialise the job: {err}")))?;
        let key = queued.job.key.clone();
        let ticket = self
            .producer
            .spool(&self.topic, key.as_deref(), &payload)
            .await
            .map_err(|err| JobQueueError::Storage(err.to_string()))?;
        let Some(ticket) = ticket else {
            return self.produce(queued).await;
        };
        let producer = self.producer.clone();
        let message = Message {
            topic: self.topic.clone(),
            key,
            payload,
            headers: Vec::new(),
        };
        tokio::spawn(async move { producer.send_spooled(ticket, &message).await });
        Ok(())
    }

    /// Produces until confirmed or the queue stops (`false`: not re-queued).
    pub(super) async fn produce_until_confirmed(&self, queued: &QueuedJob) -> bool {
        let mut failures = 0u32;
        loop {
            match self.produce(queued).await {
                Ok(()) => return true,
                Err(err) => {
                    failures += 1;
                    let wait = backoff(
                        Duration::from_millis(200),
                        failures,
                        Duration::from_secs(10),
                    );
                    tracing::error!(error = %err, job_type = %queued.job.job_type, ?wait, "cannot re-queue a job; trying again");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.stop.cancelled() => return false,
                    }
                }
            }
        }
    }

    /// Re-queues `next` (the successor of the job consumed at `partition`/`offset`) and,
    /// once the broker has it, marks the consumed one finished.
    pub(super) async fn requeue(
        &self,
        next: &QueuedJob,
        partition: i32,
        offset: i64,
        generation: &CancellationToken,
    ) {
        if self.produce_until_confirmed(next).await {
            self.done(partition, offset, generation);
        }
    }

    /// Re-queues a job no handler here can run, with a growing delay (another replica,
    /// or a later version of this one, may have the handler).
    pub(super) async fn requeue_unhandled(
        &self,
        queued: &QueuedJob,
        partition: i32,
        offset: i64,
        generation: &CancellationToken,
    ) {
        let attempt = queued.attempt + 1;
        let after = backoff(Duration::from_secs(1), attempt, self.max_backoff);
        tracing::warn!(job_type = %queued.job.job_type, attempt, ?after, "no handler for this job type here; re-queued");
        let next = queued.next(
            queued.job.clone(),
            now_ms() + after.as_millis() as u64,
            attempt,
        );
        self.requeue(&next, partition, offset, generation).await;
    }
}
