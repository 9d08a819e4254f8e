//! Consuming jobs: the loop that reads the job-queue topic, the life of one consumed
//! job (wait until due, run its handler, finish or re-queue it), offset commits, and
//! the consumer context whose rebalance callbacks keep the bookkeeping in step with
//! the group's assignment.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::Message;
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::health::{check_idle_member, ConsumerHealth};
use super::message::QueuedJob;
use super::offsets::Offsets;
use super::{Inner, LAG_INTERVAL};
use crate::backoff::backoff;
use crate::jobqueue::Action;
use crate::kafka::KafkaError;
use crate::util::now_ms;
use crate::util::Locked;

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
    // How long a fetch may wait for data (librdkafka's default is 500 ms): a balance.
    // Every fetch that returns wakes librdkafka's broker thread, so a shorter wait costs
    // an idle replica CPU; on brokers that hold a fetch for its whole wait (Tansu) a longer
    // one adds to create→event. Apache Kafka answers a waiting fetch as soon as data
    // arrives: there a longer wait costs no latency. The figures behind 60:
    // docs/BENCHMARKS.md, "idle CPU < 1 % on Kafka" and "create→event p50 ≤ 20 ms on Kafka".
    ("fetch.wait.max.ms", "60"),
];

/// The consumer's session timeout: `session.timeout.ms` of `messaging.config`, or ours.
pub(super) fn session_timeout(kafka: &crate::kafka::KafkaConfig) -> Duration {
    let ours = CONSUMER_DEFAULTS
        .iter()
        .find(|(key, _)| *key == "session.timeout.ms")
        .map(|(_, value)| *value);
    kafka
        .settings
        .get("session.timeout.ms")
        .map(String::as_str)
        .or(ours)
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(45))
}

/// A job consumed this late is a replay (after a rebalance or a restart): wait this long
/// before running it, so that a later link of its chain, if there is one, is read first
/// and the stale one is skipped.
const REPLAY_OVERDUE: Duration = Duration::from_secs(1);
const REPLAY_SETTLE: Duration = Duration::from_millis(500);

/// How often finished offsets are committed.
const COMMIT_INTERVAL: Duration = Duration::from_millis(500);

/// The job-queue consumer, dropped on a thread of its own.
///
/// Dropping a librdkafka consumer closes it, which can block for as long as the broker
/// does not answer. On a runtime thread that is a runtime whose shutdown never ends: a
/// process that does not exit after SIGTERM, a test that never finishes. That happened
/// when the consume loop, cancelled by the runtime's shutdown, held the last reference
/// (a `shutdown` cut short, or none at all). So whoever lets go of it last, the close
/// runs on a detached thread; [`JobConsumer::close`] closes it on the caller's thread,
/// for the shutdown that waits for it with a time limit.
pub(super) struct JobConsumer(Option<StreamConsumer<JobQueueContext>>);

impl JobConsumer {
    /// Closes it here, now (the caller is not a runtime thread).
    pub(super) fn close(mut self) {
        drop(self.0.take());
    }
}

impl std::ops::Deref for JobConsumer {
    type Target = StreamConsumer<JobQueueContext>;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("taken only when closed or dropped")
    }
}

impl Drop for JobConsumer {
    fn drop(&mut self) {
        if let Some(consumer) = self.0.take() {
            // If no thread can be started, the closure (and the consumer) drops here.
            let _ = std::thread::Builder::new()
                .name("job-queue-drop".into())
                .spawn(move || drop(consumer));
        }
    }
}

/// Creates the job-queue consumer of `inner` (in its group) and subscribes it to the
/// topic; it joins the group once polled.
pub(super) fn subscribe(inner: &Inner) -> Result<JobConsumer, KafkaError> {
    let mut defaults = CONSUMER_DEFAULTS.to_vec();
    defaults.push(("group.id", inner.group.as_str()));
    let interval = LAG_INTERVAL.as_millis().to_string();
    if inner.measure_lag.load(std::sync::atomic::Ordering::Relaxed) {
        defaults.push(("statistics.interval.ms", interval.as_str()));
    }
    let consumer: StreamConsumer<JobQueueContext> = inner
        .kafka
        .client(&defaults)
        .create_with_context(JobQueueContext::new(inner))
        .map_err(|err| inner.kafka.refused("job-queue consumer", err))?;
    consumer
        .subscribe(&[&inner.topic])
        .map_err(|source| KafkaError::Subscribe {
            topic: inner.topic.clone(),
            source: Box::new(source),
        })?;
    Ok(JobConsumer(Some(consumer)))
}

/// Reads messages until stopped; commits finished offsets every half second. Errors
/// (broker gone, ...) are logged and the loop goes on: librdkafka reconnects.
pub(super) async fn consume(inner: Arc<Inner>, consumer: Arc<JobConsumer>) {
    /// Tells the vital the loop ended, however it ends (a panic included).
    struct Ended(Arc<ConsumerHealth>);
    impl Drop for Ended {
        fn drop(&mut self) {
            self.0.ended();
        }
    }
    let health = inner.health.clone();
    let _ended = Ended(health.clone());
    health.started();
    let mut commit = tokio::time::interval(COMMIT_INTERVAL);
    commit.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut idle_check = tokio::time::interval(health.session_timeout);
    idle_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut errors_in_a_row = 0u32;
    loop {
        health.turned();
        tokio::select! {
            biased;
            () = inner.stop.cancelled() => break,
            _ = commit.tick() => inner.commit(&consumer, CommitMode::Async),
            // Its own task: it asks the broker, which may take seconds.
            _ = idle_check.tick() => {
                tokio::spawn(check_idle_member(health.clone(), Arc::downgrade(&consumer), inner.topic.clone(), inner.group.clone()));
            }
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

impl Inner {
    /// Whether `queued` is the latest link of its chain seen on `partition` (recording
    /// it as the latest when `observe`).
    fn current(&self, partition: i32, queued: &QueuedJob, observe: bool) -> bool {
        let Some(chain) = &queued.chain else {
            return true;
        };
        self.offsets
            .locked()
            .current(partition, chain, queued.seq, observe)
    }

    fn chain_done(&self, partition: i32, queued: &QueuedJob) {
        if let Some(chain) = &queued.chain {
            self.offsets.locked().chain_done(partition, chain);
        }
    }

    /// Marks the job consumed at `partition`/`offset` finished: its offset may be
    /// committed.
    pub(super) fn done(&self, partition: i32, offset: i64, generation: &CancellationToken) {
        self.offsets.locked().done(partition, offset, generation);
    }

    /// Takes one consumed message: a malformed one is logged and skipped, any other one
    /// waits for its time in a task of its own.
    fn take(self: &Arc<Self>, partition: i32, offset: i64, payload: Option<&[u8]>) {
        let generation = self.offsets.locked().received(partition, offset);
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
            self.requeue_unhandled(&queued, partition, offset, &generation)
                .await;
            return;
        };
        let permit = tokio::select! {
            permit = self.permits.clone().acquire_owned() => permit,
            () = generation.cancelled() => return,
            () = self.stop.cancelled() => return,
        };
        let Ok(permit) = permit else { return };
        let started = now_ms();
        // A panicking handler is caught, not fatal.
        let outcome = crate::jobqueue::run_handler(handler.as_ref(), queued.job.clone()).await;
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
                self.requeue(&next, partition, offset, &generation).await;
            }
            Err(panic) => {
                tracing::error!(job_type = %queued.job.job_type, partition, offset, %panic, "job handler panicked; job dropped");
                self.chain_done(partition, &queued);
                self.done(partition, offset, &generation);
            }
        }
    }

    /// Commits, for each partition, the position up to which every job is finished.
    pub(super) fn commit(&self, consumer: &StreamConsumer<JobQueueContext>, mode: CommitMode) {
        let positions = self.offsets.locked().positions_to_commit();
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

/// Keeps the offset bookkeeping in step with the group's assignment.
pub(super) struct JobQueueContext {
    offsets: Arc<Mutex<Offsets>>,
    topic: String,
    /// Set once the group gave this member its first assignment.
    joined: tokio::sync::watch::Sender<bool>,
    health: Arc<ConsumerHealth>,
    /// Where the statistics put the lag of each assigned partition.
    lag: Arc<Mutex<Vec<(i32, i64)>>>,
}

impl JobQueueContext {
    /// The context of the consumer of `inner`'s topic.
    fn new(inner: &Inner) -> Self {
        Self {
            offsets: inner.offsets.clone(),
            topic: inner.topic.clone(),
            joined: inner.joined.clone(),
            health: inner.health.clone(),
            lag: inner.lag.clone(),
        }
    }
}

impl ClientContext for JobQueueContext {
    /// The lag of each assigned partition of the job topic: its high watermark minus the
    /// next offset to read (one past the last message handed to the app, else the
    /// committed offset). librdkafka's own `consumer_lag` counts from the committed
    /// offset, which here waits for every job still waiting on its timer.
    fn stats(&self, statistics: Statistics) {
        // No news of the topic (e.g. the broker is away): the last figures stand.
        let Some(topic) = statistics.topics.get(&self.topic) else {
            return;
        };
        let mut lags: Vec<(i32, i64)> = topic
            .partitions
            .values()
            .filter(|p| p.partition >= 0 && p.desired && p.hi_offset >= 0)
            .filter_map(|p| {
                let next = [p.app_offset, p.committed_offset]
                    .into_iter()
                    .find(|offset| *offset >= 0)?;
                Some((p.partition, (p.hi_offset - next).max(0)))
            })
            .collect();
        lags.sort_unstable();
        *self.lag.locked() = lags;
    }
}

impl ConsumerContext for JobQueueContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let partitions = partitions_of(list, &self.topic);
            let positions = self.offsets.locked().revoke(&partitions);
            // Hand over what is finished, so the next owner does not run it again.
            commit_positions(consumer, &self.topic, &positions, CommitMode::Sync);
            tracing::info!(?partitions, "job-queue partitions revoked");
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Ok(assignment) = consumer.assignment() {
            self.health
                .assigned(partitions_of(&assignment, &self.topic).len());
        }
        match rebalance {
            Rebalance::Assign(list) => {
                let partitions = partitions_of(list, &self.topic);
                self.offsets.locked().assign(&partitions);
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
