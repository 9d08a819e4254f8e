//! What the fuzz targets in `fuzz/` drive: the parsers behind the HTTP API, the
//! configuration loader and the unpacker of a resource driver's `driverFiles`, which are
//! crate-private. Not an API: it changes without notice
//! (feature `fuzz-internals`).

use crate::models::{
    CreateInfrastructureRequest, DeleteInfrastructureRequest, FindInfrastructureRequest,
    InfrastructureTaskQuery,
};

/// A create request body, parsed as `POST /api/infrastructure/create` parses it; `Err` is
/// the message of the 400.
pub fn parse_create(body: &[u8]) -> Result<CreateInfrastructureRequest, String> {
    crate::api::parse_body(body)
}

/// A delete request body, parsed as `POST /api/infrastructure/delete` parses it.
pub fn parse_delete(body: &[u8]) -> Result<DeleteInfrastructureRequest, String> {
    crate::api::parse_body(body)
}

/// A query request body, parsed as `POST /api/infrastructure/query` parses it.
pub fn parse_query(body: &[u8]) -> Result<InfrastructureTaskQuery, String> {
    crate::api::parse_body(body)
}

/// A find request body, parsed as `POST /api/infrastructure/find` parses it.
pub fn parse_find(body: &[u8]) -> Result<FindInfrastructureRequest, String> {
    crate::api::parse_body(body)
}

/// Loads `yaml` as the configuration file over the defaults (no environment variables)
/// and reads the driver section `section` as a JSON value, as `App` does at start-up;
/// `Err` is the `BootError` message.
pub fn load_config(yaml: &str, section: &str) -> Result<serde_json::Value, String> {
    let loaded =
        crate::config::load_yaml_text(yaml, "Fuzz VIM Driver").map_err(|err| err.to_string())?;
    // Start-up logs the configuration and its warnings.
    let _ = format!("{:?} {:?}", loaded.config, loaded.warnings);
    loaded
        .section::<serde_json::Value>(section)
        .map_err(|err| err.to_string())
}

/// Reads `json` as a monitoring job's data, as the monitor does; a job that reads is written
/// back as a job of either kind, and sealed and opened with a key, and must read again the
/// same. Panics on a mismatch (what the fuzz target looks for).
pub fn monitoring_job_round_trip(json: &[u8]) {
    use crate::monitor::{JobSeal, MonitoringJob};
    use crate::operations::ApiKind;
    let Ok(task) = serde_json::from_slice::<MonitoringJob>(json) else {
        return;
    };
    for kind in [ApiKind::Infrastructure, ApiKind::ResourceDriver] {
        let job = task.clone().into_job(kind);
        assert_eq!(
            job.data::<MonitoringJob>().expect("its own data parses"),
            task
        );
    }
    let seal = JobSeal::new(&[0x42; 32]);
    if task.sealed_properties.is_none() {
        let sealed = seal.seal(task.clone());
        let opened =
            crate::monitor::open_sealed(Some(&seal), sealed).expect("what is sealed opens");
        assert_eq!(opened, task);
    }
}

/// The job-queue topic's message (`ignition::kafka::QueuedJob`), here also without the
/// `kafka` feature, so the fuzz build needs no librdkafka.
#[cfg(feature = "kafka")]
pub use crate::kafka::QueuedJob;

#[cfg(not(feature = "kafka"))]
#[allow(dead_code, unreachable_pub)] // the producer's and consumer's helpers
#[path = "kafka/jobqueue/message.rs"]
mod message;

#[cfg(not(feature = "kafka"))]
pub use message::QueuedJob;

/// Unpacks `encoded` as a request's `driverFiles` is unpacked (same checks), with the
/// given limits, into a new directory in `parent`, on this thread; `Err` is the 400's (or
/// the 500's) error.
pub fn unpack_driver_files(
    encoded: &str,
    max_entries: usize,
    max_size: u64,
    parent: &std::path::Path,
) -> Result<crate::DriverFiles, crate::ResourceDriverError> {
    let limits = crate::driver_files::DriverFilesLimits {
        max_entries,
        max_size,
    };
    let never = std::sync::atomic::AtomicBool::new(false);
    crate::driver_files::unpack_blocking(encoded, limits, parent, &never)
}
