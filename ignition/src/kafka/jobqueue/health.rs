//! Is the job-queue consumer alive, and does it share the work?
//!
//! - The `job_queue` vital: the consume loop records each turn (it turns at least every
//!   commit interval, 0.5 s, even when no message comes). A loop that has not turned for
//!   longer than the consumer's session timeout is stuck or dead, and the vital says so:
//!   the Python framework's consumer thread could die while the process kept reporting
//!   healthy.
//! - The idle-member check: a replica that has held no partition for a session timeout
//!   while another member of the group holds several (or the topic has fewer partitions
//!   than the group has members) stands by doing nothing; it says so once with a WARN
//!   naming `messaging.topics.job_queue.num_partitions`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;

use super::consumer::JobConsumer;
use crate::jobqueue::BoxFuture;
use crate::management::{Vital, VitalStatus};
use crate::util::Locked;

/// What the consume loop and the rebalance callbacks tell about the consumer.
#[derive(Debug)]
pub(super) struct ConsumerHealth {
    /// The session timeout of the consumer: how long the loop may stand still.
    pub(super) session_timeout: Duration,
    started: AtomicBool,
    ended: AtomicBool,
    last_turn: Mutex<Instant>,
    /// Partitions held now, and since when that number has been zero (None: some held,
    /// or no assignment yet).
    idle_since: Mutex<Option<Instant>>,
    /// The idle-member WARN was logged for the current idle stretch.
    warned: AtomicBool,
}

impl ConsumerHealth {
    pub(super) fn new(session_timeout: Duration) -> Self {
        Self {
            session_timeout,
            started: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            last_turn: Mutex::new(Instant::now()),
            idle_since: Mutex::new(None),
            warned: AtomicBool::new(false),
        }
    }

    /// The consume loop starts.
    pub(super) fn started(&self) {
        self.turned();
        self.started.store(true, Ordering::SeqCst);
    }

    /// The consume loop turned once (a message, an error, or a commit tick).
    pub(super) fn turned(&self) {
        *self.last_turn.locked() = Instant::now();
    }

    /// The consume loop ended (stopped, or died).
    pub(super) fn ended(&self) {
        self.ended.store(true, Ordering::SeqCst);
    }

    /// The group assigned `held` partitions of the job-queue topic to this member.
    pub(super) fn assigned(&self, held: usize) {
        let mut idle_since = self.idle_since.locked();
        if held == 0 {
            idle_since.get_or_insert_with(Instant::now);
        } else {
            *idle_since = None;
            self.warned.store(false, Ordering::SeqCst);
        }
    }

    /// The vital's answer now.
    fn status(&self, stopping: bool) -> VitalStatus {
        if !self.started.load(Ordering::SeqCst) {
            return VitalStatus::Unhealthy {
                reason: "the job-queue consumer has not started".into(),
            };
        }
        if self.ended.load(Ordering::SeqCst) {
            let reason = if stopping {
                "the job-queue consumer stopped (shutting down)"
            } else {
                "the job-queue consumer loop ended"
            };
            return VitalStatus::Unhealthy {
                reason: reason.into(),
            };
        }
        let still = self.last_turn.locked().elapsed();
        if still > self.session_timeout {
            return VitalStatus::Unhealthy {
                reason: format!(
                    "the job-queue consumer has not polled Kafka for {:.1} s (session timeout {:.1} s)",
                    still.as_secs_f64(),
                    self.session_timeout.as_secs_f64()
                ),
            };
        }
        VitalStatus::Ok
    }

    /// Whether this member has held no partition for a session timeout and has not said
    /// so yet for this stretch.
    fn idle_too_long(&self) -> bool {
        let idle_since = *self.idle_since.locked();
        matches!(idle_since, Some(since) if since.elapsed() >= self.session_timeout)
            && !self.warned.load(Ordering::SeqCst)
    }
}

/// The `job_queue` vital of a Kafka job queue.
#[derive(Debug)]
pub(crate) struct ConsumerVital {
    pub(super) health: Arc<ConsumerHealth>,
    pub(super) stop: tokio_util::sync::CancellationToken,
}

impl Vital for ConsumerVital {
    fn name(&self) -> &str {
        "job_queue"
    }

    fn check(&self) -> BoxFuture<'_, VitalStatus> {
        Box::pin(async move { self.health.status(self.stop.is_cancelled()) })
    }
}

/// Called by the consume loop every session timeout: when this member has stood idle
/// for that long, asks the broker who holds what and warns when the work is not shared.
pub(super) async fn check_idle_member(
    health: Arc<ConsumerHealth>,
    // Weak: the last reference to a consumer closes it, which can block (see
    // `close_consumer`); that must not happen on a blocking-pool thread.
    consumer: Weak<JobConsumer>,
    topic: String,
    group: String,
) {
    if !health.idle_too_long() {
        return;
    }
    health.warned.store(true, Ordering::SeqCst);
    let (owned_topic, owned_group) = (topic.clone(), group.clone());
    let looked = tokio::task::spawn_blocking(move || {
        let consumer = consumer.upgrade()?;
        let timeout = Duration::from_secs(5);
        let partitions = consumer
            .fetch_metadata(Some(&owned_topic), timeout)
            .ok()
            .and_then(|m| m.topics().first().map(|t| t.partitions().len()));
        let members = consumer
            .fetch_group_list(Some(&owned_group), timeout)
            .map_err(|err| err.to_string())
            .and_then(|list| {
                let group = list
                    .groups()
                    .first()
                    .ok_or_else(|| "the broker does not know the group".to_string())?;
                Ok(group
                    .members()
                    .iter()
                    .map(|member| {
                        member
                            .assignment()
                            .map(|a| partitions_held(a, &owned_topic))
                            .unwrap_or(0)
                    })
                    .collect::<Vec<_>>())
            });
        Some((partitions, members))
    })
    .await;
    let Ok(Some((partitions, members))) = looked else {
        return;
    };
    let held = members.as_ref().ok();
    match idle_verdict(partitions, held.map(|m| m.as_slice())) {
        Some(why) => tracing::warn!(
            %topic,
            %group,
            partitions,
            members = held.map(Vec::len),
            most_held_by_one = held.and_then(|m| m.iter().max().copied()),
            members_unknown_because = members.as_ref().err(),
            idle_for_s = health.session_timeout.as_secs(),
            "this replica holds no job-queue partition and only stands by ({why}); raise messaging.topics.job_queue.num_partitions (a topic that exists already needs its partitions added on the broker) so that every replica shares the monitoring"
        ),
        None => health.warned.store(false, Ordering::SeqCst),
    }
}

/// Why an idle member is a problem, or `None` when it is not one (e.g. the group is
/// still rebalancing and this member will get its share).
fn idle_verdict(partitions: Option<usize>, held_by_members: Option<&[usize]>) -> Option<String> {
    match (partitions, held_by_members) {
        (Some(partitions), Some(held)) => {
            let most = held.iter().copied().max().unwrap_or(0);
            if most > 1 {
                Some(format!("another member holds {most} partitions"))
            } else if partitions < held.len() {
                Some(format!(
                    "{partitions} partition(s) for {} members",
                    held.len()
                ))
            } else {
                None
            }
        }
        (Some(partitions), None) if partitions >= 1 => Some(format!(
            "{partitions} partition(s); the group's members could not be listed"
        )),
        _ => None,
    }
}

/// How many partitions of `topic` a member's assignment holds. The assignment is the
/// Kafka consumer protocol's (`version: int16`, `[topic: string, [partition: int32]]`,
/// `user_data: bytes`); anything that does not parse counts as none.
fn partitions_held(assignment: &[u8], topic: &str) -> usize {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if bytes.len() < n {
            return None;
        }
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        Some(head)
    }
    fn int16(bytes: &mut &[u8]) -> Option<i16> {
        take(bytes, 2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }
    fn int32(bytes: &mut &[u8]) -> Option<i32> {
        take(bytes, 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    let parse = |mut bytes: &[u8]| -> Option<usize> {
        let _version = int16(&mut bytes)?;
        let topics = int32(&mut bytes)?;
        let mut held = 0;
        for _ in 0..topics.max(0) {
            let len = usize::try_from(int16(&mut bytes)?).ok()?;
            let name = take(&mut bytes, len)?;
            let count = usize::try_from(int32(&mut bytes)?).ok()?;
            take(&mut bytes, count.checked_mul(4)?)?;
            if name == topic.as_bytes() {
                held += count;
            }
        }
        Some(held)
    };
    parse(assignment).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment(topics: &[(&str, &[i32])]) -> Vec<u8> {
        let mut out = 0i16.to_be_bytes().to_vec();
        out.extend((topics.len() as i32).to_be_bytes());
        for (name, partitions) in topics {
            out.extend((name.len() as i16).to_be_bytes());
            out.extend(name.as_bytes());
            out.extend((partitions.len() as i32).to_be_bytes());
            for p in *partitions {
                out.extend(p.to_be_bytes());
            }
        }
        out.extend((-1i32).to_be_bytes()); // no user data
        out
    }

    #[test]
    fn assignments_are_counted_for_the_topic_only() {
        let bytes = assignment(&[("jobs", &[0, 2, 5]), ("other", &[1])]);
        assert_eq!(partitions_held(&bytes, "jobs"), 3);
        assert_eq!(partitions_held(&bytes, "other"), 1);
        assert_eq!(partitions_held(&bytes, "none"), 0);
    }

    #[test]
    fn a_truncated_assignment_counts_as_none() {
        let bytes = assignment(&[("jobs", &[0, 2, 5])]);
        assert_eq!(partitions_held(&bytes[..bytes.len() - 8], "jobs"), 0);
        assert_eq!(partitions_held(&[], "jobs"), 0);
        assert_eq!(partitions_held(&[0, 0, 0x7f, 0xff, 0xff, 0xff], "jobs"), 0);
    }

    #[test]
    fn an_idle_member_is_a_problem_only_when_the_work_is_not_shared() {
        assert!(idle_verdict(Some(6), Some(&[0, 4, 2]))
            .unwrap()
            .contains("holds 4"));
        assert!(idle_verdict(Some(1), Some(&[0, 1]))
            .unwrap()
            .contains("1 partition(s) for 2 members"));
        // Every member holds one or none, and there are enough partitions: a rebalance
        // in progress will give this one its share.
        assert_eq!(idle_verdict(Some(3), Some(&[0, 1, 1])), None);
        assert!(idle_verdict(Some(2), None).is_some());
        assert_eq!(idle_verdict(None, None), None);
    }

    #[test]
    fn the_vital_follows_the_loop() {
        let health = ConsumerHealth::new(Duration::from_millis(50));
        assert!(
            matches!(health.status(false), VitalStatus::Unhealthy { reason } if reason.contains("not started"))
        );
        health.started();
        assert_eq!(health.status(false), VitalStatus::Ok);
        std::thread::sleep(Duration::from_millis(80));
        assert!(
            matches!(health.status(false), VitalStatus::Unhealthy { reason } if reason.contains("has not polled Kafka"))
        );
        health.turned();
        assert_eq!(health.status(false), VitalStatus::Ok);
        health.ended();
        assert!(
            matches!(health.status(false), VitalStatus::Unhealthy { reason } if reason.contains("loop ended"))
        );
    }

    #[test]
    fn an_idle_stretch_is_reported_once() {
        let health = ConsumerHealth::new(Duration::from_millis(20));
        health.assigned(0);
        assert!(!health.idle_too_long());
        std::thread::sleep(Duration::from_millis(30));
        assert!(health.idle_too_long());
        health.warned.store(true, Ordering::SeqCst);
        assert!(!health.idle_too_long());
        health.assigned(2);
        health.assigned(0);
        std::thread::sleep(Duration::from_millis(30));
        assert!(health.idle_too_long());
    }
}
