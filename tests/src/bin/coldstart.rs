//! Cold-start benchmark: for each binary, the time from exec to the first 200
//! on `GET /health`, and the process's peak RSS at that moment, over N runs.
//!
//! `folio-coldstart [--runs N] BINARY_PATH...` — the binaries get this
//! process's environment (DATABASE_URL, …) plus a fresh PORT each run.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 15usize;
    if let Some(i) = args.iter().position(|a| a == "--runs") {
        runs = args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("--runs takes a number"))?;
        args.drain(i..=i + 1);
    }
    anyhow::ensure!(
        !args.is_empty(),
        "usage: folio-coldstart [--runs N] BINARY_PATH..."
    );
    println!(
        "| binary | runs | exec → first 200 on /health, median (min–max) | peak RSS, median |"
    );
    println!("|---|---|---|---|");
    for binary in &args {
        let mut times = Vec::with_capacity(runs);
        let mut rss = Vec::with_capacity(runs);
        for _ in 0..runs {
            let (t, kb) = one_run(binary)?;
            times.push(t);
            rss.push(kb);
        }
        times.sort();
        rss.sort_unstable();
        let name = std::path::Path::new(binary)
            .file_name()
            .map_or(binary.clone(), |n| n.to_string_lossy().into_owned());
        println!(
            "| `{name}` | {runs} | {:.1} ms ({:.1}–{:.1}) | {:.1} MB |",
            ms(times[runs / 2]),
            ms(times[0]),
            ms(times[runs - 1]),
            rss[runs / 2] as f64 / 1024.0
        );
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn one_run(binary: &str) -> anyhow::Result<(Duration, u64)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let outcome = (|| {
        let deadline = started + Duration::from_secs(10);
        loop {
            anyhow::ensure!(
                Instant::now() < deadline,
                "{binary} did not answer within 10 s"
            );
            if let Ok(Some(status)) = child.try_wait() {
                anyhow::bail!("{binary} exited with {status}");
            }
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                stream.write_all(
                    b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                )?;
                let mut answer = Vec::new();
                stream.read_to_end(&mut answer)?;
                if answer.starts_with(b"HTTP/1.1 200") {
                    let elapsed = started.elapsed();
                    return Ok((elapsed, peak_rss_kb(child.id())?));
                }
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    })();
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// VmHWM: the highest resident set size the process has had.
fn peak_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM for {pid}"))
}
