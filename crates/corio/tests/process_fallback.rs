//! Separate binary: `CORIO_PROCESS_NO_PIDFD` is read once per process, so the fallback path
//! needs a process of its own in which the variable is set before anything spawns.
//!
//! corio::process on its fallback path: `CORIO_PROCESS_NO_PIDFD=1` (read once, so
//! it is set before anything spawns, in this binary of its own) makes waiting poll
//! `waitpid` with a backing-off timer and the orphan reaper poll on a timeout, as on
//! kernels without pidfds. One test runs every case in turn, so the variable is set
//! before any thread could read the environment.

mod process_cases;

use process_cases as cases;

#[test]
fn every_case_passes_without_pidfds() {
    std::env::set_var("CORIO_PROCESS_NO_PIDFD", "1");

    assert_eq!(
        cases::pidfds_while_a_child_runs(),
        0,
        "the switch must keep pidfds out of the picture"
    );
    cases::echo_output_is_captured();
    cases::one_mib_round_trips_through_cat();
    cases::child_writing_before_reading_does_not_deadlock();
    cases::exit_codes_come_back();
    cases::kill_ends_a_sleeping_child_with_sigkill();
    cases::terminate_sends_sigterm();
    cases::try_wait_sees_the_exit_without_waiting();
    cases::many_children_are_all_reaped();
    cases::missing_program_is_not_found_and_named();
    cases::kill_on_drop_kills_and_plain_drop_does_not();
    cases::output_and_status_use_std_defaults();
    cases::wait_closes_stdin_first();
    cases::pipes_work_with_futures_io_from_other_tasks();
    cases::shell_pipeline_runs();
    cases::communicate_input_without_stdin_pipe_is_invalid();
    cases::child_ignoring_its_stdin_is_not_an_error();
    assert_eq!(cases::open_pidfds(), 0);
    // Every orphan was reaped, so the reaper thread has stopped.
    cases::assert_reaper_thread_exits();
}
