//! The job queue on Kafka: one topic shared by every replica of a driver through a
//! consumer group.
//!
//! Each message is a [`QueuedJob`]: the job and the time it is due. A consumed message
//! waits on a timer until it is due (no busy loop), runs its handler, and only then is
//! its offset committable: when the job finished, or when its re-queued successor was
//! confirmed by the broker. Offsets are committed per partition up to the oldest message
//! still outstanding, so after a crash or a rebalance every unfinished job is consumed
//! again (at least once; a job that was running at that moment may run twice).
//!
//! The consumer starts at the earliest offset when its group has none committed, so jobs
//! queued before it joined (creates answered in the first seconds) are not skipped.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{KafkaConfig, KafkaDelivery};
use crate::boot::BootError;
use crate::jobqueue::{Action, BoxFuture, Handlers, Job, JobHandler, JobQueue, JobQueueError};

/// One message on the job-queue topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedJob {
    /// When the job is due, in milliseconds since the Unix epoch.
    pub due_at: u64,
    /// How often it was re-queued because no replica had a handler for it.
    #[serde(default)]
    pub attempt: u32,
    /// The runs of one job form a chain: each run re-queued is the next link. A replayed
    /// link older than one already seen is skipped, so a rebalance or a restart does not
    /// fork a job into two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// The link's place in its chain (0 for the first run).
    #[serde(default)]
    pub seq: u64,
    /// The job.
    pub job: Job,
}

impl QueuedJob {
    /// The first link of a new chain: `job`, due at `due_at` (ms since the epoch).
    pub fn new(job: Job, due_at: u64) -> Self {
        Self {
            due_at,
            attempt: 0,
            chain: Some(fastrand_id()),
            seq: 0,
            job,
        }
    }

    /// The next link of this chain: `job` again, due at `due_at`.
    fn next(&self, job: Job, due_at: u64, attempt: u32) -> Self {
        Self {
            due_at,
            attempt,
            chain: self.chain.clone(),
            seq: self.seq + 1,
            job,
        }
    }
}

/// A random id of 16 letters and digits.
fn fastrand_id() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(16)
        .collect()
}

/// Consumer settings Ignition needs; `messaging.config` may override them.
const CONSUMER_DEFAULTS: &[(&str, &str)] = &[
    ("enable.auto.commit", "false"),
    ("enable.auto.offset.store", "false"),
    // A new group starts at the beginning: no job queued before it joined is skipped.
    ("auto.offset.reset", "earliest"),
    // How soon a replica that died is noticed and its partitions move (librdkafka's
    // default is 45 s; brokers such as Tansu also wait half of it before a first join).
    ("session.timeout.ms", "10000"),
    ("heartbeat.interval.ms", "3000"),
    // How long a fetch may wait for data (librdkafka's default is 500 ms). Every fetch
    // that returns wakes librdkafka's broker thread, ~110 us of CPU on a 2-core VM: with
    // 100 tasks in progress an idle replica spent 1.0 % of a core at 10 ms and spends
    // 0.65 % at 60 ms. On Tansu, which holds a fetch, create→event is then ~15 ms median
    // (9 ms at 40, 30 ms at 100, 230 ms at 500; docs/BENCHMARKS.md). Apache Kafka answers
    // a waiting fetch as soon as data arrives: there a longer wait costs no latency.
    ("fetch.wait.max.ms", "60"),
];

/// At shutdown, how long to let a join in progress finish before leaving the group
/// (a member that leaves mid-join can leave some brokers' group stuck).
const FIRST_JOIN_WAIT: Duration = Duration::from_secs(8);

/// How long `queue` waits for the broker's confirmation before answering anyway.
pub const QUEUE_CONFIRM_WAIT: Duration = Duration::from_secs(5);

/// A job consumed this late is a replay (after a rebalance or a restart): wait this long
/// before running it, so that a later link of its chain, if there is one, is read first
/// and the stale one is skipped.
const REPLAY_OVERDUE: Duration = Duration::from_secs(1);
const REPLAY_SETTLE: Duration = Duration::from_millis(500);

/// How often finished offsets are committed.
const COMMIT_INTERVAL: Duration = Duration::from_millis(500);

/// The Kafka [`JobQueue`].
pub struct KafkaJobQueue {
    inner: Arc<Inner>,
}

struct Inner {
    producer: Arc<KafkaDelivery>,
    kafka: KafkaConfig,
    topic: String,
    group: String,
    handlers: Handlers,
    permits: Arc<Semaphore>,
    max_backoff: Duration,
    offsets: Arc<Mutex<Offsets>>,
    stop: CancellationToken,
    jobs: TaskTracker,
    consumer: Mutex<Option<Arc<StreamConsumer<JobQueueContext>>>>,
    consumer_loop: Mutex<Option<tokio::task::JoinHandle<()>>>,
    joined: tokio::sync::watch::Sender<bool>,
}

impl KafkaJobQueue {
    /// A job queue on `topic` for consumer group `group`, sending through `producer`.
    /// It consumes once [`JobQueue::start`] is called.
    pub fn new(
        kafka: &KafkaConfig,
        producer: Arc<KafkaDelivery>,
        topic: &str,
        group: &str,
        max_concurrent: usize,
        max_backoff: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                producer,
                kafka: kafka.clone(),
                topic: topic.to_string(),
                group: group.to_string(),
                handlers: Handlers::default(),
                permits: Arc::new(Semaphore::new(max_concurrent)),
                max_backoff,
                offsets: Arc::new(Mutex::new(Offsets::default())),
                stop: CancellationToken::new(),
                jobs: TaskTracker::new(),
                consumer: Mutex::new(None),
                consumer_loop: Mutex::new(None),
                joined: tokio::sync::watch::channel(false).0,
            }),
        }
    }

    /// Jobs consumed and not yet finished (waiting until due, or running).
    pub fn outstanding(&self) -> usize {
        self.inner
            .offsets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .outstanding()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Inner {
    fn handler(&self, job_type: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(job_type)
    }

    /// Produces a job and waits until the broker has it.
    async fn produce(&self, queued: &QueuedJob) -> Result<(), JobQueueError> {
        let payload = serde_json::to_vec(queued)
            .map_err(|err| JobQueueError::Storage(format!("cannot serialise the job: {err}")))?;
        self.producer
            .send(&self.topic, queued.job.key.as_deref(), &payload)
            .await
            .map_err(|err| JobQueueError::Storage(err.to_string()))
    }

    /// Produces until confirmed or the queue stops (`false`: not re-queued).
    async fn produce_until_confirmed(&self, queued: &QueuedJob) -> bool {
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

    /// Whether `queued` is the latest link of its chain seen on `partition` (recording
    /// it as the latest when `observe`).
    fn current(&self, partition: i32, queued: &QueuedJob, observe: bool) -> bool {
        let Some(chain) = &queued.chain else {
            return true;
        };
        self.offsets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .current(partition, chain, queued.seq, observe)
    }

    fn chain_done(&self, partition: i32, queued: &QueuedJob) {
        if let Some(chain) = &queued.chain {
            self.offsets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .chain_done(partition, chain);
        }
    }

    fn done(&self, partition: i32, offset: i64, generation: &CancellationToken) {
        self.offsets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .done(partition, offset, generation);
    }

    /// Takes one consumed message: a malformed one is logged and skipped, any other one
    /// waits for its time in a task of its own.
    fn take(self: &Arc<Self>, partition: i32, offset: i64, payload: Option<&[u8]>) {
        let generation = self
            .offsets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .received(partition, offset);
        let payload = payload.unwrap_or_default();
        match serde_json::from_slice::<QueuedJob>(payload) {
            Ok(queued) if !self.current(partition, &queued, true) => {
                tracing::debug!(partition, offset, chain = ?queued.chain, seq = queued.seq, "replayed job skipped: a later run of it was already queued");
                self.done(partition, offset, &generation);
            }
            Ok(queued) => {
                let inner = self.clone();
                self.jobs.spawn(async move {
                    inner.run(queued, partition, offset, generation).await;
                });
            }
            Err(err) => {
                let preview: String = String::from_utf8_lossy(payload).chars().take(200).collect();
                tracing::error!(partition, offset, error = %err, payload = %preview, "malformed job message skipped");
                self.done(partition, offset, &generation);
            }
        }
    }

    /// Waits until the job is due, runs it, and re-queues it if asked.
    async fn run(
        &self,
        queued: QueuedJob,
        partition: i32,
        offset: i64,
        generation: CancellationToken,
    ) {
        let now = now_ms();
        let overdue = Duration::from_millis(now.saturating_sub(queued.due_at));
        let mut wait = Duration::from_millis(queued.due_at.saturating_sub(now));
        if overdue > REPLAY_OVERDUE && queued.chain.is_some() {
            wait = REPLAY_SETTLE;
        }
        // Revoked or stopping: leave the offset uncommitted; the job runs again elsewhere.
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = generation.cancelled() => return,
            () = self.stop.cancelled() => return,
        }
        if !self.current(partition, &queued, false) {
            tracing::debug!(partition, offset, chain = ?queued.chain, seq = queued.seq, "replayed job skipped: a later run of it was already queued");
            self.done(partition, offset, &generation);
            return;
        }
        let Some(handler) = self.handler(&queued.job.job_type) else {
            let attempt = queued.attempt + 1;
            let after = backoff(Duration::from_secs(1), attempt, self.max_backoff);
            tracing::warn!(job_type = %queued.job.job_type, attempt, ?after, "no handler for this job type here; re-queued");
            let next = queued.next(
                queued.job.clone(),
                now_ms() + after.as_millis() as u64,
                attempt,
            );
            if self.produce_until_confirmed(&next).await {
                self.done(partition, offset, &generation);
            }
            return;
        };
        let permit = tokio::select! {
            permit = self.permits.clone().acquire_owned() => permit,
            () = generation.cancelled() => return,
            () = self.stop.cancelled() => return,
        };
        let Ok(permit) = permit else { return };
        let started = now_ms();
        // Its own task, so that a panicking handler is caught.
        let outcome = tokio::spawn(handler.handle(queued.job.clone())).await;
        // The permit bounds running handlers, not re-queues waiting for the broker.
        drop(permit);
        match outcome {
            Ok(Action::Done) => {
                self.chain_done(partition, &queued);
                self.done(partition, offset, &generation);
            }
            Ok(Action::Requeue { job, after, reason }) => {
                tracing::debug!(job_type = %job.job_type, ?after, %reason, "job re-queued");
                let next = queued.next(job, started + after.as_millis() as u64, 0);
                if self.produce_until_confirmed(&next).await {
                    self.done(partition, offset, &generation);
                }
            }
            Err(err) => {
                tracing::error!(job_type = %queued.job.job_type, partition, offset, error = %err, "job handler panicked; job dropped");
                self.chain_done(partition, &queued);
                self.done(partition, offset, &generation);
            }
        }
    }

    /// Commits, for each partition, the position up to which every job is finished.
    fn commit(&self, consumer: &StreamConsumer<JobQueueContext>, mode: CommitMode) {
        let positions = self
            .offsets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .positions_to_commit();
        commit_positions(consumer, &self.topic, &positions, mode);
    }
}

fn commit_positions<C: Consumer<X>, X: ConsumerContext>(
    consumer: &C,
    topic: &str,
    positions: &[(i32, i64)],
    mode: CommitMode,
) {
    if positions.is_empty() {
        return;
    }
    let mut list = TopicPartitionList::new();
    for (partition, position) in positions {
        if let Err(err) = list.add_partition_offset(topic, *partition, Offset::Offset(*position)) {
            tracing::error!(error = %err, "cannot build an offset commit");
            return;
        }
    }
    if let Err(err) = consumer.commit(&list, mode) {
        tracing::warn!(error = %err, "offset commit failed; will try again");
    }
}

/// `base` doubled per attempt (from the first), capped.
fn backoff(base: Duration, attempt: u32, cap: Duration) -> Duration {
    base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)))
        .min(cap)
}

impl JobQueue for KafkaJobQueue {
    fn register_handler(&self, job_type: &str, handler: Arc<dyn JobHandler>) {
        self.inner.handlers.register(job_type, handler);
    }

    /// Waits up to [`QUEUE_CONFIRM_WAIT`] for the broker to confirm the job; past that
    /// (the broker is away), the job stays in the producer's buffer, is delivered when
    /// the broker is back, and `Ok` is returned so the API keeps answering.
    fn queue(&self, job: Job) -> BoxFuture<'_, Result<(), JobQueueError>> {
        Box::pin(async move {
            if self.inner.stop.is_cancelled() {
                return Err(JobQueueError::ShuttingDown);
            }
            let inner = self.inner.clone();
            let queued = QueuedJob::new(job, now_ms());
            let mut sent = tokio::spawn(async move { inner.produce(&queued).await });
            match tokio::time::timeout(QUEUE_CONFIRM_WAIT, &mut sent).await {
                Ok(result) => result.map_err(|err| JobQueueError::Storage(err.to_string()))?,
                Err(_) => {
                    tracing::warn!(topic = %self.inner.topic, "the broker has not confirmed a new job within 5 s; it stays buffered in the producer and is sent when the broker is back");
                    tokio::spawn(async move {
                        match sent.await {
                            Ok(Ok(())) => tracing::info!("buffered job confirmed by the broker"),
                            Ok(Err(err)) => tracing::error!(error = %err, "buffered job lost"),
                            Err(err) => tracing::error!(error = %err, "buffered job lost"),
                        }
                    });
                    Ok(())
                }
            }
        })
    }

    fn start(&self) -> BoxFuture<'_, Result<(), JobQueueError>> {
        Box::pin(async move {
            self.start_consuming()
                .await
                .map_err(|err| JobQueueError::Backend(Box::new(err)))
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.shutdown_consuming())
    }
}

impl KafkaJobQueue {
    async fn start_consuming(&self) -> Result<(), BootError> {
        {
            let inner = &self.inner;
            let context = JobQueueContext {
                offsets: inner.offsets.clone(),
                topic: inner.topic.clone(),
                joined: inner.joined.clone(),
            };
            let mut defaults = CONSUMER_DEFAULTS.to_vec();
            defaults.push(("group.id", inner.group.as_str()));
            let consumer: StreamConsumer<JobQueueContext> = inner
                .kafka
                .client(&defaults)
                .create_with_context(context)
                .map_err(|err| inner.kafka.refused("job-queue consumer", err))?;
            consumer.subscribe(&[&inner.topic]).map_err(|err| {
                BootError::new(format!(
                    "cannot subscribe to the job-queue topic `{}` (`messaging.topics.job_queue.name`): {err}",
                    inner.topic
                ))
            })?;
            let consumer = Arc::new(consumer);
            *inner.consumer.lock().unwrap_or_else(|e| e.into_inner()) = Some(consumer.clone());
            let task = tokio::spawn(consume(inner.clone(), consumer));
            *inner
                .consumer_loop
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(task);
            tracing::info!(topic = %inner.topic, group = %inner.group, "job-queue consumer started");
            Ok(())
        }
    }

    async fn shutdown_consuming(&self) {
        {
            let inner = &self.inner;
            let consuming = inner
                .consumer_loop
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some();
            if consuming && !*inner.joined.borrow() {
                let mut joined = inner.joined.subscribe();
                let waited = tokio::time::timeout(FIRST_JOIN_WAIT, joined.wait_for(|j| *j)).await;
                if waited.is_err() {
                    tracing::warn!("leaving the job-queue group before its first join finished");
                }
            }
            inner.stop.cancel();
            let consumer_loop = inner
                .consumer_loop
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(task) = consumer_loop {
                let _ = task.await;
            }
            // Running jobs finish (and their re-queues are confirmed); waiting ones stop.
            inner.jobs.close();
            inner.jobs.wait().await;
            let consumer = inner
                .consumer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(consumer) = consumer {
                inner.commit(&consumer, CommitMode::Sync);
                // Dropping the consumer leaves the group (its partitions move at once);
                // librdkafka can block there, so not on a runtime thread, and not forever.
                let closed = tokio::task::spawn_blocking(move || drop(consumer));
                if tokio::time::timeout(Duration::from_secs(10), closed)
                    .await
                    .is_err()
                {
                    tracing::warn!("the job-queue consumer did not close within 10 s");
                }
            }
            tracing::info!(topic = %inner.topic, "job queue stopped");
        }
    }
}

/// Reads messages until stopped; commits finished offsets every half second. Errors
/// (broker gone, ...) are logged and the loop goes on: librdkafka reconnects.
async fn consume(inner: Arc<Inner>, consumer: Arc<StreamConsumer<JobQueueContext>>) {
    let mut commit = tokio::time::interval(COMMIT_INTERVAL);
    commit.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut errors_in_a_row = 0u32;
    loop {
        tokio::select! {
            biased;
            () = inner.stop.cancelled() => break,
            _ = commit.tick() => inner.commit(&consumer, CommitMode::Async),
            message = consumer.recv() => match message {
                Ok(message) => {
                    errors_in_a_row = 0;
                    inner.take(message.partition(), message.offset(), message.payload());
                }
                Err(err) => {
                    errors_in_a_row += 1;
                    if errors_in_a_row == 1 || errors_in_a_row % 20 == 0 {
                        tracing::warn!(error = %err, errors_in_a_row, "job-queue consumer error; carrying on");
                    }
                    let wait = backoff(Duration::from_millis(100), errors_in_a_row, Duration::from_secs(5));
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = inner.stop.cancelled() => break,
                    }
                }
            }
        }
    }
}

/// Which consumed jobs are still outstanding, per partition of the current assignment.
#[derive(Default)]
struct Offsets {
    partitions: HashMap<i32, PartitionOffsets>,
}

struct PartitionOffsets {
    /// Consumed, not finished.
    outstanding: BTreeSet<i64>,
    /// One past the highest offset consumed (None before the first message).
    next: Option<i64>,
    /// The last position committed.
    committed: Option<i64>,
    /// Cancelled when the partition is revoked: its waiting jobs stop.
    generation: CancellationToken,
    /// The latest link seen of each unfinished job chain.
    chains: HashMap<String, u64>,
}

impl PartitionOffsets {
    fn new() -> Self {
        Self {
            outstanding: BTreeSet::new(),
            next: None,
            committed: None,
            generation: CancellationToken::new(),
            chains: HashMap::new(),
        }
    }

    /// Where the group may resume: the oldest outstanding job, or past the last one seen.
    fn position(&self) -> Option<i64> {
        self.outstanding.first().copied().or(self.next)
    }
}

impl Offsets {
    fn assign(&mut self, partitions: &[i32]) {
        for partition in partitions {
            self.partitions
                .entry(*partition)
                .or_insert_with(PartitionOffsets::new);
        }
    }

    /// Forgets revoked partitions (their waiting jobs stop); returns their positions.
    fn revoke(&mut self, partitions: &[i32]) -> Vec<(i32, i64)> {
        let mut positions = Vec::new();
        for partition in partitions {
            if let Some(state) = self.partitions.remove(partition) {
                state.generation.cancel();
                if let Some(position) = state.position().filter(|p| Some(*p) != state.committed) {
                    positions.push((*partition, position));
                }
            }
        }
        positions
    }

    fn received(&mut self, partition: i32, offset: i64) -> CancellationToken {
        let state = self
            .partitions
            .entry(partition)
            .or_insert_with(PartitionOffsets::new);
        state.outstanding.insert(offset);
        state.next = Some(state.next.map_or(offset + 1, |next| next.max(offset + 1)));
        state.generation.clone()
    }

    fn current(&mut self, partition: i32, chain: &str, seq: u64, observe: bool) -> bool {
        let Some(state) = self.partitions.get_mut(&partition) else {
            return true;
        };
        match state.chains.get_mut(chain) {
            Some(latest) if *latest > seq => false,
            Some(latest) => {
                if observe {
                    *latest = seq;
                }
                true
            }
            None => {
                if observe {
                    state.chains.insert(chain.to_string(), seq);
                }
                true
            }
        }
    }

    fn chain_done(&mut self, partition: i32, chain: &str) {
        if let Some(state) = self.partitions.get_mut(&partition) {
            state.chains.remove(chain);
        }
    }

    fn done(&mut self, partition: i32, offset: i64, generation: &CancellationToken) {
        if let Some(state) = self.partitions.get_mut(&partition) {
            // A job of an earlier assignment of this partition no longer counts.
            if !generation.is_cancelled() {
                state.outstanding.remove(&offset);
            }
        }
    }

    /// Positions that moved since the last commit (and are taken as committed).
    fn positions_to_commit(&mut self) -> Vec<(i32, i64)> {
        let mut positions = Vec::new();
        for (partition, state) in &mut self.partitions {
            if let Some(position) = state.position() {
                if state.committed != Some(position) {
                    state.committed = Some(position);
                    positions.push((*partition, position));
                }
            }
        }
        positions
    }

    fn outstanding(&self) -> usize {
        self.partitions.values().map(|p| p.outstanding.len()).sum()
    }
}

/// Keeps the offset bookkeeping in step with the group's assignment.
struct JobQueueContext {
    offsets: Arc<Mutex<Offsets>>,
    topic: String,
    /// Set once the group gave this member its first assignment.
    joined: tokio::sync::watch::Sender<bool>,
}

impl ClientContext for JobQueueContext {}

impl ConsumerContext for JobQueueContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let partitions = partitions_of(list, &self.topic);
            let positions = self
                .offsets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .revoke(&partitions);
            // Hand over what is finished, so the next owner does not run it again.
            commit_positions(consumer, &self.topic, &positions, CommitMode::Sync);
            tracing::info!(?partitions, "job-queue partitions revoked");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let partitions = partitions_of(list, &self.topic);
                self.offsets
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .assign(&partitions);
                self.joined.send_replace(true);
                tracing::info!(?partitions, "job-queue partitions assigned");
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(err) => tracing::warn!(error = %err, "job-queue rebalance error"),
        }
    }
}

fn partitions_of(list: &TopicPartitionList, topic: &str) -> Vec<i32> {
    list.elements()
        .iter()
        .filter(|e| e.topic() == topic)
        .map(|e| e.partition())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_position_waits_for_the_oldest_outstanding_job() {
        let mut offsets = Offsets::default();
        offsets.assign(&[0]);
        let g = offsets.received(0, 10);
        offsets.received(0, 11);
        offsets.received(0, 12);
        assert_eq!(offsets.positions_to_commit(), vec![(0, 10)]);
        offsets.done(0, 11, &g);
        offsets.done(0, 12, &g);
        assert_eq!(
            offsets.positions_to_commit(),
            vec![],
            "10 still outstanding: nothing moves"
        );
        offsets.done(0, 10, &g);
        assert_eq!(offsets.positions_to_commit(), vec![(0, 13)]);
        assert_eq!(offsets.positions_to_commit(), vec![], "committed once");
    }

    #[test]
    fn revoking_stops_waiting_jobs_and_hands_over_the_position() {
        let mut offsets = Offsets::default();
        offsets.assign(&[0, 1]);
        let g0 = offsets.received(0, 5);
        offsets.received(0, 6);
        offsets.done(0, 5, &g0);
        let revoked = offsets.revoke(&[0]);
        assert_eq!(revoked, vec![(0, 6)]);
        assert!(g0.is_cancelled());
        // a late finish of a revoked job changes nothing
        offsets.done(0, 6, &g0);
        assert_eq!(offsets.outstanding(), 0);
        // a new assignment starts afresh
        offsets.assign(&[0]);
        let g1 = offsets.received(0, 6);
        assert!(!g1.is_cancelled());
        assert_eq!(offsets.outstanding(), 1);
    }

    #[test]
    fn an_older_link_of_a_chain_is_stale_once_a_later_one_was_seen() {
        let mut offsets = Offsets::default();
        offsets.assign(&[0]);
        assert!(offsets.current(0, "c", 4, true), "first sight");
        assert!(offsets.current(0, "c", 5, true), "the next link");
        assert!(!offsets.current(0, "c", 4, false), "replayed older link");
        assert!(
            offsets.current(0, "d", 0, true),
            "other chains are independent"
        );
        offsets.chain_done(0, "c");
        assert!(
            offsets.current(0, "c", 1, false),
            "a finished chain is forgotten"
        );
        offsets.revoke(&[0]);
        offsets.assign(&[0]);
        assert!(
            offsets.current(0, "d", 0, false),
            "a new assignment starts afresh"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let got: Vec<u64> = (1..=6)
            .map(|a| backoff(Duration::from_secs(1), a, Duration::from_secs(10)).as_secs())
            .collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn queued_jobs_round_trip_as_json() {
        let job = Job::new("T", Some("k".into()), &serde_json::json!({"a": 1})).unwrap();
        let queued = QueuedJob {
            due_at: 42,
            attempt: 1,
            chain: Some("c".into()),
            seq: 3,
            job,
        };
        let text = serde_json::to_string(&queued).unwrap();
        assert_eq!(
            text,
            r#"{"due_at":42,"attempt":1,"chain":"c","seq":3,"job":{"job_type":"T","key":"k","data":{"a":1}}}"#
        );
        assert_eq!(serde_json::from_str::<QueuedJob>(&text).unwrap(), queued);
    }
}
