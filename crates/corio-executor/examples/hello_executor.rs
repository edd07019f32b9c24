//! A tour of `corio-executor` on its own: spawn tasks on a `LocalExecutor`,
//! let them interleave, wake one from another thread, cancel one, catch a
//! panic, and close the loop.
//!
//! Run with `cargo run -p corio-executor --example hello_executor`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corio_executor::{current_task, payload_message, Builder, LocalExecutor, ThreadPark};

/// Gives the other tasks a turn: wakes itself and returns `Pending` once.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// A one-shot signal another thread can fire: the waiting task leaves its
/// waker here, and `fire` wakes it.
#[derive(Clone, Default)]
struct Signal(Arc<Mutex<(bool, Option<Waker>)>>);

impl Signal {
    fn fire(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Signal {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.lock().unwrap();
        if state.0 {
            return Poll::Ready(());
        }
        state.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Prints who is speaking: the current task's name, if any.
fn say(what: &str) {
    let who = current_task()
        .and_then(|t| t.name().map(String::from))
        .unwrap_or_else(|| "main".into());
    println!("[{who:>8}] {what}");
}

fn main() {
    // Task panics are caught by the executor; print them as one line.
    std::panic::set_hook(Box::new(|info| {
        say(&format!(
            "panicking: {}",
            payload_message(info.payload()).unwrap_or("(no message)")
        ))
    }));
    let ex = LocalExecutor::new();

    // Two workers take turns at each yield, in spawn order.
    let workers: Vec<_> = ["alice", "bob"]
        .into_iter()
        .map(|name| {
            ex.spawn_local_with(Builder::new().name(name), async move {
                for step in 1..=3 {
                    say(&format!("step {step}"));
                    yield_now().await;
                }
                name.len()
            })
        })
        .collect();

    // A task that waits for a signal fired by another thread.
    let signal = Signal::default();
    let waiter = ex.spawn_local_with(Builder::new().name("waiter"), {
        let signal = signal.clone();
        async move {
            say("waiting for the other thread");
            signal.await;
            say("woken from the other thread");
            "signalled"
        }
    });
    let firing_thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        println!("[  thread] firing the signal");
        signal.fire();
    });

    // A task that would wait forever; we cancel it.
    let sleeper = ex.spawn_local_with(Builder::new().name("sleeper"), async {
        say("going to sleep forever");
        std::future::pending::<()>().await
    });

    // A task that panics: the executor keeps going.
    let faulty = ex.spawn_local_with(Builder::new().name("faulty"), async {
        yield_now().await;
        panic!("something broke");
    });

    let spawner = ex.spawner();
    let summary = ex.block_on(
        async move {
            for worker in workers {
                let len = worker.await.expect("workers do not fail");
                say(&format!("a worker finished with {len}"));
            }
            say(&format!("cancel the sleeper: {}", sleeper.cancel()));
            match sleeper.await {
                Err(e) if e.is_cancelled() => say(&format!("{e}")),
                other => unreachable!("{:?}", other.map(|_| ())),
            }
            match faulty.await {
                Err(e) => say(&format!("{e}")),
                Ok(()) => unreachable!(),
            }
            // A task spawned from another thread through a Spawner.
            let remote = std::thread::spawn(move || spawner.spawn(async { 6 * 7 }))
                .join()
                .unwrap();
            say(&format!("remote task says {}", remote.await.unwrap()));
            waiter.await.unwrap()
        },
        &mut ThreadPark,
    );
    firing_thread.join().unwrap();
    say(&format!(
        "block_on returned {summary:?}; {} tasks left",
        ex.task_count()
    ));

    // Closing drops whatever is still pending.
    drop(ex.spawn(std::future::pending::<()>()));
    say(&format!("before close: {} task(s) alive", ex.task_count()));
    ex.close();
    say(&format!("after close: {} task(s) alive", ex.task_count()));
}
