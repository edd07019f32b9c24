//! TEMPORARY local shim standing in for corio until it compiles; not to be kept.
#![allow(dead_code, unreachable_pub)]
use std::future::Future;
pub(crate) fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}
pub(crate) fn create_task<F: Future + Send + 'static>(f: F) -> tokio::task::JoinHandle<F::Output>
where
    F::Output: Send + 'static,
{
    tokio::spawn(f)
}
pub(crate) async fn yield_now() {
    tokio::task::yield_now().await
}
