//! Sealed monitoring jobs (`job_queue.encryption_key_file`): the deployment location's
//! `properties` — credentials, most of the time — never travel or rest in clear in a job
//! (the job-queue topic, the spool files). They are encrypted with AES-256-GCM (aws-lc-rs,
//! the provider rustls uses here) under a random nonce per sealing, the task's ids as
//! associated data (a sealed blob moved into another task's job does not open), and kept
//! in the job as `sealed_properties`: base64 of nonce ‖ ciphertext ‖ tag.
//!
//! A job that cannot be opened — sealed with another key, tampered with, or sealed while
//! this replica has no key — is refused: logged at ERROR, counted
//! (`ignition_sealed_jobs_refused_total`), and never run.

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::MonitoringJob;

/// The key monitoring jobs are sealed with.
pub(crate) struct JobSeal {
    key: RandomizedNonceKey,
}

impl std::fmt::Debug for JobSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JobSeal(<key>)")
    }
}

/// Why a sealed job was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum SealError {
    /// The job is sealed and this replica has no `job_queue.encryption_key_file`.
    #[error("the job's deployment-location properties are sealed, and this replica has no `job_queue.encryption_key_file`")]
    NoKey,
    /// Another key, or a tampered job.
    #[error("the job's sealed deployment-location properties do not open with this replica's `job_queue.encryption_key_file` (sealed with another key, or tampered with)")]
    WrongKey,
    /// Not what sealing writes (not base64, too short, not a JSON object once opened).
    #[error("the job's `sealed_properties` are malformed: {0}")]
    Malformed(String),
}

impl JobSeal {
    /// A seal with this AES-256 key.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        // 32 bytes is AES-256-GCM's key length: the one way `new` fails is ruled out.
        let key = RandomizedNonceKey::new(&AES_256_GCM, key).expect("an AES-256 key is 32 bytes");
        Self { key }
    }

    /// `task` with its deployment location's properties sealed (and cleared).
    pub(crate) fn seal(&self, mut task: MonitoringJob) -> MonitoringJob {
        let properties = std::mem::take(&mut task.deployment_location.properties);
        // A JSON map serialises.
        let mut in_out = serde_json::to_vec(&properties).expect("a JSON object serialises to JSON");
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(associated_data(&task)), &mut in_out)
            // AES-GCM sealing fails only for inputs past 64 GiB, or without randomness.
            .expect("AES-256-GCM seals a job's properties");
        let mut sealed = nonce.as_ref().to_vec();
        sealed.extend_from_slice(&in_out);
        task.sealed_properties = Some(STANDARD.encode(sealed));
        task
    }

    /// Restores the properties of a sealed `task`; a task that is not sealed is returned
    /// as it is (a job queued before sealing was turned on).
    #[cfg(test)]
    pub(crate) fn open(&self, task: MonitoringJob) -> Result<MonitoringJob, SealError> {
        open_with(Some(self), task)
    }
}

/// Opens `task` with `seal` (no key: only an unsealed task passes).
pub(crate) fn open_with(
    seal: Option<&JobSeal>,
    mut task: MonitoringJob,
) -> Result<MonitoringJob, SealError> {
    let Some(sealed) = task.sealed_properties.take() else {
        return Ok(task);
    };
    let seal = seal.ok_or(SealError::NoKey)?;
    let bytes = STANDARD
        .decode(sealed.as_bytes())
        .map_err(|err| SealError::Malformed(format!("not base64: {err}")))?;
    if bytes.len() < NONCE_LEN {
        return Err(SealError::Malformed(format!(
            "{} bytes, shorter than a nonce",
            bytes.len()
        )));
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| SealError::Malformed("a bad nonce".into()))?;
    let mut in_out = ciphertext.to_vec();
    let plain = seal
        .key
        .open_in_place(nonce, Aad::from(associated_data(&task)), &mut in_out)
        .map_err(|_| SealError::WrongKey)?;
    task.deployment_location.properties = serde_json::from_slice(plain)
        .map_err(|err| SealError::Malformed(format!("not a JSON object once opened: {err}")))?;
    Ok(task)
}

/// What a sealed blob is bound to: the task's ids.
fn associated_data(task: &MonitoringJob) -> Vec<u8> {
    let mut data = Vec::with_capacity(task.infrastructure_id.len() + task.request_id.len() + 1);
    data.extend_from_slice(task.infrastructure_id.as_bytes());
    data.push(0);
    data.extend_from_slice(task.request_id.as_bytes());
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::DeploymentLocation;

    fn task() -> MonitoringJob {
        let mut location = DeploymentLocation::new("dl");
        location
            .properties
            .insert("os_auth_password".into(), "s3cr3t-p4ss".into());
        location
            .properties
            .insert("os_api_url".into(), "http://keystone".into());
        MonitoringJob::new(Some("i-1"), "r-1", location)
    }

    #[test]
    fn sealed_properties_are_not_in_the_job_and_open_again() {
        let seal = JobSeal::new(&[7; 32]);
        let sealed = seal.seal(task());
        let json = serde_json::to_string(&sealed).unwrap();
        assert!(!json.contains("s3cr3t"), "{json}");
        assert!(!json.contains("keystone"), "{json}");
        assert!(json.contains("\"sealed_properties\""), "{json}");
        let read: MonitoringJob = serde_json::from_str(&json).unwrap();
        assert_eq!(seal.open(read).unwrap(), task());
    }

    #[test]
    fn two_sealings_differ_and_both_open() {
        let seal = JobSeal::new(&[7; 32]);
        let (a, b) = (seal.seal(task()), seal.seal(task()));
        assert_ne!(
            a.sealed_properties, b.sealed_properties,
            "a nonce per sealing"
        );
        assert_eq!(seal.open(a).unwrap(), seal.open(b).unwrap());
    }

    #[test]
    fn another_key_tampering_or_no_key_is_refused() {
        let sealed = JobSeal::new(&[7; 32]).seal(task());
        let other = JobSeal::new(&[8; 32]);
        assert_eq!(other.open(sealed.clone()), Err(SealError::WrongKey));
        assert_eq!(open_with(None, sealed.clone()), Err(SealError::NoKey));

        let mut tampered = sealed.clone();
        let mut bytes = STANDARD
            .decode(tampered.sealed_properties.unwrap())
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        tampered.sealed_properties = Some(STANDARD.encode(bytes));
        let seal = JobSeal::new(&[7; 32]);
        assert_eq!(seal.open(tampered), Err(SealError::WrongKey));

        let mut moved = sealed.clone();
        moved.request_id = "r-2".into();
        assert_eq!(
            seal.open(moved),
            Err(SealError::WrongKey),
            "bound to its task"
        );

        let mut short = sealed;
        short.sealed_properties = Some("AAAA".into());
        assert!(matches!(seal.open(short), Err(SealError::Malformed(_))));
    }

    #[test]
    fn an_unsealed_job_passes_with_or_without_a_key() {
        assert_eq!(JobSeal::new(&[7; 32]).open(task()).unwrap(), task());
        assert_eq!(open_with(None, task()).unwrap(), task());
    }
}
