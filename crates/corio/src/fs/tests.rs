//! Unit tests of `corio::fs::File`'s batching: how many trips to the pool
//! a pattern of calls costs (the behaviour tests are in tests/corio/fs.rs).
