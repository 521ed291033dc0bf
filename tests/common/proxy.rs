//! A TCP proxy between the app and PostgreSQL that a test can cut and restore, and that counts
//! the statements the app sends (the wire protocol's Execute and Query messages) — the query
//! budget counted for real, outside the app.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::task::AbortHandle;

#[derive(Default)]
struct State {
    cut: AtomicBool,
    statements: AtomicU64,
    pumps: Mutex<Vec<AbortHandle>>,
}

pub struct Proxy {
    pub port: u16,
    state: Arc<State>,
    accept: AbortHandle,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to PostgreSQL on 127.0.0.1:5432.
    pub async fn start() -> Proxy {
        let upstream: SocketAddr = "127.0.0.1:5432".parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let st = state.clone();
        let accept = rocket::tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if st.cut.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let counter = st.clone();
                let up = rocket::tokio::spawn(async move {
                    let mut parser = Parser::default();
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let executed = parser.feed(&buf[..n]);
                        counter.statements.fetch_add(executed, Ordering::SeqCst);
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                let down = rocket::tokio::spawn(async move {
                    let _ = rocket::tokio::io::copy(&mut sr, &mut cw).await;
                });
                st.pumps
                    .lock()
                    .unwrap()
                    .extend([up.abort_handle(), down.abort_handle()]);
            }
        })
        .abort_handle();
        Proxy {
            port,
            state,
            accept,
        }
    }

    /// A database URL through this proxy.
    pub fn url(&self, db: &str) -> String {
        // Plain text, so the proxy can read the protocol (PostgreSQL may offer TLS on loopback).
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// Drops every open connection and refuses new ones, like a database host gone dark.
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        for pump in self.state.pumps.lock().unwrap().drain(..) {
            pump.abort();
        }
    }

    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }

    /// SQL statements sent through the proxy so far.
    pub fn statements(&self) -> u64 {
        self.state.statements.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Splits the client's byte stream into protocol messages and counts Execute ('E') and simple
/// Query ('Q') ones. The first messages (SSLRequest, StartupMessage) carry no type byte.
#[derive(Default)]
struct Parser {
    buf: Vec<u8>,
    started: bool,
}

impl Parser {
    fn feed(&mut self, bytes: &[u8]) -> u64 {
        self.buf.extend_from_slice(bytes);
        let mut count = 0;
        loop {
            if !self.started {
                if self.buf.len() < 8 {
                    return count;
                }
                let len = u32::from_be_bytes(self.buf[0..4].try_into().unwrap()) as usize;
                if self.buf.len() < len {
                    return count;
                }
                let code = u32::from_be_bytes(self.buf[4..8].try_into().unwrap());
                // 196608 is protocol 3.0: the real startup. Anything else (SSL, GSS) precedes it.
                if code == 196_608 {
                    self.started = true;
                }
                self.buf.drain(..len);
            } else {
                if self.buf.len() < 5 {
                    return count;
                }
                let len = u32::from_be_bytes(self.buf[1..5].try_into().unwrap()) as usize;
                if self.buf.len() < 1 + len {
                    return count;
                }
                if matches!(self.buf[0], b'E' | b'Q') {
                    count += 1;
                }
                self.buf.drain(..1 + len);
            }
        }
    }
}
