// An error type is an enum or a struct, not a union.
use ignition::prelude::*;

#[derive(ApiError)]
pub union QuotaError {
    code: u32,
    ratio: f32,
}

fn main() {}
