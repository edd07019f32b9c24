//! The tests `cargo xtask valgrind` leaves out, each with the reason: what
//! valgrind cannot emulate, and tests that race timers a few milliseconds
//! apart (valgrind slows everything 20-50 times; its first pass through new
//! code is slower still).

/// Tests left out under valgrind, passed as `--skip FILTER` to every test
/// binary of the package: (package, filter, reason). Keyed by package and
/// test name, not binary, so they hold whichever binary the test lives in.
pub(super) const SKIPS: [(&str, &str, &str); 12] = [
    (
        "corio-executor",
        "a_slow_poll_is_reported_with_id_name_location_and_duration",
        "timing: a 20 ms slow-poll threshold, which every poll exceeds under valgrind",
    ),
    (
        "corio-executor",
        "hidden_tasks_and_an_unset_hook_report_nothing",
        "timing: a 5 ms slow-poll threshold, which every poll exceeds under valgrind",
    ),
    (
        "corio-executor",
        "work_spawned_by_one_task_spreads_over_the_workers",
        "timing: valgrind runs one thread at a time, so the worker that spawns the 20,000 \
         tasks may run them all before the other is scheduled to steal",
    ),
    (
        "corio",
        "a_running_child_is_watched_through_a_pidfd",
        "valgrind 3.19 does not implement pidfd_open (syscall 434 fails with ENOSYS), so \
         children are watched by the SIGCHLD fallback, which the other process tests then cover",
    ),
    (
        "corio",
        "missing_program_is_not_found_and_named",
        "glibc's posix_spawn reports an exec failure through memory its CLONE_VM child \
         shares; valgrind runs that child as a fork, so spawning a missing program succeeds",
    ),
    (
        "corio",
        "every_case_passes_without_pidfds",
        "runs missing_program_is_not_found_and_named among its cases (see above); the \
         fallback path it forces is what every process test takes under valgrind anyway",
    ),
    (
        "corio",
        "a_timeout_splits_into_done_and_pending_without_cancelling",
        "timing: expects a 40 ms wait to return within 100 ms",
    ),
    (
        "corio",
        "first_completed_returns_when_the_first_finishes_and_the_others_keep_running",
        "timing: expects only a 10 ms sleeper of three (10, 60, 80 ms) to be done at the \
         first wake-up; valgrind's first pass through the loop takes over 60 ms",
    ),
    (
        "corio",
        "first_exception_returns_on_a_panicking_task",
        "timing: expects a task sleeping 10 ms to fail before one sleeping 30 ms finishes",
    ),
    (
        "corio",
        "many_sleeps_wake_in_deadline_order",
        "timing: deadlines 1 ms apart, each read from the clock as its task starts; \
         valgrind takes longer than that to start 50 tasks",
    ),
    (
        "corio",
        "call_later_runs_callbacks_in_deadline_order",
        "timing: deadlines 10 ms apart, read from the clock by three call_later calls \
         that valgrind can stretch past 10 ms",
    ),
    (
        "corio",
        "as_completed_is_a_futures_core_stream",
        "timing: expects a 10 ms sleep to finish before a 20 ms one",
    ),
];
