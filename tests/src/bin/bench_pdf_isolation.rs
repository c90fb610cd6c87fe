//! PDF latency isolation: the latency of small text PDFs posted one after
//! another to the real `ocr` binary, idle and while pathological PDFs (nested
//! forms, see `folio_e2e::hostile_pdf`) are being rendered, with PDF work in
//! the serving process (`OCR_PDF_WORKERS=0`) and in worker processes.
//!
//! `folio-bench-pdf-isolation [--small N] [--depth D] [--fanout F] [--workers W]`
//! The binary gets this process's environment (DATABASE_URL, REDIS_URL, …)
//! plus PORT; run it through `scripts/bench-pdf-isolation.sh`.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use folio_e2e::{free_port, hostile_pdf};
use folio_testing::samples::{self, PageKind};

fn arg(args: &[String], name: &str, default: u32) -> u32 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let small = arg(&args, "--small", 60) as usize;
    let depth = arg(&args, "--depth", 6);
    let fanout = arg(&args, "--fanout", 10);
    let workers = arg(&args, "--workers", 2);
    let secret = std::env::var("JWT_SECRET_KEY")?;
    let token = shared::auth::mint_hs256(&secret, "bench-isolation", Duration::from_secs(7200))?;
    let hostile = hostile_pdf::nested_forms(depth, fanout);
    // The `ocr` binary built beside this one.
    let ocr = std::env::current_exe()?
        .parent()
        .map(|dir| dir.join("ocr"))
        .filter(|path| path.is_file())
        .ok_or_else(|| anyhow::anyhow!("build the ocr binary beside this one"))?;
    println!(
        "small text PDFs: {small} per row, one at a time; pathological PDF: nested forms \
         depth {depth} × fanout {fanout} ({} bytes), posted by 2 clients in a loop with force_ocr=true",
        hostile.len()
    );
    println!();
    println!(
        "| PDF work | load | small PDFs | not 200 | p50 ms | p99 ms | max ms | pathological answers |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut round = 0;
    for pdf_workers in [0, workers] {
        for loaded in [false, true] {
            round += 1;
            let port = free_port();
            let child = Command::new(&ocr)
                .env("PORT", port.to_string())
                .env("OCR_PDF_WORKERS", pdf_workers.to_string())
                .env("RATE_LIMIT_OCR_PER_MIN", "1000000")
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .spawn()?;
            // Killed however the row ends (an error included).
            let child = Killed(child);
            let base = format!("http://127.0.0.1:{port}");
            let client = reqwest::Client::new();
            let started = Instant::now();
            while client.get(format!("{base}/health")).send().await.is_err() {
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(20),
                    "ocr never listened"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let stop = Arc::new(AtomicBool::new(false));
            let hostile_done = Arc::new(AtomicUsize::new(0));
            let statuses = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
            let mut load = Vec::new();
            if loaded {
                for c in 0..2 {
                    let (client, base, token, stop, done, statuses) = (
                        client.clone(),
                        base.clone(),
                        token.clone(),
                        stop.clone(),
                        hostile_done.clone(),
                        statuses.clone(),
                    );
                    let mut body = hostile.clone();
                    load.push(tokio::spawn(async move {
                        let mut n = 0;
                        while !stop.load(Ordering::Relaxed) {
                            n += 1;
                            // Unique bytes: no cache hit.
                            body.extend_from_slice(format!("%{round}-{c}-{n}\n").as_bytes());
                            let status = client
                                .post(format!("{base}/v1/ocr?force_ocr=true"))
                                .bearer_auth(&token)
                                .body(body.clone())
                                .send()
                                .await
                                .map(|r| r.status().as_u16())
                                .unwrap_or(0);
                            *statuses.lock().expect("lock").entry(status).or_insert(0) += 1;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }));
                }
                // Let the pathological documents reach PDFium first.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let mut times = Vec::with_capacity(small);
            let mut failed = 0;
            let row_started = Instant::now();
            for i in 0..small {
                // A row stops after 2 minutes (the in-process row under load
                // can take a deadline per document).
                if row_started.elapsed() > Duration::from_secs(120) {
                    break;
                }
                let text = format!(
                    "{} isolation round {round} document {i}",
                    samples::paragraph(i)
                );
                let pdf = samples::pdf(&[(text, PageKind::Text)])?;
                let sent = Instant::now();
                let status = match client
                    .post(format!("{base}/v1/ocr"))
                    .bearer_auth(&token)
                    .body(pdf)
                    .send()
                    .await
                {
                    Ok(answer) => {
                        let status = answer.status().as_u16();
                        let _ = answer.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                if status != 200 {
                    failed += 1;
                }
                times.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            stop.store(true, Ordering::Relaxed);
            drop(child);
            for task in load {
                task.abort();
            }
            times.sort_by(f64::total_cmp);
            let statuses = statuses.lock().expect("lock").clone();
            println!(
                "| {} | {} | {} | {failed} | {:.0} | {:.0} | {:.0} | {} |",
                if pdf_workers == 0 {
                    "in process (OCR_PDF_WORKERS=0)".to_owned()
                } else {
                    format!("{pdf_workers} worker processes")
                },
                if loaded { "pathological PDFs" } else { "idle" },
                times.len(),
                percentile(&times, 50.0),
                percentile(&times, 99.0),
                times.last().copied().unwrap_or(f64::NAN),
                if loaded {
                    format!("{statuses:?}")
                } else {
                    "-".into()
                }
            );
        }
    }
    Ok(())
}
