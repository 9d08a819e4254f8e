// The name of a field in the error body is a string.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded for {project}")]
    #[api_error(status = 409)]
    Exceeded {
        #[api_error(field = project_name)]
        project: String,
    },
}

fn main() {}
