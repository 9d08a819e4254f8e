// `code` is not a key of `#[api_error]`.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded")]
    #[api_error(status = 409, code = "Q1")]
    Exceeded,
}

fn main() {}
