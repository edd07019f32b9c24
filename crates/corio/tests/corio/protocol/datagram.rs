//! corio::protocol's datagram endpoints: a UDP echo, and `error_received`
//! for a datagram sent to a closed port.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use corio::protocol::{DatagramProtocol, DatagramTransport};

use super::{run_bounded, until, Log};

struct UdpEcho {
    transport: Option<DatagramTransport>,
    log: Log,
    echo: bool,
}

impl DatagramProtocol for UdpEcho {
    fn connection_made(&mut self, transport: DatagramTransport) {
        self.transport = Some(transport);
    }
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        self.log
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(data).into_owned());
        if self.echo {
            self.transport.as_ref().unwrap().sendto(data, Some(addr));
        } else {
            self.transport.as_ref().unwrap().close();
        }
    }
    fn error_received(&mut self, err: io::Error) {
        self.log
            .lock()
            .unwrap()
            .push(format!("error:{:?}", err.kind()));
    }
    fn connection_lost(&mut self, err: Option<io::Error>) {
        self.log
            .lock()
            .unwrap()
            .push(format!("lost:{:?}", err.map(|e| e.kind())));
    }
}

#[test]
fn datagram_echo() {
    run_bounded(async {
        let handle = corio::get_running_loop();
        let (server_log, client_log): (Log, Log) = Default::default();
        let s = server_log.clone();
        let (server, server_task) = handle
            .create_datagram_endpoint(
                move || UdpEcho {
                    transport: None,
                    log: s,
                    echo: true,
                },
                Some("127.0.0.1:0".parse().unwrap()),
                None,
            )
            .await
            .unwrap();
        let c = client_log.clone();
        let (client, client_task) = corio::protocol::create_datagram_endpoint(
            move || UdpEcho {
                transport: None,
                log: c,
                echo: false,
            },
            None,
            server.local_addr(),
        )
        .await
        .unwrap();
        assert_eq!(client.peer_addr(), server.local_addr());
        client.sendto(b"ping", None);
        let client_protocol = client_task.await.unwrap();
        assert_eq!(*client_protocol.log.lock().unwrap(), ["ping", "lost:None"]);
        assert_eq!(*server_log.lock().unwrap(), ["ping"]);
        assert!(client.is_closing());
        server.abort();
        server_task.await.unwrap();
        assert_eq!(*server_log.lock().unwrap(), ["ping", "lost:None"]);
    });
}

#[test]
fn datagram_to_a_closed_port_is_an_error_received() {
    run_bounded(async {
        // A port nobody listens on: bind, read the port, close.
        let closed = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let log: Log = Arc::default();
        let l = log.clone();
        let (client, _task) = corio::protocol::create_datagram_endpoint(
            move || UdpEcho {
                transport: None,
                log: l,
                echo: false,
            },
            None,
            Some(closed),
        )
        .await
        .unwrap();
        client.sendto(b"anyone?", None);
        until(|| !log.lock().unwrap().is_empty()).await;
        assert_eq!(log.lock().unwrap()[0], "error:ConnectionRefused");
        assert!(
            !client.is_closing(),
            "an error_received does not close the endpoint"
        );
    });
}
