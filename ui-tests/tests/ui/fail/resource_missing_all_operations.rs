// An empty block: each operation is reported, with its signature; using the driver adds
// no error of its own.
use ignition::prelude::*;

pub struct ScriptDriver;

#[resource_driver]
impl ScriptDriver {}

fn main() {
    let _ = App::new("Script").driver(ScriptDriver);
}
