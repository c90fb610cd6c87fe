//! The `ocr` binary itself: it makes Tesseract single-threaded before anything
//! loads, by re-executing itself with `OMP_THREAD_LIMIT=1` when that is unset.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn start(omp: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocr"));
    command
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("JWT_SECRET_KEY", folio_testing::TEST_JWT_SECRET)
        .env("PORT", "0")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(value) = omp {
        command.env("OMP_THREAD_LIMIT", value);
    }
    command.spawn().expect("start the ocr binary")
}

/// The process's environment as the kernel sees it (after any exec).
fn environment_of(child: &Child) -> Vec<String> {
    let path = format!("/proc/{}/environ", child.id());
    let started = Instant::now();
    loop {
        let bytes = std::fs::read(&path).unwrap_or_default();
        let vars: Vec<String> = bytes
            .split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        // Give the re-execution time to happen; then take what is there.
        if vars.iter().any(|v| v.starts_with("OMP_THREAD_LIMIT="))
            || started.elapsed() > Duration::from_secs(3)
        {
            return vars;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_binary_runs_with_single_threaded_tesseract_unless_told_otherwise() {
    for (given, expected) in [
        (None, "OMP_THREAD_LIMIT=1"),
        (Some("2"), "OMP_THREAD_LIMIT=2"),
    ] {
        let mut child = start(given);
        std::thread::sleep(Duration::from_millis(300));
        let vars = environment_of(&child);
        let still_running = child.try_wait().expect("wait").is_none();
        let _ = child.kill();
        let _ = child.wait();
        assert!(still_running, "the ocr binary exited early");
        assert!(vars.iter().any(|v| v == expected), "{given:?}: {vars:?}");
    }
}
