//! Compile-fail tests (`fail/*.rs`, with the expected diagnostics in `fail/*.stderr`) and
//! compile-pass tests (`pass/*.rs`) of `stream!`.
//!
//! Regenerate the expected output after a deliberate change with
//! `TRYBUILD=overwrite cargo test -p ui-tests --test ui`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("fail/*.rs");
    t.pass("pass/*.rs");
}
