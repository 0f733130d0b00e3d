//! The loopback floor of `bench/http.sh`: an HTTP/1.1 server that does nothing but answer
//! `{"status":"ok"}` to every request, one blocking thread per connection (a `read` and a
//! `write` per request, the fewest system calls a server can make). At one connection a
//! request to any server costs at least this round trip through the kernel, so its rate here
//! bounds every server's rate, and its ratio to PocketBase's bounds every ratio at one
//! connection. Built by `http.sh` with plain `rustc` (standard library only).
//!
//! Usage: `http_floor ADDRESS` (for instance `127.0.0.1:19003`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"status\":\"ok\"}";

fn main() {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:19003".to_owned());
    let listener = TcpListener::bind(&address).unwrap_or_else(|error| panic!("cannot listen on {address}: {error}"));
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || serve(stream));
    }
}

/// Answers each request head (bodiless requests: the benchmark sends `GET`s) as it completes;
/// returns when the client closes the connection.
fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buffer = vec![0u8; 16 * 1024];
    let mut filled = 0;
    loop {
        let read = match stream.read(&mut buffer[filled..]) {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        filled += read;
        let mut start = 0;
        while let Some(end) = buffer[start..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            if stream.write_all(RESPONSE).is_err() {
                return;
            }
            start += end + 4;
        }
        buffer.copy_within(start..filled, 0);
        filled -= start;
        if filled == buffer.len() {
            return; // A request head longer than the buffer: not a client of this benchmark.
        }
    }
}
