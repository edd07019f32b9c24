//! `cargo xtask ci`: runs the CI script, `bash .ci/run`, from the workspace root.

use std::process::Command;

use crate::{project, Result};

/// Runs `.ci/run` and fails if it does.
pub(crate) fn run() -> Result<()> {
    let root = project::root();
    let mut cmd = Command::new("bash");
    cmd.arg(".ci/run").current_dir(&root);
    project::run_checked(&mut cmd)
}
