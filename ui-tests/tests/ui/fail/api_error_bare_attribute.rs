// `#[api_error]` without keys.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded")]
    #[api_error]
    Exceeded,
}

fn main() {}
