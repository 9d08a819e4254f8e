// An `ApiError` is a `std::error::Error` (its `Display` is the body's
// `localizedMessage`): here there is neither.
use ignition::prelude::*;

#[derive(Debug, ApiError)]
pub enum QuotaError {
    #[api_error(status = 409)]
    Exceeded,
}

fn main() {}
