//! The configuration loader on a YAML file's text (over the defaults, as `App` reads its
//! file), then a driver section read from it: never a panic, only a `BootError` message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &[u8]| {
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let _ = ignition::__fuzz::load_config(text, "simulated_cloud");
});
