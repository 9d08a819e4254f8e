//! The job-queue message decoder: a Kafka message's payload as the consumer reads it
//! (`QueuedJob`), then its data as the monitor reads it (`MonitoringJob`): never a panic;
//! what decodes round-trips.
#![no_main]

use ignition::__fuzz::QueuedJob;
use ignition::monitor::MonitoringJob;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    // The monitoring job's data on its own (the part other versions and the bench write).
    if let Ok(task) = serde_json::from_slice::<MonitoringJob>(payload) {
        let job = task.clone().into_job();
        assert_eq!(job.data::<MonitoringJob>().expect("its own data parses"), task);
    }
    let Ok(queued) = serde_json::from_slice::<QueuedJob>(payload) else {
        return;
    };
    let _ = format!("{queued:?}");
    if let Ok(task) = queued.job.data::<MonitoringJob>() {
        let _ = task.into_job();
    }
    let json = serde_json::to_vec(&queued).expect("a decoded job serialises");
    let again: QueuedJob = serde_json::from_slice(&json).expect("a serialised job decodes");
    assert_eq!(again, queued, "round trip through {}", String::from_utf8_lossy(&json));
});
