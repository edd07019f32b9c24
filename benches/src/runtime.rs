//! The runtimes a workload can run on, and how each one is built.
//!
//! Every workload module has one function per [`Runtime`]; adding a runtime
//! here makes the compiler point at every workload that needs a new function.

use std::fmt;

/// An async runtime that workloads are measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runtime {
    /// corio's single-threaded event loop, entered with `corio::run`.
    Corio,
    /// tokio's current-thread runtime (`Builder::new_current_thread`).
    TokioCt,
    /// smol's `LocalExecutor`, driven by `smol::block_on(ex.run(fut))`.
    SmolLocal,
}

impl Runtime {
    /// Every runtime, in the order reports list them (corio first: it is the
    /// subject, the others are the baselines its ratios are taken against).
    pub(crate) const ALL: [Runtime; 3] = [Runtime::Corio, Runtime::TokioCt, Runtime::SmolLocal];

    /// The name used on the command line and in results.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Runtime::Corio => "corio",
            Runtime::TokioCt => "tokio-ct",
            Runtime::SmolLocal => "smol-local",
        }
    }

    /// A one-line description for `--list`.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Runtime::Corio => "corio::run: corio's single-threaded event loop",
            Runtime::TokioCt => "tokio current_thread runtime (Builder::new_current_thread)",
            Runtime::SmolLocal => "smol::LocalExecutor driven by smol::block_on(ex.run(fut))",
        }
    }

    /// Looks a runtime up by its [`name`](Runtime::name).
    pub(crate) fn from_name(name: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|rt| rt.name() == name)
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Builds the tokio current-thread runtime every tokio workload runs on.
///
/// The I/O and time drivers are enabled for every workload, including those
/// that use neither, so that tokio is measured in one configuration
/// throughout, the way an application would build it, and like corio, whose
/// event loop always carries its reactor and timers.
pub(crate) fn tokio_current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("failed to build the tokio current-thread runtime")
}

#[cfg(test)]
mod tests {
    use super::Runtime;

    #[test]
    fn names_round_trip() {
        for rt in Runtime::ALL {
            assert_eq!(Runtime::from_name(rt.name()), Some(rt));
        }
        assert_eq!(Runtime::from_name("tokio"), None);
    }
}
