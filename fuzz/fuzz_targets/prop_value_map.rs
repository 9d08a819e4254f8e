//! `PropValueMap` (the `properties` / `systemProperties` of a create request) from JSON:
//! never a panic; what parses round-trips; every accessor works on every value.
#![no_main]

use ignition::models::PropValueMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Ok(map) = serde_json::from_slice::<PropValueMap>(body) else {
        return;
    };
    for (name, value) in map.iter() {
        let _ = (map.get(name), map.get_type(name), value.as_str(), value.value_type());
        assert_eq!(map.get_value(name), Some(value));
    }
    let _ = format!("{map:?}");
    let json = serde_json::to_vec(&map).expect("a parsed map serialises");
    let again: PropValueMap = serde_json::from_slice(&json).expect("a serialised map parses");
    assert_eq!(again, map, "round trip through {}", String::from_utf8_lossy(&json));
});
