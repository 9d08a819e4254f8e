// The attribute belongs on the impl block of the driver, not on its struct.
use ignition::prelude::*;

#[resource_driver]
pub struct ScriptDriver;

fn main() {}
