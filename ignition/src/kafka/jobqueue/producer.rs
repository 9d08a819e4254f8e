//! Producing jobs: a new job, and the re-queue of a job that runs again (the next link
//! of its chain), which is retried until the broker confirms it, so that a job is never
//! dropped by an outage; its consumed offset is finished only once its successor is
//! safely on the topic.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::message::QueuedJob;
use super::Inner;
use crate::backoff::backoff;
use crate::jobqueue::JobQueueError;
use crate::kafka::delivery::OnFull;
use crate::kafka::spool::Message;
use crate::util::now_ms;

impl Inner {
    /// The message of `queued` on the job-queue topic.
    fn message(&self, queued: &QueuedJob) -> Result<Message, JobQueueError> {
        let payload = serde_json::to_vec(queued)
            .map_err(|err| JobQueueError::Storage(format!("cannot serialise the job: {err}")))?;
        Ok(Message {
            topic: self.topic.clone(),
            key: queued.job.key.clone(),
            payload,
            headers: Vec::new(),
        })
    }

    /// Produces a new job and waits until the broker has it.
    pub(super) async fn produce(&self, queued: &QueuedJob) -> Result<(), JobQueueError> {
        let message = self.message(queued)?;
        self.producer
            .send_message(&message, OnFull::NEW_JOB)
            .await
            .map_err(|err| JobQueueError::Storage(err.to_string()))
    }

    /// Writes a new job to the spool (returns once it is on disk), then sends it in the
    /// background until the broker confirms it. A spool that cannot take it refuses it
    /// ([`OnFull::NEW_JOB`]).
    pub(super) async fn spool_and_produce(&self, queued: &QueuedJob) -> Result<(), JobQueueError> {
        let message = self.message(queued)?;
        let ticket = self
            .producer
            .spool(&message, OnFull::NEW_JOB)
            .await
            .map_err(|err| JobQueueError::Storage(err.to_string()))?;
        let Some(ticket) = ticket else {
            return self.produce(queued).await;
        };
        let producer = self.producer.clone();
        // Given up at shutdown, it stays in the spool for the next start.
        tokio::spawn(async move {
            let _ = producer
                .send_until_confirmed(&message, Some(ticket), None)
                .await;
        });
        Ok(())
    }

    /// Produces a re-queued job until confirmed or the queue stops (`false`: not
    /// re-queued). Spooled as [`OnFull::REQUEUE`] says while it is sent.
    pub(super) async fn produce_until_confirmed(&self, queued: &QueuedJob) -> bool {
        let requeued = async {
            let message = self.message(queued)?;
            let ticket = self
                .producer
                .spool(&message, OnFull::REQUEUE)
                .await
                .map_err(|err| JobQueueError::Storage(err.to_string()))?;
            Ok::<_, JobQueueError>((message, ticket))
        };
        let (message, ticket) = match requeued.await {
            Ok(spooled) => spooled,
            Err(err) => {
                tracing::error!(error = %err, job_type = %queued.job.job_type, "cannot re-queue a job");
                return false;
            }
        };
        match self
            .producer
            .send_until_confirmed(&message, ticket, Some(&self.stop))
            .await
        {
            Ok(()) => true,
            Err(ticket) => {
                // The consumed job is not finished: it runs again after a restart (or a
                // rebalance), so its re-queue is not sent again from the spool too.
                if let Some(ticket) = ticket {
                    self.producer.unspool(ticket);
                }
                false
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
