//! asyncio's "TCP Echo Server using Protocol" (Python docs, *Transports and
//! Protocols*), on corio: the server echoes the first message of each
//! connection and closes it.
//!
//! ```python
//! import asyncio
//!
//! class EchoServerProtocol(asyncio.Protocol):
//!     def connection_made(self, transport):
//!         peername = transport.get_extra_info('peername')
//!         print('Connection from {}'.format(peername))
//!         self.transport = transport
//!
//!     def data_received(self, data):
//!         message = data.decode()
//!         print('Data received: {!r}'.format(message))
//!
//!         print('Send: {!r}'.format(message))
//!         self.transport.write(data)
//!
//!         print('Close the client socket')
//!         self.transport.close()
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     server = await loop.create_server(EchoServerProtocol, '127.0.0.1', 8888)
//!     async with server:
//!         await server.serve_forever()
//!
//! asyncio.run(main())
//! ```
//!
//! ```text
//! cargo run -p corio --example protocol_echo            # serves on 127.0.0.1:8888 until Ctrl-C
//! cargo run -p corio --example echo_client              # in another terminal
//! cargo run -p corio --example protocol_echo -- --demo  # serves on a free port, runs the docs'
//!                                                       # protocol client once, and exits
//! ```
//!
//! With `--demo` the docs' "TCP Echo Client using Protocol" runs against it
//! (its `on_con_lost` future is the task `create_connection` returns):
//!
//! ```text
//! Data sent: "Hello World!"
//! Connection from 127.0.0.1:40022
//! Data received: "Hello World!"
//! Send: "Hello World!"
//! Close the client socket
//! Data received: "Hello World!"
//! The server closed the connection
//! ```

use std::io;

use corio::protocol::{Protocol, Transport};

/// The server side: asyncio's `EchoServerProtocol`.
#[derive(Default)]
struct EchoServerProtocol {
    transport: Option<Transport>,
}

impl Protocol for EchoServerProtocol {
    fn connection_made(&mut self, transport: Transport) {
        let peername = transport.peer_addr();
        match peername {
            Some(peer) => println!("Connection from {peer}"),
            None => println!("Connection from an unknown peer"),
        }
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        let message = String::from_utf8_lossy(data);
        println!("Data received: {message:?}");

        println!("Send: {message:?}");
        let transport = self.transport.as_ref().expect("connection_made came first");
        transport.write(data);

        println!("Close the client socket");
        transport.close();
    }

    fn connection_lost(&mut self, _err: Option<io::Error>) {}
}

/// The client side of `--demo`: asyncio's `EchoClientProtocol`.
struct EchoClientProtocol {
    message: String,
}

impl Protocol for EchoClientProtocol {
    fn connection_made(&mut self, transport: Transport) {
        transport.write(self.message.as_bytes());
        println!("Data sent: {:?}", self.message);
    }

    fn data_received(&mut self, data: &[u8]) {
        println!("Data received: {:?}", String::from_utf8_lossy(data));
    }

    fn connection_lost(&mut self, _err: Option<io::Error>) {
        println!("The server closed the connection");
    }
}

async fn main_async(demo: bool) -> io::Result<()> {
    // A handle to the event loop, for the low-level API.
    let handle = corio::get_running_loop();
    let addr = if demo {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:8888"
    };
    let server = handle
        .create_server(EchoServerProtocol::default, addr)
        .await?;
    if !demo {
        println!("Serving on {}", server.local_addr());
        server.serve_forever().await;
        return Ok(());
    }
    let message = "Hello World!".to_owned();
    let (_transport, on_con_lost) = handle
        .create_connection(|| EchoClientProtocol { message }, server.local_addr())
        .await?;
    // Wait until the protocol signals that the connection is lost.
    on_con_lost.await.expect("the client's connection task");
    server.close();
    server.wait_closed().await;
    Ok(())
}

fn main() {
    let demo = std::env::args().any(|a| a == "--demo");
    if let Err(err) = corio::run(main_async(demo)) {
        eprintln!("protocol_echo: {err}");
        std::process::exit(1);
    }
}
