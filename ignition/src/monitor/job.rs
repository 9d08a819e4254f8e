//! [`MonitoringJob`]: the data of one monitoring job, as it travels on the job queue (and
//! sits in the spool): the same shape for both API kinds.

use serde::{Deserialize, Serialize};

use crate::jobqueue::Job;
use crate::models::DeploymentLocation;
use crate::operations::ApiKind;
use crate::tracectx::TraceCtx;

/// The data of one monitoring job (its [`Job::data`]).
///
/// An infrastructure task is `(infrastructure_id, request_id)`; a lifecycle execution has
/// a request id only (`infrastructure_id` empty, and left out of the JSON). Fields added
/// after the first version are optional, so jobs queued by an earlier version still
/// decode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MonitoringJob {
    /// The infrastructure the task works on (empty for a lifecycle execution).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) infrastructure_id: String,
    /// The create, delete or execute request whose task is watched.
    pub(crate) request_id: String,
    /// Where the infrastructure lives (passed to every poll).
    pub(crate) deployment_location: DeploymentLocation,
    /// Polls so far.
    #[serde(default)]
    pub(crate) polls: u32,
    /// Retryable errors in a row (drives the backoff).
    #[serde(default)]
    pub(crate) consecutive_errors: u32,
    /// When the task must have finished (`job_queue.task_timeout` after its create or
    /// delete), in milliseconds since the Unix epoch; it travels with the job, so it
    /// holds on every replica and across restarts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deadline_ms: Option<u64>,
    /// The trace context of the request that started the task (its `X-Tracectx-*`
    /// headers): every poll is logged in it and the task's event carries it as message
    /// headers, on whichever replica polls. Absent in jobs of earlier versions.
    #[serde(default, skip_serializing_if = "TraceCtx::is_empty")]
    pub(crate) trace_ctx: TraceCtx,
    /// When the request was accepted, in milliseconds since the Unix epoch (for
    /// `ignition_create_to_event_seconds`); absent in jobs queued by older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created_ms: Option<u64>,
    /// The deployment location's `properties`, sealed (`job_queue.encryption_key_file`;
    /// see `seal`); the location's own `properties` are then empty. Absent in jobs of
    /// replicas without a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sealed_properties: Option<String>,
}

impl MonitoringJob {
    /// A job for a new task, not yet polled.
    pub(crate) fn new(
        infrastructure_id: Option<&str>,
        request_id: &str,
        deployment_location: DeploymentLocation,
    ) -> Self {
        Self {
            infrastructure_id: infrastructure_id.unwrap_or_default().to_string(),
            request_id: request_id.to_string(),
            deployment_location,
            polls: 0,
            consecutive_errors: 0,
            deadline_ms: None,
            trace_ctx: TraceCtx::default(),
            created_ms: None,
            sealed_properties: None,
        }
    }

    /// The infrastructure id, for an infrastructure task.
    pub(crate) fn infrastructure_id(&self) -> Option<&str> {
        Some(self.infrastructure_id.as_str()).filter(|id| !id.is_empty())
    }

    /// What the task's job and event are keyed by (so that one task's messages stay in
    /// order): its infrastructure id, or the request id of an execution.
    pub(crate) fn key(&self) -> &str {
        self.infrastructure_id().unwrap_or(&self.request_id)
    }

    /// The job of `kind` that carries this task.
    pub(crate) fn into_job(self, kind: ApiKind) -> Job {
        let key = Some(self.key().to_string());
        // Strings, numbers and string-keyed maps only: serialising cannot fail.
        Job::new_kept(kind.job_type(), key, self).expect("a MonitoringJob serialises to JSON")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_has_no_infrastructure_id_on_the_wire_and_is_keyed_by_its_request() {
        let job = MonitoringJob::new(None, "r-1", DeploymentLocation::new("dl"));
        let json = serde_json::to_value(&job).unwrap();
        assert!(json.get("infrastructure_id").is_none(), "{json}");
        assert_eq!(job.key(), "r-1");
        let message = job.clone().into_job(ApiKind::ResourceDriver);
        assert_eq!(message.job_type, "LifecycleExecutionMonitoring");
        assert_eq!(message.key.as_deref(), Some("r-1"));
        assert_eq!(message.data::<MonitoringJob>().unwrap(), job);
        let mut kept = message.clone();
        assert_eq!(kept.take_data::<MonitoringJob>().unwrap(), job, "as kept");
        assert_eq!(
            kept.take_data::<MonitoringJob>().unwrap(),
            job,
            "parsed again"
        );
        // What went through JSON (Kafka, the spool) has only its data to parse.
        let mut sent: Job = serde_json::from_slice(&serde_json::to_vec(&message).unwrap()).unwrap();
        assert_eq!(sent.take_data::<MonitoringJob>().unwrap(), job, "as sent");
    }

    #[test]
    fn a_job_of_the_first_version_still_decodes() {
        let first: MonitoringJob = serde_json::from_str(
            r#"{"infrastructure_id":"i","request_id":"r","deployment_location":{"name":"dl"}}"#,
        )
        .unwrap();
        assert_eq!(first.key(), "i");
        assert_eq!((first.polls, first.deadline_ms), (0, None));
        assert!(first.trace_ctx.is_empty());
    }
}
