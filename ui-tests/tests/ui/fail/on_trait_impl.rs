// The attribute belongs on an inherent impl block, not on a trait impl.
use ignition::prelude::*;

pub trait Vim {
    fn name(&self) -> String;
}

pub struct EchoDriver;

#[vim_driver]
impl Vim for EchoDriver {
    fn name(&self) -> String {
        "echo".into()
    }
}

fn main() {}
