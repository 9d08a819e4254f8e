// A tuple field in the error body needs a name.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded for {0}")]
    #[api_error(status = 409)]
    Exceeded(#[api_error(field)] String),
}

fn main() {}
