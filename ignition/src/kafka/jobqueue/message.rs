//! The wire format of the job-queue topic: one [`QueuedJob`] per message, as JSON.
//!
//! Every run of a job is one message; a job that runs again is produced again as the
//! next link of its chain (same chain id, `seq` + 1), so that a replay of an older link
//! (after a rebalance or a restart) can be recognised and skipped. Kept apart because it
//! is what other replicas, older versions and the bench read and write.

use serde::{Deserialize, Serialize};

use crate::jobqueue::Job;

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
    pub(super) fn next(&self, job: Job, due_at: u64, attempt: u32) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

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
