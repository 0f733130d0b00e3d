//! A TCP proxy a test can cut: it forwards connections to a server (PostgreSQL) until
//! [`CuttableProxy::cut`] drops every open connection and refuses new ones, as a stopped
//! database or a broken network would; [`CuttableProxy::restore`] lets connections through
//! again. Pointing a store at the proxy tests outages without stopping the shared server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running proxy; dropping it stops it.
#[derive(Debug)]
pub struct CuttableProxy {
    address: SocketAddr,
    open: Arc<AtomicBool>,
    /// Bumped on every cut; each forwarded connection ends when it changes.
    cuts: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl CuttableProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let open = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0);
        let task = tokio::spawn(accept(listener, upstream, Arc::clone(&open), cuts.clone()));
        Ok(Self { address, open, cuts, task })
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Drops every forwarded connection and refuses (closes at once) new ones.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, open: Arc<AtomicBool>, cuts: watch::Sender<u64>) {
    while let Ok((mut client, _)) = listener.accept().await {
        if !open.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let mut cut = cuts.subscribe();
        tokio::spawn(async move {
            let Ok(mut server) = TcpStream::connect(upstream).await else { return };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = cut.changed() => {}
            }
        });
    }
}
