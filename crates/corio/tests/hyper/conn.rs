//! hyper's own connection builders over [`HyperIo`]: an HTTP/1 server and
//! client over corio's TCP, with corio's executor and timer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use corio::hyper::{CorioExecutor, CorioTimer, HyperIo};
use corio::net::{TcpListener, TcpStream};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, Response, StatusCode};

const LIMIT: Duration = Duration::from_secs(30);

async fn service(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::POST, "/echo") => match request.into_body().collect().await {
            Ok(body) => Response::new(Full::new(body.to_bytes())),
            Err(_) => status(StatusCode::BAD_REQUEST),
        },
        (&Method::GET, path) => Response::new(Full::new(Bytes::from(format!("hello {path}")))),
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
    };
    Ok(response)
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

/// Serves on 127.0.0.1:0 from a task, each connection in its own task.
async fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    corio::create_task(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            corio::create_task(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(CorioTimer::new())
                    .serve_connection(HyperIo::new(stream), hyper::service::service_fn(service))
                    .await;
            });
        }
    });
    addr
}

async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
        .await
        .unwrap();
    // hyper's Executor, to check it as well: it drives the connection.
    hyper::rt::Executor::execute(&CorioExecutor::new(), async move {
        let _ = connection.await;
    });
    sender
}

async fn request(
    sender: &mut SendRequest<Full<Bytes>>,
    method: Method,
    path: &str,
    body: Bytes,
) -> (StatusCode, Bytes) {
    sender.ready().await.unwrap();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, "localhost")
        .body(Full::new(body))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body)
}

#[test]
fn twenty_requests_on_one_keep_alive_connection_and_several_others() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            let addr = start_server().await;
            let mut sender = connect(addr).await;
            for i in 0..10 {
                let path = format!("/keep-alive/{i}");
                let (status, body) = request(&mut sender, Method::GET, &path, Bytes::new()).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body, format!("hello {path}"));
            }
            let clients: Vec<_> = (0..5)
                .map(|c| {
                    corio::create_task(async move {
                        let mut sender = connect(addr).await;
                        for i in 0..2 {
                            let path = format!("/conn{c}/{i}");
                            let (status, body) =
                                request(&mut sender, Method::GET, &path, Bytes::new()).await;
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
        .expect("20 requests within the limit");
    });
}

#[test]
fn request_body_is_echoed() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            let addr = start_server().await;
            let mut sender = connect(addr).await;
            let (status, body) = request(
                &mut sender,
                Method::POST,
                "/echo",
                Bytes::from_static(b"ping"),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, "ping");
            // Bigger than HyperIo's 64 KiB read buffer and hyper's first read.
            let big: Bytes = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
            let (status, body) = request(&mut sender, Method::POST, "/echo", big.clone()).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, big);
        })
        .await
        .expect("echo within the limit");
    });
}

#[test]
fn unknown_method_is_rejected_and_connection_stays_usable() {
    corio::run(async {
        corio::timeout(LIMIT, async {
            let addr = start_server().await;
            let mut sender = connect(addr).await;
            let (status, _) = request(&mut sender, Method::DELETE, "/", Bytes::new()).await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
            let (status, body) = request(&mut sender, Method::GET, "/after", Bytes::new()).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, "hello /after");
        })
        .await
        .expect("within the limit");
    });
}
