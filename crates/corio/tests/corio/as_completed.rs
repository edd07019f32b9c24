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
