//! Unit tests for the hyper adapters: real HTTP/1 over loopback TCP, using
//! the running loop's reactor directly (`corio::net` builds on the same).

use std::convert::Infallible;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use corio_reactor::Async;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::rt::{Read as _, Timer as _};
use hyper::{Method, Request, Response, StatusCode};

use super::{CorioExecutor, CorioSleep, CorioTimer, HyperIo};
use crate::runtime::context;

const LIMIT: Duration = Duration::from_secs(20);

fn register<T: std::os::fd::AsFd>(io: T) -> Async<T> {
    Async::new(&context::reactor("hyper test"), io).expect("register with the reactor")
}

async fn accept(listener: &Async<TcpListener>) -> io::Result<TcpStream> {
    poll_fn(|cx| {
        listener
            .source()
            .poll_read_with(cx, || listener.get_ref().accept())
    })
    .await
    .map(|(stream, _)| stream)
}

async fn service(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::POST, "/echo") => {
            let body = request.into_body().collect().await.map(|b| b.to_bytes());
            match body {
                Ok(body) => Response::new(Full::new(body)),
                Err(_) => bad_request(),
            }
        }
        (&Method::GET, path) => Response::new(Full::new(Bytes::from(format!("hello {path}")))),
        _ => bad_request(),
    };
    Ok(response)
}

fn bad_request() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

/// Starts the server on 127.0.0.1:0 in a task: one task per connection.
fn start_server() -> SocketAddr {
    let listener = register(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = listener.get_ref().local_addr().unwrap();
    drop(crate::create_task(async move {
        loop {
            let stream = register(accept(&listener).await.unwrap());
            drop(crate::create_task(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(CorioTimer::new())
                    .serve_connection(HyperIo::new(stream), hyper::service::service_fn(service))
                    .await;
            }));
        }
    }));
    addr
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    // Loopback connects complete at once: a blocking connect is fine here.
    let stream = register(TcpStream::connect(addr).unwrap());
    let (sender, connection) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
        .await
        .unwrap();
    drop(crate::create_task(async move {
        let _ = connection.await;
    }));
    sender
}

async fn request(
    sender: &mut Sender,
    method: Method,
    path: &str,
    body: &str,
) -> (StatusCode, String) {
    sender.ready().await.unwrap();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[test]
fn twenty_requests_keep_alive_and_several_connections() {
    crate::run(async {
        crate::timeout(LIMIT, async {
            let addr = start_server();
            // 10 requests on one keep-alive connection.
            let mut sender = connect(addr).await;
            for i in 0..10 {
                let (status, body) = request(&mut sender, Method::GET, &format!("/{i}"), "").await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body, format!("hello /{i}"));
            }
            // 10 more over 5 connections, concurrently.
            let clients: Vec<_> = (0..5)
                .map(|c| {
                    crate::create_task(async move {
                        let mut sender = connect(addr).await;
                        for i in 0..2 {
                            let path = format!("/c{c}/{i}");
                            let (status, body) = request(&mut sender, Method::GET, &path, "").await;
                            assert_eq!(status, StatusCode::OK);
                            assert_eq!(body, format!("hello {path}"));
                        }
                    })
                })
                .collect();
            for client in clients {
                client.await.unwrap();
            }
        })
        .await
        .expect("requests finish in time");
    });
}

#[test]
fn echo_a_large_body() {
    crate::run(async {
        crate::timeout(LIMIT, async {
            let addr = start_server();
            let mut sender = connect(addr).await;
            // Larger than HyperIo's 64 KiB bounce buffer and than hyper's first read buffer.
            let big: String = (0..300_000)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let (status, body) = request(&mut sender, Method::POST, "/echo", &big).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, big);
            let (status, body) = request(&mut sender, Method::POST, "/echo", "ping").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, "ping");
        })
        .await
        .expect("echo finishes in time");
    });
}

#[test]
fn read_fills_only_what_fits() {
    crate::run(async {
        let mut io = HyperIo::new(&b"hello world"[..]);
        let mut storage = [0u8; 4];
        let mut buf = hyper::rt::ReadBuf::new(&mut storage);
        poll_fn(|cx| Pin::new(&mut io).poll_read(cx, buf.unfilled()))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"hell");
        // A full buffer reads nothing and leaves the stream alone.
        let ready =
            poll_fn(|cx| Poll::Ready(Pin::new(&mut io).poll_read(cx, buf.unfilled()))).await;
        assert!(matches!(ready, Poll::Ready(Ok(()))));
        assert_eq!(io.get_ref(), b"o world");
    });
}

#[test]
fn timer_sleeps_and_resets() {
    crate::run(async {
        let timer = CorioTimer::new();
        let start = std::time::Instant::now();
        timer.sleep(Duration::from_millis(10)).await;
        assert!(start.elapsed() >= Duration::from_millis(10));

        // Reset a long sleep to a short one: it is moved in place.
        let mut sleep = timer.sleep(Duration::from_secs(3600));
        assert!(sleep.as_ref().get_ref().is::<CorioSleep>());
        let deadline = timer.now() + Duration::from_millis(10);
        timer.reset(&mut sleep, deadline);
        crate::timeout(Duration::from_secs(5), sleep)
            .await
            .expect("the reset sleep fires");
        assert!(timer.now() >= deadline);

        timer
            .sleep_until(timer.now() + Duration::from_millis(5))
            .await;
    });
}

#[test]
fn executor_runs_futures_detached() {
    use hyper::rt::Executor;
    crate::run(async {
        let (tx, rx) = std::sync::mpsc::channel();
        CorioExecutor::new().execute(async move { tx.send(7).unwrap() });
        let local = std::rc::Rc::new(1);
        let (ltx, lrx) = std::sync::mpsc::channel();
        super::CorioLocalExecutor::new().execute(async move { ltx.send(*local + 1).unwrap() });
        crate::sleep(Duration::from_millis(1)).await;
        assert_eq!(rx.try_recv(), Ok(7));
        assert_eq!(lrx.try_recv(), Ok(2));
    });
}
