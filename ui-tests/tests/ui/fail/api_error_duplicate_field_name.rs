// Two fields take the same name in the error body.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded for {project} in {region}")]
    #[api_error(status = 409)]
    Exceeded {
        #[api_error(field)]
        project: String,
        #[api_error(field = "project")]
        region: String,
    },
}

fn main() {}
