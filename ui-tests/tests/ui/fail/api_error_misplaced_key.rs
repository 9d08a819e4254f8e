// `field` belongs on a field, `status` on the variant.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded for {project}")]
    #[api_error(status = 409, field)]
    Exceeded {
        #[api_error(status = 409)]
        project: String,
    },
}

fn main() {}
