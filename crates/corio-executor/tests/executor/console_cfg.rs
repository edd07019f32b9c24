//! (Feature `console`.) A build of the `console` feature without
//! `--cfg console_without_tokio_unstable` (or `tokio_unstable`) fails, with
//! a message that names the flag, instead of console-subscriber's panic at
//! run time that blames tokio. This test binary is built with the flag (it
//! could not be built otherwise); the test checks the library again without.
//!
//! Run with `RUSTFLAGS="--cfg console_without_tokio_unstable" cargo test
//! -p corio-executor --features console --test executor console_cfg::`. The inner
//! build uses a target dir of its own under `CARGO_TARGET_TMPDIR` (other
//! flags rebuild every crate; the first run checks the executor's few
//! dependencies once).

use std::process::Command;

#[test]
fn building_without_the_cfg_fails_naming_the_flag() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "check",
            "-p",
            "corio-executor",
            "--features",
            "console",
            "--lib",
        ])
        .args(["--message-format", "short"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env(
            "CARGO_TARGET_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/console-cfg"),
        )
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "built without the cfg:\n{stderr}");
    assert!(
        stderr.contains(
            r#"corio's `console` feature needs RUSTFLAGS="--cfg console_without_tokio_unstable""#
        ),
        "{stderr}"
    );
}
