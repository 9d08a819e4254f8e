//! The delete request body as `POST /api/infrastructure/delete` parses it: never a panic;
//! a body that parses serialises to JSON that parses to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(request) = ignition::__fuzz::parse_delete(body) {
        let json = serde_json::to_vec(&request).expect("a parsed request serialises");
        let again = ignition::__fuzz::parse_delete(&json).expect("a serialised request parses");
        assert_eq!(again, request, "round trip through {}", String::from_utf8_lossy(&json));
    }
});
