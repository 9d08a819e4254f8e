// The attribute belongs on an impl block, not on a function.
use ignition::prelude::*;

#[resource_driver]
async fn execute_lifecycle() {}

fn main() {}
