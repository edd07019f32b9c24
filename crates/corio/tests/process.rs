//! Separate binary: spawning a child forks this process, and until the child execs it holds a
//! copy of every fd, so a socket another test just closed still accepts (its refused connect
//! succeeds): the children must not share a process with other tests.
//!
//! corio::process on its default path (a pidfd per child on Linux): output capture,
//! communicate without deadlock, exit codes and signals, reaping of awaited and
//! dropped children, errors naming the program, kill_on_drop, stdin EOF on wait.
//! The cases live in `process_cases/`; `process_fallback.rs` runs them again on the timer
//! fallback.

mod process_cases;

use process_cases as cases;

/// On Linux 5.3+ a running child is watched through a pidfd (the fast path).
#[cfg(target_os = "linux")]
#[test]
fn a_running_child_is_watched_through_a_pidfd() {
    assert!(
        cases::pidfds_while_a_child_runs() >= 1,
        "expected a pidfd while a child runs (is this kernel older than 5.3?)"
    );
}

#[test]
fn echo_output_is_captured() {
    cases::echo_output_is_captured();
}

#[test]
fn one_mib_round_trips_through_cat() {
    cases::one_mib_round_trips_through_cat();
}

#[test]
fn child_writing_before_reading_does_not_deadlock() {
    cases::child_writing_before_reading_does_not_deadlock();
}

#[test]
fn exit_codes_come_back() {
    cases::exit_codes_come_back();
}

#[test]
fn kill_ends_a_sleeping_child_with_sigkill() {
    cases::kill_ends_a_sleeping_child_with_sigkill();
}

#[test]
fn terminate_sends_sigterm() {
    cases::terminate_sends_sigterm();
}

#[test]
fn try_wait_sees_the_exit_without_waiting() {
    cases::try_wait_sees_the_exit_without_waiting();
}

#[test]
fn many_children_are_all_reaped() {
    cases::many_children_are_all_reaped();
}

#[test]
fn missing_program_is_not_found_and_named() {
    cases::missing_program_is_not_found_and_named();
}

#[test]
fn kill_on_drop_kills_and_plain_drop_does_not() {
    cases::kill_on_drop_kills_and_plain_drop_does_not();
}

#[test]
fn output_and_status_use_std_defaults() {
    cases::output_and_status_use_std_defaults();
}

#[test]
fn wait_closes_stdin_first() {
    cases::wait_closes_stdin_first();
}

#[test]
fn pipes_work_with_futures_io_from_other_tasks() {
    cases::pipes_work_with_futures_io_from_other_tasks();
}

#[test]
fn shell_pipeline_runs() {
    cases::shell_pipeline_runs();
}

#[test]
fn communicate_input_without_stdin_pipe_is_invalid() {
    cases::communicate_input_without_stdin_pipe_is_invalid();
}

#[test]
fn child_ignoring_its_stdin_is_not_an_error() {
    cases::child_ignoring_its_stdin_is_not_an_error();
}

#[test]
#[should_panic(expected = "needs a running event loop")]
fn spawn_outside_a_loop_panics_clearly() {
    let _ = corio::process::Command::new("true").spawn();
}
