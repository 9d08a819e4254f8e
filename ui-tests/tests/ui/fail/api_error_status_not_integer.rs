// The status is written as a string.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded")]
    #[api_error(status = "409")]
    Exceeded,
}

fn main() {}
