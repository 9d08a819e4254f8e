// The attribute belongs on the impl block, not on a function.
use ignition::prelude::*;

#[vim_driver]
async fn create_infrastructure() {}

fn main() {}
