//! `as_completed`: a `futures_core::Stream` of outputs in completion order,
//! polled in place, that drops unfinished futures when dropped.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_core::Stream;

use crate::common::*;

const MS: Duration = Duration::from_millis(1);

async fn after(ms: u32) -> u32 {
    corio::sleep(ms * MS).await;
    ms
}

#[test]
fn as_completed_yields_in_completion_order() {
    let order = corio::run(async {
        let mut finished = corio::as_completed([after(30), after(10), after(50), after(20)]);
        let mut order = Vec::new();
        while let Some(ms) = finished.next().await {
            order.push(ms);
        }
        order
    });
    assert_eq!(order, [10, 20, 30, 50]);
}

#[test]
fn as_completed_yields_each_output_as_soon_as_it_is_ready() {
    corio::run(async {
        let start = Instant::now();
        let mut finished = corio::as_completed([after(3_600_000), after(10)]);
        assert_eq!(finished.next().await, Some(10));
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(finished.len(), 1);
    });
}

#[test]
fn as_completed_is_a_futures_core_stream() {
    corio::run(async {
        let mut stream = corio::as_completed([after(20), after(10)]);
        assert_eq!(Stream::size_hint(&stream), (2, Some(2)));
        let mut out = Vec::new();
        while let Some(ms) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
            out.push(ms);
        }
        assert_eq!(out, [10, 20]);
        assert_eq!(Stream::size_hint(&stream), (0, Some(0)));
    });
}

#[test]
fn as_completed_of_nothing_ends_at_once() {
    corio::run(async {
        let mut stream = corio::as_completed(Vec::<std::future::Ready<()>>::new());
        assert!(stream.is_empty());
        assert_eq!(stream.next().await, None);
    });
}

#[test]
fn dropping_the_stream_drops_the_unfinished_futures() {
    corio::run(async {
        let dropped = flag();
        let guard = SetOnDrop(dropped.clone());
        let slow = async move {
            let _guard = guard;
            after(3_600_000).await
        };
        let fast = async { after(10).await };
        let mut stream = corio::as_completed([
            Box::pin(slow) as Pin<Box<dyn std::future::Future<Output = u32>>>,
            Box::pin(fast),
        ]);
        assert_eq!(stream.next().await, Some(10));
        assert!(!dropped.load(Ordering::SeqCst));
        drop(stream);
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn with_timeout_yields_outputs_then_one_elapsed_per_cut_off_future() {
    let mut runner = corio::Runner::builder().manual_clock().build().unwrap();
    runner.run(async {
        let dropped = flag();
        let guard = SetOnDrop(dropped.clone());
        let slow = async move {
            let _guard = guard;
            after(60_000).await
        };
        let futs: Vec<Pin<Box<dyn std::future::Future<Output = u32>>>> = vec![
            Box::pin(after(30)),
            Box::pin(slow),
            Box::pin(after(10)),
            Box::pin(after(90_000)),
        ];
        let start = corio::time::now();
        let mut stream = corio::as_completed(futs).with_timeout(Duration::from_secs(1));
        assert_eq!(stream.len(), 4);
        assert_eq!(stream.next().await, Some(Ok(10)));
        assert_eq!(stream.next().await, Some(Ok(30)));
        assert!(!dropped.load(Ordering::SeqCst));
        assert!(stream.next().await.unwrap().is_err());
        // The deadline, not the slow futures, ended the wait; they are gone.
        assert_eq!(corio::time::now() - start, Duration::from_secs(1));
        assert!(dropped.load(Ordering::SeqCst));
        assert_eq!(stream.len(), 1);
        assert!(stream.next().await.unwrap().is_err());
        assert_eq!(stream.next().await, None);
        assert!(stream.is_empty());
    });
}

#[test]
fn with_timeout_that_never_fires_is_the_plain_stream() {
    corio::run(async {
        let mut stream =
            corio::as_completed([after(20), after(10)]).with_timeout(Duration::from_secs(60));
        assert_eq!(stream.next().await, Some(Ok(10)));
        assert_eq!(stream.next().await, Some(Ok(20)));
        assert_eq!(stream.next().await, None);
    });
}
