//! `corio::sync`'s Rust-shaped types on corio's own loop: a channel whose
//! consumer ends when the producers are done, a `CancellationToken` stopping
//! workers blocked in `sleep`, a `watch` of a config that an `RwLock` guards,
//! `broadcast` listeners.

use std::sync::Arc;
use std::time::Duration;

use corio::sync::{channel, CancellationToken, RwLock};

#[test]
fn consumer_ends_when_the_producers_are_done() {
    let got = corio::run(async {
        let (tx, mut rx) = channel(1);
        for producer in 0..3u32 {
            let tx = tx.clone();
            corio::create_task(async move {
                for i in 0..4 {
                    tx.send(producer * 10 + i).await.unwrap();
                }
            });
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(item) = rx.recv().await {
            got.push(item);
        }
        got
    });
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    for producer in 0..3 {
        let own: Vec<_> = got.iter().filter(|i| *i / 10 == producer).collect();
        assert!(own.windows(2).all(|w| w[0] < w[1]), "FIFO per producer");
    }
}

#[test]
fn a_token_stops_sleeping_workers() {
    let stopped = corio::run(async {
        let shutdown = CancellationToken::new();
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let token = shutdown.child_token();
                corio::create_task(async move {
                    token
                        .run_until_cancelled(corio::sleep(Duration::from_secs(3600)))
                        .await
                })
            })
            .collect();
        corio::sleep(Duration::from_millis(5)).await;
        shutdown.cancel();
        let mut stopped = 0;
        for worker in workers {
            if worker.await.unwrap().is_none() {
                stopped += 1;
            }
        }
        stopped
    });
    assert_eq!(stopped, 4);
}

#[test]
fn watchers_follow_a_config_behind_an_rwlock() {
    let seen = corio::run(async {
        let config = Arc::new(RwLock::new(String::from("v1")));
        let (tx, rx) = corio::sync::watch(1u32);
        let watchers: Vec<_> = (0..3)
            .map(|_| {
                let (config, mut rx) = (config.clone(), rx.clone());
                corio::create_task(async move {
                    let mut last = String::new();
                    while rx.changed().await.is_ok() {
                        last = config.read().await.clone();
                    }
                    last
                })
            })
            .collect();
        drop(rx);
        for version in 2..=3 {
            *config.write().await = format!("v{version}");
            tx.send(version).unwrap();
            corio::yield_now().await;
        }
        drop(tx);
        let mut seen = Vec::new();
        for watcher in watchers {
            seen.push(watcher.await.unwrap());
        }
        seen
    });
    assert_eq!(seen, ["v3", "v3", "v3"]);
}

#[test]
fn broadcast_listeners_each_get_every_event() {
    let got = corio::run(async {
        let (tx, rx) = corio::sync::broadcast(4);
        let listeners: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.resubscribe();
                corio::create_task(async move {
                    let mut got = Vec::new();
                    while let Ok(event) = rx.recv().await {
                        got.push(event);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for event in 0..10u32 {
            tx.send(event).unwrap();
            if event % 3 == 2 {
                corio::yield_now().await; // the listeners keep up
            }
        }
        drop(tx);
        let mut got = Vec::new();
        for listener in listeners {
            got.push(listener.await.unwrap());
        }
        got
    });
    let all: Vec<u32> = (0..10).collect();
    assert_eq!(got, [all.clone(), all.clone(), all]);
}
