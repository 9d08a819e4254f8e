// 302 is not an error status: a status is from 400 to 599.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota moved")]
    #[api_error(status = 302)]
    Moved,
}

fn main() {}
