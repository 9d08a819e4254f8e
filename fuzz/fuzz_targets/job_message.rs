//! The job-queue message decoder: a Kafka message's payload as the consumer reads it
//! (`QueuedJob`), then its data as the monitor reads it (`MonitoringJob`, sealed and
//! opened too): never a panic; what decodes round-trips.
#![no_main]

use ignition::__fuzz::{monitoring_job_round_trip, QueuedJob};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    // The monitoring job's data on its own (the part other versions and the bench write),
    // written back as a job of either kind, and sealed and opened.
    monitoring_job_round_trip(payload);
    let Ok(queued) = serde_json::from_slice::<QueuedJob>(payload) else {
        return;
    };
    let _ = format!("{queued:?}");
    monitoring_job_round_trip(queued.job.data.get().as_bytes());
    let json = serde_json::to_vec(&queued).expect("a decoded job serialises");
    let again: QueuedJob = serde_json::from_slice(&json).expect("a serialised job decodes");
    assert_eq!(again, queued, "round trip through {}", String::from_utf8_lossy(&json));
});
