//! Fan-out benchmark (scripts/bench-fanout.sh): one scanned PDF recognised as
//! an async `ocr` job by real `worker-tick --every` processes, each with one
//! single-threaded engine (`OCR_WORKERS=1`, `OMP_THREAD_LIMIT=1`): once
//! without fan-out on one process (the reference), then split into parts of
//! `PER_PART` pages on 1, 2 and 4 processes. Each run has a fresh test
//! database and Redis prefix (no cached result). Prints, per run, the wall
//! time from enqueue to the job's success, the workers' total CPU time
//! (user + system, from /proc), the parts, and whether the text equals the
//! reference's.
//!
//!   bench_fanout WORKER_TICK_BIN PDF_OUT [PAGES=40] [PER_PART=8] [RUNS=1]

use std::process::Stdio;
use std::time::{Duration, Instant};

use folio_testing::samples::{self, PageKind};
use folio_testing::{TestDb, TestPrefix, test_vars};
use shared::AppState;
use shared::config::{Config, Function};
use shared::ocr::service::OcrService;
use shared::ocr::{Document, Ocr, Options};
use tokio::process::{Child, Command};

fn cpu_seconds(pid: u32, ticks: f64) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which ends with the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the name.
    (field(11) + field(12)) / ticks
}

struct Run {
    wall_s: f64,
    cpu_s: f64,
    parts: i64,
    text: String,
}

async fn run(
    bin: &str,
    pdf: &[u8],
    workers: usize,
    per_part: u32,
    ticks: f64,
) -> anyhow::Result<Run> {
    let db = TestDb::new().await;
    let prefix = TestPrefix::new();
    let per_part = per_part.to_string();
    let mut vars = test_vars(
        &db.url,
        &prefix.prefix,
        &[
            ("OCR_FANOUT_PAGES", per_part.as_str()),
            ("OCR_WORKERS", "1"),
            ("OCR_MAX_BYTES", "209715200"),
            ("OMP_THREAD_LIMIT", "1"),
            ("WORKER_TICK_BUDGET", "600s"),
            ("WORKER_BATCH_SIZE", "1"),
            ("WORKER_CONCURRENCY", "1"),
            ("RUST_LOG", "warn"),
        ],
    );
    for name in ["PATH", "PDFIUM_LIB_PATH", "TESSDATA_PREFIX"] {
        if let Ok(value) = std::env::var(name) {
            vars.push((name.into(), value));
        }
    }
    let state = AppState::new(Config::from_vars(Function::WorkerTick, vars.clone())?)?;
    let service = OcrService::new(&state);
    let document = Document::from_bytes(pdf.to_vec().into())?;
    let ocr = Ocr::global(&state.config.ocr);
    let options = Options {
        lang: ocr.lang("eng")?,
        force_ocr: false,
        dpi: 300,
        rotate_pages: true,
        words: false,
    };
    let mut children: Vec<Child> = (0..workers)
        .map(|_| {
            Command::new(bin)
                .args(["--every", "100ms"])
                .env_clear()
                .envs(vars.iter().cloned())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    // Let them start (and fail their first empty ticks) before the clock starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = Instant::now();
    let job = shared::ocr::job::enqueue(
        &service,
        "bench",
        &document,
        &options,
        Duration::from_secs(3600),
        None,
    )
    .await?;
    let (status, result) = loop {
        let (status, result): (String, Option<serde_json::Value>) =
            sqlx::query_as("SELECT status, result FROM jobs WHERE id = $1")
                .bind(job)
                .fetch_one(&db.pool)
                .await?;
        if status == "succeeded" || status == "failed" {
            break (status, result);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_s: f64 = children
        .iter()
        .filter_map(Child::id)
        .map(|pid| cpu_seconds(pid, ticks))
        .sum();
    for child in &mut children {
        child.start_kill().ok();
        child.wait().await.ok();
    }
    anyhow::ensure!(status == "succeeded", "the job {status}");
    let parts: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE kind = 'ocr-part'")
        .fetch_one(&db.pool)
        .await?;
    let text = result
        .and_then(|r| r["text"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(Run {
        wall_s,
        cpu_s,
        parts,
        text,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(bin), Some(out)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: bench_fanout WORKER_TICK_BIN PDF_OUT [PAGES] [PER_PART] [RUNS]");
    };
    let pages: usize = args.get(3).map_or(Ok(40), |v| v.parse())?;
    let per_part: u32 = args.get(4).map_or(Ok(8), |v| v.parse())?;
    let runs: usize = args.get(5).map_or(Ok(1), |v| v.parse())?;
    let ticks: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0);
    let content: Vec<(String, PageKind)> = (0..pages)
        .map(|i| (samples::page_text(i), PageKind::Scanned { dpi: 300 }))
        .collect();
    let pdf = samples::pdf(&content)?;
    std::fs::write(out, &pdf)?;
    println!(
        "scan: {pages} pages at 300 dpi, {:.1} MB; parts of {per_part} pages; {runs} run(s) each",
        pdf.len() as f64 / 1e6
    );
    println!("setup\tworkers\tparts\twall_s\tcpu_s\tsame_text");
    let mut reference: Option<String> = None;
    for (label, workers, per) in [
        ("one job", 1, 0),
        ("fan-out", 1, per_part),
        ("fan-out", 2, per_part),
        ("fan-out", 4, per_part),
    ] {
        let mut walls = Vec::new();
        let mut cpus = Vec::new();
        let mut parts = 0;
        let mut same = true;
        for _ in 0..runs {
            let r = run(bin, &pdf, workers, per, ticks).await?;
            walls.push(r.wall_s);
            cpus.push(r.cpu_s);
            parts = r.parts;
            let reference = reference.get_or_insert_with(|| r.text.clone());
            same &= *reference == r.text;
        }
        println!(
            "{label}\t{workers}\t{parts}\t{:.1}\t{:.1}\t{same}",
            median(walls),
            median(cpus)
        );
    }
    Ok(())
}
