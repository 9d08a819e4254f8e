// The attribute belongs on an inherent impl block, not on a trait impl.
use ignition::prelude::*;

pub struct ScriptDriver;

#[resource_driver]
impl Default for ScriptDriver {
    fn default() -> Self {
        ScriptDriver
    }
}

fn main() {}
