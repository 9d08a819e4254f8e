// The attribute belongs on the impl block, not on the struct.
use ignition::prelude::*;

#[vim_driver]
pub struct EchoDriver;

fn main() {}
