// `status` without its value.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded")]
    #[api_error(status)]
    Exceeded,
}

fn main() {}
