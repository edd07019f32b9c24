//! What a signal did before corio first touched it: the default action, ignored, or caught by
//! someone else's handler. Read from `/proc/self/status` (no `unsafe` `sigaction` call needed).
//!
//! The answer decides two things in [`hub`](super::hub): whether corio keeps the default action
//! alive for the times nobody listens (only if it was the default), and whether the runner may take
//! over Ctrl-C (only if SIGINT had its default action: a program started with SIGINT ignored, like
//! a background job of a non-interactive shell, or one that installed its own handler, opts out).

use libc::c_int;

/// A signal's disposition when corio first looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// The default action (terminate, ignore, stop…, depending on the signal).
    Default,
    /// `SIG_IGN`.
    Ignored,
    /// Some handler corio did not install.
    Caught,
}

/// The current disposition of `signal` for this process.
///
/// Where `/proc` is unavailable (not Linux), every signal reads as [`Disposition::Default`].
pub(crate) fn disposition(signal: c_int) -> Disposition {
    match std::fs::read_to_string("/proc/self/status") {
        Ok(status) => parse(&status, signal),
        Err(_) => Disposition::Default,
    }
}

/// The disposition of `signal` in a `/proc/<pid>/status` text.
fn parse(status: &str, signal: c_int) -> Disposition {
    let Some(bit) = u32::try_from(signal - 1)
        .ok()
        .and_then(|shift| 1u64.checked_shl(shift))
    else {
        return Disposition::Default;
    };
    let mask = |key: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|value| u64::from_str_radix(value.trim(), 16).ok())
            .unwrap_or(0)
    };
    if mask("SigIgn:") & bit != 0 {
        Disposition::Ignored
    } else if mask("SigCgt:") & bit != 0 {
        Disposition::Caught
    } else {
        Disposition::Default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tdemo\nSigBlk:\t0000000000000000\n\
                          SigIgn:\t0000000000000002\nSigCgt:\t0000000000004000\n";

    #[test]
    fn reads_the_ignore_and_catch_masks() {
        assert_eq!(parse(STATUS, libc::SIGINT), Disposition::Ignored); // bit 1
        assert_eq!(parse(STATUS, libc::SIGTERM), Disposition::Caught); // bit 14
        assert_eq!(parse(STATUS, libc::SIGHUP), Disposition::Default);
        assert_eq!(parse(STATUS, 0), Disposition::Default);
        assert_eq!(parse(STATUS, 99), Disposition::Default);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_this_process() {
        // SIGKILL can never be caught or ignored.
        assert_eq!(disposition(libc::SIGKILL), Disposition::Default);
    }
}
