// An empty impl block: each of the four operations is reported missing.
use ignition::prelude::*;

pub struct EchoDriver;

#[vim_driver]
impl EchoDriver {}

fn main() {}
