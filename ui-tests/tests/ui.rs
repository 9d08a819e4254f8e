//! What compiles with `#[vim_driver]`, `#[resource_driver]` and `#[derive(ApiError)]`, and
//! the exact error for what must not.
//!
//! Re-bless the `.stderr` files with `TRYBUILD=overwrite cargo test -p ignition-ui-tests`
//! (see README.md).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
