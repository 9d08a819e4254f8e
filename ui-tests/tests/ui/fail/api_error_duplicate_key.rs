// `status` is given twice.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded")]
    #[api_error(status = 409)]
    #[api_error(status = 429)]
    Exceeded,
}

fn main() {}
