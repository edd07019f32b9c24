//! The compile errors of `#[corio::main]` and `#[corio::test]`: each case
//! in `tests/ui/` must fail to build with exactly the error (text and span)
//! in its `.stderr` file. trybuild checks them with `cargo check` in a
//! target dir of its own (the first run builds corio's dependencies there).
//! `TRYBUILD=overwrite` rewrites the `.stderr` files after a deliberate change.

#[test]
fn compile_errors_point_at_the_offending_token() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
