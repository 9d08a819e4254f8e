// Input of the expansion snapshot `api_error.expanded.rs` (see `src/snapshots.rs`): an
// error enum with unit, tuple and struct variants, `retry`, and fields in the body; a
// generic struct.

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded for project {project}")]
    #[api_error(status = 409)]
    Exceeded {
        #[api_error(field)]
        project: String,
        #[api_error(field = "retryAfterSeconds")]
        retry_after: u32,
        limit: u32,
    },
    #[error("quota service unavailable")]
    #[api_error(status = 503, retry)]
    Unavailable,
    #[error("invalid quota request: {0}")]
    #[api_error(status = 422)]
    Invalid(#[api_error(field = "reason")] String),
    #[error(transparent)]
    #[api_error(status = 500)]
    Internal(#[from] std::io::Error),
}

#[derive(Debug, thiserror::Error, ApiError)]
#[error("upstream {service} failed")]
#[api_error(status = 502, retry)]
pub struct Upstream<D: std::fmt::Debug> {
    #[api_error(field)]
    service: String,
    #[api_error(field)]
    detail: D,
}
