// `Exhausted` has no `#[api_error(status = N)]`.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded")]
    #[api_error(status = 409)]
    Exceeded,
    #[error("quota exhausted")]
    Exhausted,
}

fn main() {}
