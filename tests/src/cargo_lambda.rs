//! cargo-lambda's Lambda emulator (`cargo lambda watch --only-lambda-apis`),
//! a second and independent Runtime API beside `lambda_fake`: it serves the
//! Runtime API a function polls, Function URLs
//! (`/lambda-url/<function>/<path>`) and the Invoke API, with no Docker. One
//! emulator per function: each serves the function named `_`.
//!
//! `cargo lambda` comes from PyPI (`pip install cargo-lambda`;
//! `scripts/install-deps.sh` installs it); absent, see `tools::available`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

/// Whether `cargo lambda` runs here (see `tools::available`).
pub fn available(test: &str) -> bool {
    crate::tools::available(
        "cargo",
        &["lambda", "watch", "--help"],
        "pip install cargo-lambda",
        test,
    )
}

/// A running emulator, stopped (and its folder removed) when dropped.
pub struct Emulator {
    child: Child,
    pub port: u16,
    dir: PathBuf,
    vars: Vec<(String, String)>,
}

impl Emulator {
    /// Starts an emulator on a free loopback port, in a throwaway folder
    /// holding a dummy crate (it refuses to start outside one), and waits
    /// until it prints the variables a function needs.
    pub fn start() -> Emulator {
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = std::env::temp_dir().join(format!(
                "folio-cargo-lambda-{}",
                uuid::Uuid::new_v4().simple()
            ));
            write_dummy_crate(&dir);
            let port = free_port();
            let log = dir.join("watch.log");
            let out = std::fs::File::create(&log).expect("log file");
            let err = out.try_clone().expect("log file");
            let child = Command::new("cargo")
                .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1"])
                .args(["-P", &port.to_string()])
                .current_dir(&dir)
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .expect("spawn cargo lambda watch");
            let mut emulator = Emulator {
                child,
                port,
                dir,
                vars: Vec::new(),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                last_log = std::fs::read_to_string(&log).unwrap_or_default();
                let listening = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
                if listening && last_log.contains("AWS_LAMBDA_RUNTIME_API=") {
                    emulator.vars = printed_vars(&last_log);
                    return emulator;
                }
                if let Ok(Some(_)) = emulator.child.try_wait() {
                    break; // the port was taken meanwhile, say: try another
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("cargo lambda watch did not start; its output:\n{last_log}");
    }

    /// The variables the emulator printed (`AWS_LAMBDA_RUNTIME_API` with its
    /// `http://`, `AWS_LAMBDA_FUNCTION_NAME=_`, memory size, version).
    pub fn vars(&self) -> Vec<(String, String)> {
        self.vars.clone()
    }

    /// The Function URL of `path` (which starts with `/`).
    pub fn function_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/_{path}", self.port)
    }

    /// Sends `event` with `cargo lambda invoke --data-file` and returns what
    /// it printed (the function's answer).
    pub fn invoke(&self, event: &serde_json::Value) -> String {
        let file = self
            .dir
            .join(format!("event-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&file, event.to_string()).expect("event file");
        let out = Command::new("cargo")
            .args(["lambda", "invoke", "-A", "127.0.0.1", "-P"])
            .arg(self.port.to_string())
            .arg("--data-file")
            .arg(&file)
            .arg("_")
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run cargo lambda invoke");
        assert!(
            out.status.success(),
            "cargo lambda invoke failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.join("watch.log")).unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What `cargo lambda build --output-format zip --lambda-dir DIR` emits for
/// binaries named `bins`, built from a dummy crate (a second or two, not a
/// release build of folio): the files under DIR, relative to it, sorted.
pub fn emitted_zips(bins: &[&str]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!(
        "folio-cargo-lambda-build-{}",
        uuid::Uuid::new_v4().simple()
    ));
    write_dummy_crate(&dir);
    for bin in bins {
        let path = dir.join("src/bin").join(format!("{bin}.rs"));
        std::fs::create_dir_all(path.parent().expect("bin dir")).expect("bin dir");
        std::fs::write(path, "fn main() {}\n").expect("bin source");
    }
    let lambda_dir = dir.join("lambda");
    let mut command = Command::new("cargo");
    command
        .args([
            "lambda",
            "build",
            "--compiler",
            "cargo",
            "--output-format",
            "zip",
        ])
        .arg("--lambda-dir")
        .arg(&lambda_dir)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .stdin(Stdio::null());
    for bin in bins {
        command.args(["--bin", bin]);
    }
    let out = command.output().expect("run cargo lambda build");
    assert!(
        out.status.success(),
        "cargo lambda build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files = Vec::new();
    let mut pending = vec![lambda_dir.clone()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read lambda dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(rel) = path.strip_prefix(&lambda_dir) {
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    files.sort();
    files
}

fn write_dummy_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).expect("temp dir");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"emulated\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .expect("Cargo.toml");
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("main.rs");
}

/// `KEY=value` pairs of the `AWS_LAMBDA_*` variables in the emulator's log.
fn printed_vars(log: &str) -> Vec<(String, String)> {
    log.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .filter(|(k, _)| k.starts_with("AWS_LAMBDA_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_printed_variables_are_read_from_the_log() {
        let log = " INFO AWS_LAMBDA_FUNCTION_VERSION=1\n INFO AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:9/.rt\n INFO starting Runtime server runtime_addr=127.0.0.1:9\n";
        assert_eq!(
            super::printed_vars(log),
            vec![
                ("AWS_LAMBDA_FUNCTION_VERSION".to_owned(), "1".to_owned()),
                (
                    "AWS_LAMBDA_RUNTIME_API".to_owned(),
                    "http://127.0.0.1:9/.rt".to_owned()
                ),
            ]
        );
    }
}
