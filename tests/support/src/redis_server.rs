//! Throwaway `redis-server` processes for tests that must stop Redis mid-run,
//! speak TLS to it, watch it (`MONITOR`) or run it in cluster mode: each on a
//! free loopback port, keeping nothing on disk, killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Certificate files for a TLS server (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    tls: bool,
    cluster: bool,
    dir: PathBuf,
}

impl RedisServer {
    /// A plaintext server.
    pub fn start() -> anyhow::Result<RedisServer> {
        Self::spawn(None, false)
    }

    /// A TLS-only server (`--port 0 --tls-port …`) presenting `files.cert`;
    /// clients need no certificate of their own.
    pub fn start_tls(files: &TlsFiles) -> anyhow::Result<RedisServer> {
        Self::spawn(Some(files), false)
    }

    /// A one-node cluster (`--cluster-enabled yes`) owning all 16384 slots,
    /// ready (`cluster_state:ok`): it refuses what a cluster refuses, such as
    /// a script whose keys hash to different slots.
    pub fn start_cluster() -> anyhow::Result<RedisServer> {
        let server = Self::spawn(None, true)?;
        let mut con = redis::Client::open(server.url())?.get_connection()?;
        let _: () = redis::cmd("CLUSTER")
            .arg("ADDSLOTSRANGE")
            .arg(0)
            .arg(16383)
            .query(&mut con)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut con)?;
            if info.contains("cluster_state:ok") {
                return Ok(server);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the one-node cluster did not become ready within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn spawn(tls: Option<&TlsFiles>, cluster: bool) -> anyhow::Result<RedisServer> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("folio-redis-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        let child = base_command(port, &dir, tls, cluster)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start redis-server: {e}"))?;
        let mut server = RedisServer {
            child: Some(child),
            port,
            tls: tls.is_some(),
            cluster,
            dir,
        };
        server.wait_until_listening()?;
        Ok(server)
    }

    fn wait_until_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                anyhow::bail!("redis-server exited at start ({status}); is it built with TLS?");
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!("redis-server did not listen within 10 s")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`, or `rediss://localhost:<port>` for TLS.
    pub fn url(&self) -> String {
        if self.tls {
            format!("rediss://localhost:{}", self.port)
        } else {
            format!("redis://127.0.0.1:{}", self.port)
        }
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (after `kill`).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.tls, "restart is for plaintext servers");
        self.kill();
        let child = base_command(self.port, &self.dir, None, self.cluster).spawn()?;
        self.child = Some(child);
        self.wait_until_listening()
    }

    /// Stops the process (SIGSTOP): connections are still accepted by the
    /// kernel, nothing is ever answered, like a hung or swapping server.
    pub fn pause(&self) -> anyhow::Result<()> {
        self.signal("-STOP")
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn resume(&self) -> anyhow::Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, which: &str) -> anyhow::Result<()> {
        let child = self
            .child
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("redis-server is not running"))?;
        let status = Command::new("kill")
            .arg(which)
            .arg(child.id().to_string())
            .status()?;
        anyhow::ensure!(status.success(), "kill {which} failed: {status}");
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server must run again to die of SIGKILL promptly everywhere.
        let _ = self.resume();
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The command line for a server on `port` keeping nothing on disk.
fn base_command(port: u16, dir: &Path, tls: Option<&TlsFiles>, cluster: bool) -> Command {
    let mut cmd = Command::new(redis_server_binary());
    cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if cluster {
        // The node's own state file, in its throwaway folder.
        cmd.args(["--cluster-enabled", "yes", "--cluster-config-file"])
            .arg(dir.join("nodes.conf"));
    }
    match tls {
        None => {
            cmd.args(["--port", &port.to_string()]);
        }
        Some(files) => {
            cmd.args(["--port", "0", "--tls-port", &port.to_string()])
                .arg("--tls-cert-file")
                .arg(&files.cert)
                .arg("--tls-key-file")
                .arg(&files.key)
                .arg("--tls-ca-cert-file")
                .arg(&files.ca)
                .args(["--tls-auth-clients", "no"]);
        }
    }
    cmd
}

/// `REDIS_SERVER_BIN`, else `redis-server` from `PATH`.
fn redis_server_binary() -> String {
    std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".to_owned())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
