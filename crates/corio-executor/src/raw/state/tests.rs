//! The state machine's transitions, one sequence at a time.

use super::*;

fn bits(state: &State) -> usize {
    state.0.load(Ordering::SeqCst)
}

#[test]
fn a_task_polled_to_completion() {
    let state = State::new_spawned();
    assert!(matches!(state.start_run(), StartRun::Poll));
    let done = state.complete(Outcome::Finished);
    assert!(done.is_completed() && done.output_is_live() && done.has_handle());
    assert!(!state.ref_dec(), "the handle keeps the task");
    assert!(matches!(state.release_handle(), ReleaseHandle::DropOutput));
    state.mark_taken();
    assert!(matches!(
        state.release_handle(),
        ReleaseHandle::Released { free: true }
    ));
}

#[test]
fn a_claimed_task_cannot_be_claimed_run_or_woken_again() {
    let state = State::new_spawned();
    // The first Runnable is queued; the executor claims the future.
    assert!(matches!(state.claim_drop(), Claim::Claimed));
    assert!(state.load().is_dropping());
    // Re-entrant calls from the future's Drop:
    assert!(matches!(state.claim_drop(), Claim::Ended));
    assert!(matches!(state.start_run(), StartRun::Skip));
    assert!(!state.wake_by_ref());
    assert!(matches!(state.request_cancel(), Cancel::Requested));
    let done = state.complete(Outcome::Cancelled);
    assert!(done.is_cancelled() && !done.is_dropping() && !done.is_scheduled());
    assert!(matches!(state.request_cancel(), Cancel::Ended));
}

#[test]
fn a_cancel_during_the_poll_hands_the_drop_to_the_poller() {
    let state = State::new_spawned();
    assert!(matches!(state.start_run(), StartRun::Poll));
    assert!(matches!(state.claim_drop(), Claim::Deferred));
    assert!(matches!(state.end_poll(), EndPoll::Drop));
    assert!(state.load().is_dropping() && !state.load().is_running());
}

#[test]
fn a_wake_during_the_poll_reschedules_once() {
    let state = State::new_spawned();
    assert!(matches!(state.start_run(), StartRun::Poll));
    state.ref_inc();
    assert!(matches!(state.wake_by_val(), Wake::DropRef));
    assert!(!state.ref_dec());
    assert!(!state.wake_by_ref(), "already scheduled");
    assert!(matches!(state.end_poll(), EndPoll::Reschedule));
    assert!(state.load().is_scheduled());
}

#[test]
fn the_awaiter_lock_round_trips() {
    let state = State::new_spawned();
    assert!(state.lock_awaiter_to_register());
    state.unlock_awaiter(true);
    assert!(state.load().has_awaiter());
    state.lock_awaiter_to_clear();
    state.unlock_awaiter(false);
    assert!(!state.load().has_awaiter());
    assert_eq!(bits(&state) & LOCKED, 0);
    assert!(!state.lock_awaiter_to_notify(), "nobody awaits");
}

#[test]
fn exactly_one_of_add_and_complete_sees_the_other() {
    // Callback bit first: `add` leaves the drain to the completer.
    let state = State::new_spawned();
    assert!(matches!(state.start_run(), StartRun::Poll));
    assert!(
        !state.mark_callbacks(),
        "not completed yet: the completer drains"
    );
    assert!(state.complete(Outcome::Finished).has_callbacks());
    // Completion first: the completer sees no bit, `add` drains.
    let state = State::new_spawned();
    assert!(matches!(state.start_run(), StartRun::Poll));
    assert!(!state.complete(Outcome::Cancelled).has_callbacks());
    assert!(state.mark_callbacks(), "completed: the adder drains");
    // The bit leaves the reference count alone.
    assert!(!state.ref_dec() && state.load().has_handle());
}
