//! A chat server: every line a client sends goes to every other client.
//! Each client has a `corio::sync::Queue` of outgoing lines, drained into
//! its socket by a writer task of its own, so one slow client never holds
//! up the others: when its queue is full, it misses lines (and is told so).
//!
//! ```text
//! cargo run -p corio --example chat_server               # 127.0.0.1:8889
//! nc 127.0.0.1 8889                                      # in two or more terminals
//! ```
//!
//! The first line a client sends is its name.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use corio::sync::Queue;
use corio::{StreamReader, StreamWriter};

/// Lines a client may fall behind before it misses some.
const QUEUE_SIZE: usize = 256;

type Line = Arc<[u8]>;

/// Every connected client's outgoing queue, by id.
#[derive(Default)]
struct Room {
    clients: Mutex<HashMap<u64, Arc<Queue<Line>>>>,
    next_id: AtomicU64,
}

impl Room {
    fn join(&self) -> (u64, Arc<Queue<Line>>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(Queue::new(QUEUE_SIZE));
        self.clients.lock().unwrap().insert(id, queue.clone());
        (id, queue)
    }

    fn leave(&self, id: u64) {
        if let Some(queue) = self.clients.lock().unwrap().remove(&id) {
            queue.shutdown(false); // its writer task sends what is queued, then ends
        }
    }

    /// Queues `line` for everyone but `from`, without waiting on anyone.
    fn broadcast(&self, from: Option<u64>, line: &[u8]) {
        let line: Line = line.into();
        for (&id, queue) in self.clients.lock().unwrap().iter() {
            if Some(id) != from && queue.put_nowait(line.clone()).is_err() {
                eprintln!("client {id} is too slow: a line was dropped");
            }
        }
    }
}

/// Sends a client's queued lines until its queue is shut down and empty.
async fn pump(queue: Arc<Queue<Line>>, mut writer: StreamWriter) {
    while let Ok(line) = queue.get().await {
        writer.write(&line);
        if writer.drain().await.is_err() {
            break; // the client is gone; its reader will notice too
        }
    }
    let _ = writer.wait_closed().await;
}

async fn handle_client(room: Arc<Room>, mut reader: StreamReader, mut writer: StreamWriter) {
    writer.write(b"Welcome! Your name? ");
    if writer.drain().await.is_err() {
        return;
    }
    let name = match reader.readline().await {
        Ok(line) if !line.is_empty() => String::from_utf8_lossy(&line).trim().to_owned(),
        _ => return,
    };
    let (id, queue) = room.join();
    let pump = corio::create_task(pump(queue, writer));
    println!("{name} joined");
    room.broadcast(Some(id), format!("* {name} joined\n").as_bytes());

    loop {
        match reader.readline().await {
            Ok(line) if line.is_empty() => break, // EOF
            Ok(line) => {
                let mut message = format!("{name}: ").into_bytes();
                message.extend_from_slice(&line);
                if !message.ends_with(b"\n") {
                    message.push(b'\n');
                }
                room.broadcast(Some(id), &message);
            }
            Err(err) if err.is_limit_overrun() => continue, // an overlong line is skipped
            Err(_) => break,
        }
    }

    room.leave(id);
    let _ = pump.await;
    println!("{name} left");
    room.broadcast(None, format!("* {name} left\n").as_bytes());
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8889".to_owned());
    corio::run(async move {
        let room = Arc::new(Room::default());
        let handler = move |reader, writer| handle_client(room.clone(), reader, writer);
        let server = match corio::start_server(handler, addr.as_str()).await {
            Ok(server) => server,
            Err(err) => {
                eprintln!("chat_server: {err}");
                std::process::exit(1);
            }
        };
        println!(
            "Chat server on {}",
            server.local_addr().expect("a TCP server has an address")
        );
        server.serve_forever().await;
    });
}
