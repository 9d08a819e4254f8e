// A field of the error body must serialise to JSON.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded")]
    #[api_error(status = 409)]
    Exceeded {
        #[api_error(field)]
        since: std::time::Instant,
    },
}

fn main() {}
