//! Postgres for the tests beyond one database per test: the pooled leg's
//! URLs, and throwaway servers a test starts and stops itself (a database
//! that comes up late, as a suspended Neon compute does).

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::PgPool;

use super::{TestDb, test_vars};
use shared::config::{Config, Function};

/// True in the pooled leg (`FOLIO_TEST_POOLED=1`): functions under test
/// reach their database through the pooler at `TEST_POOLER_URL`.
pub fn pooled_leg() -> bool {
    std::env::var("FOLIO_TEST_POOLED").is_ok_and(|v| v == "1")
}

/// `TEST_POOLER_URL` (PgBouncer in transaction mode, `scripts/services.sh`),
/// if this run has one.
pub fn pooler_url() -> Option<String> {
    std::env::var("TEST_POOLER_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The pooler's URL for database `name`. Panics when there is no pooler:
/// a test that needs one must not pass without it.
pub fn pooler_url_for(name: &str) -> String {
    let base =
        pooler_url().expect("TEST_POOLER_URL must name a PgBouncer (scripts/test.sh starts one)");
    let mut url = url::Url::parse(&base).expect("TEST_POOLER_URL must be a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestDb {
    /// A pool on `url` built the way the functions build theirs (transport
    /// rules, start-up parameters, pooler mode), as a separate process would
    /// have it.
    pub fn app_pool(&self, max_connections: u32) -> PgPool {
        let mut vars = test_vars(&self.url, "unused:", &[]);
        vars.push((
            "DATABASE_MAX_CONNECTIONS".into(),
            max_connections.to_string(),
        ));
        vars.push(("DATABASE_ACQUIRE_TIMEOUT_SECS".into(), "10".into()));
        let config = Config::from_vars(Function::Health, vars).expect("test database config");
        shared::db::pool(&config.database).expect("test pool")
    }
}

/// A Postgres server of the test's own: initialised in a temporary folder
/// on a free loopback port, started and stopped when the test says.
/// Stopped and deleted on drop.
pub struct ScratchPostgres {
    dir: PathBuf,
    bin: PathBuf,
    user: Option<String>,
    pub port: u16,
}

impl ScratchPostgres {
    /// Runs `initdb` (as user `postgres` when this process is root, since
    /// initdb refuses root). Does not start the server.
    pub fn create() -> ScratchPostgres {
        let bin = pg_bin_dir().expect("initdb not found (install postgresql)");
        let user = is_root().then(|| "postgres".to_owned());
        let dir = std::env::temp_dir().join(format!(
            "folio-scratch-pg-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        if let Some(user) = &user {
            run(Command::new("chown").arg(user).arg(&dir));
        }
        let port = free_port();
        let data = dir.join("data");
        let mut initdb = as_user(&user, &bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-locale",
            "-E",
            "UTF8",
        ]);
        run(&mut initdb);
        let conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        );
        let mut append = as_user(&user, Path::new("sh"));
        append.arg("-c").arg(format!(
            "printf '%s' \"$1\" >> {}/postgresql.conf",
            data.display()
        ));
        append.arg("sh").arg(conf);
        run(&mut append);
        ScratchPostgres {
            dir,
            bin,
            user,
            port,
        }
    }

    /// `postgres://postgres@127.0.0.1:PORT/DB`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        let mut cmd = as_user(&self.user, &self.bin.join("pg_ctl"));
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .args(["-w", "-t", "60", "start"]);
        run(&mut cmd);
    }

    /// Stops the server (fast shutdown) and waits for it.
    pub fn stop(&self) {
        let mut cmd = as_user(&self.user, &self.bin.join("pg_ctl"));
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"]);
        run(&mut cmd);
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        let mut cmd = as_user(&self.user, &self.bin.join("pg_ctl"));
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = cmd.output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn as_user(user: &Option<String>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", user, "--"]).arg(program).current_dir("/");
            cmd
        }
        None => Command::new(program),
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a postgres tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `PG_BIN_DIR`, else `initdb` on PATH, else the newest of Debian's
/// per-version folders (which keep the server tools out of PATH).
fn pg_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN_DIR") {
        return Some(PathBuf::from(dir));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
