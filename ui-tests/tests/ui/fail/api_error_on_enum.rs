// The status belongs on each variant, not on the enum.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
#[api_error(status = 409)]
pub enum QuotaError {
    #[error("quota exceeded")]
    #[api_error(status = 409)]
    Exceeded,
}

fn main() {}
