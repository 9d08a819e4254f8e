// A field cannot replace the body's own `status`.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded ({status})")]
    #[api_error(status = 409)]
    Exceeded {
        #[api_error(field)]
        status: String,
    },
}

fn main() {}
