// `retry` is a flag, not `retry = true`.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota service down")]
    #[api_error(status = 503, retry = true)]
    Unavailable,
}

fn main() {}
