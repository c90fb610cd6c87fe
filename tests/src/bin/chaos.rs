//! `folio-chaos`: the loopback load generator behind `scripts/chaos.sh`.
//!
//! `folio-chaos load --url URL --secret S --clients N --seconds T [--pid PID] [--out FILE]`
//!     N clients (one user each) run a mix of routes for T seconds against a
//!     running folio-local: OCR of small PNGs (sync, and async as jobs), quiz
//!     create, attempts, quiz reads, weekly stats and readiness. Afterwards
//!     every accepted job is followed until it ends. Prints (and writes to
//!     FILE) a JSON report: per route counts by outcome and p50/p99/max
//!     latency, the jobs' fates, the server's peak RSS (PID), and the last
//!     moment readiness saw Redis or Postgres failing.
//! `folio-chaos hang --url URL --secret S --redis-pid PID [--count 20]`
//!     posts one small PNG (cached by the first request), stops Redis with
//!     SIGSTOP, posts the same PNG COUNT times one after another, resumes
//!     Redis; prints every latency and the median.
//! `folio-chaos fuzz-seeds DIR`
//!     writes seed inputs for every fuzz target in `fuzz/` to DIR/<target>/:
//!     the sample documents of every accepted type, multipart bodies, REST
//!     answers and tokens.
//!
//! Loopback only: it refuses a URL whose host is not 127.0.0.1 or localhost.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::sync::Mutex;

const ROUTES: [&str; 7] = [
    "ocr_sync",
    "ocr_job",
    "quiz_create",
    "attempt",
    "quiz_read",
    "stats",
    "ready",
];
/// Share of each route in the mix, in the order of `ROUTES` (out of 100).
const WEIGHTS: [u32; 7] = [10, 3, 12, 25, 25, 10, 15];
/// Distinct images: few enough that most OCR requests are cache hits.
const IMAGES: usize = 6;
/// How long a request may take before it counts as hung.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        bail!("usage: folio-chaos load|hang --url URL --secret S … | fuzz-seeds DIR");
    };
    if command == "fuzz-seeds" {
        let dir = args.get(1).context("usage: folio-chaos fuzz-seeds DIR")?;
        return fuzz_seeds(std::path::Path::new(dir));
    }
    let opts = Opts::parse(&args[1..])?;
    match command.as_str() {
        "load" => load(opts).await,
        "hang" => hang(opts).await,
        other => bail!("unknown command {other}"),
    }
}

#[derive(Debug, Clone)]
struct Opts {
    url: String,
    secret: String,
    clients: usize,
    seconds: f64,
    pid: Option<u32>,
    out: Option<String>,
    redis_pid: Option<u32>,
    count: usize,
    jobs_wait: f64,
}

impl Opts {
    fn parse(args: &[String]) -> anyhow::Result<Opts> {
        let mut map = BTreeMap::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let name = flag
                .strip_prefix("--")
                .with_context(|| format!("unexpected argument {flag}"))?;
            let value = it
                .next()
                .with_context(|| format!("--{name} needs a value"))?;
            map.insert(name.to_owned(), value.clone());
        }
        let get = |k: &str| map.get(k).cloned();
        let url = get("url").context("--url is required")?;
        let host = reqwest::Url::parse(&url)?
            .host_str()
            .unwrap_or_default()
            .to_owned();
        if host != "127.0.0.1" && host != "localhost" {
            bail!("folio-chaos only loads loopback servers, not {host}");
        }
        Ok(Opts {
            url: url.trim_end_matches('/').to_owned(),
            secret: get("secret").context("--secret is required")?,
            clients: get("clients").map_or(Ok(16), |v| v.parse())?,
            seconds: get("seconds").map_or(Ok(5.0), |v| v.parse())?,
            pid: get("pid").map(|v| v.parse()).transpose()?,
            out: get("out"),
            redis_pid: get("redis-pid").map(|v| v.parse()).transpose()?,
            count: get("count").map_or(Ok(20), |v| v.parse())?,
            jobs_wait: get("jobs-wait").map_or(Ok(90.0), |v| v.parse())?,
        })
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn token(secret: &str, sub: &str) -> anyhow::Result<String> {
    shared::auth::mint_hs256(secret, sub, Duration::from_secs(3600))
}

/// Small PNGs of a few words each.
fn images() -> anyhow::Result<Vec<Vec<u8>>> {
    use folio_testing::samples;
    (0..IMAGES)
        .map(|i| {
            let text = format!("Chaos sample {i}: the quick brown fox");
            let page = samples::render_text(&text, 150, samples::fitted_height(&text))?;
            samples::png(&page)
        })
        .collect()
}

/// Source texts the extractive generator makes questions from.
/// A small PNG nobody sent before.
fn unique_image(seed: u64) -> anyhow::Result<Vec<u8>> {
    use folio_testing::samples;
    let text = format!("Job {seed:x}");
    let page = samples::render_text(&text, 150, samples::fitted_height(&text))?;
    samples::png(&page)
}

const PARAGRAPHS: [&str; 5] = [
    include_str!("../../../shared/testdata/quiz/photosynthesis.txt"),
    include_str!("../../../shared/testdata/quiz/printing.txt"),
    include_str!("../../../shared/testdata/quiz/rome.txt"),
    include_str!("../../../shared/testdata/quiz/volcanoes.txt"),
    include_str!("../../../shared/testdata/quiz/water-cycle.txt"),
];

#[derive(Debug, Default, Clone)]
struct RouteStats {
    latencies_ms: Vec<f64>,
    outcomes: BTreeMap<String, u64>,
    /// Answers that break the rules: 500, other 5xx, unexpected 4xx, a 503
    /// without Retry-After, transport errors and timeouts.
    unintended: u64,
    samples: Vec<String>,
}

#[derive(Default)]
struct Shared {
    routes: BTreeMap<&'static str, RouteStats>,
    /// (job id, owner's token)
    jobs: Vec<(String, String)>,
    /// Last moment (epoch ms) readiness saw Redis not ok / Postgres down.
    last_redis_bad_ms: u64,
    last_postgres_bad_ms: u64,
    last_unintended_ms: u64,
    last_503_ms: u64,
    /// The slowest 503 (a store down must be answered, not waited out).
    max_503_ms: f64,
}

struct Outcome {
    status: Option<u16>,
    retry_after: bool,
    body: Value,
    millis: f64,
}

async fn send(request: reqwest::RequestBuilder) -> Outcome {
    let started = Instant::now();
    match request.timeout(CLIENT_TIMEOUT).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key("retry-after");
            let body = response.json::<Value>().await.unwrap_or(Value::Null);
            Outcome {
                status: Some(status),
                retry_after,
                body,
                millis: started.elapsed().as_secs_f64() * 1000.0,
            }
        }
        Err(e) => Outcome {
            status: None,
            retry_after: false,
            body: json!({ "transport_error": e.without_url().to_string() }),
            millis: started.elapsed().as_secs_f64() * 1000.0,
        },
    }
}

/// Files an answer under its route; `expected` are the successful statuses.
async fn record(shared: &Mutex<Shared>, route: &'static str, expected: &[u16], o: &Outcome) {
    let (label, unintended) = match o.status {
        None => ("transport_error".to_owned(), true),
        Some(s) if expected.contains(&s) => (s.to_string(), false),
        Some(429) => ("429".to_owned(), false),
        Some(503) if o.retry_after => ("503".to_owned(), false),
        Some(503) => ("503_without_retry_after".to_owned(), true),
        Some(s) => (s.to_string(), true),
    };
    let mut g = shared.lock().await;
    if o.status == Some(503) {
        g.last_503_ms = now_ms();
        g.max_503_ms = g.max_503_ms.max(o.millis);
    }
    if unintended {
        g.last_unintended_ms = now_ms();
    }
    let stats = g.routes.entry(route).or_default();
    stats.latencies_ms.push(o.millis);
    *stats.outcomes.entry(label).or_default() += 1;
    if unintended {
        stats.unintended += 1;
        if stats.samples.len() < 5 {
            stats.samples.push(format!("{:?} {}", o.status, o.body));
        }
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
    quiz: Option<(String, usize)>,
    rng: u64,
}

impl Client {
    fn next(&mut self) -> u64 {
        // xorshift64*: enough to pick routes and inputs.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    async fn create_quiz(&mut self, shared: &Mutex<Shared>) {
        let text = PARAGRAPHS[(self.next() % PARAGRAPHS.len() as u64) as usize];
        let o = send(self.post("/v1/quizzes").json(&json!({
            "source": {"text": text},
            "question_count": 3,
            "generator": "extractive",
        })))
        .await;
        record(shared, "quiz_create", &[201], &o).await;
        if o.status == Some(201)
            && let (Some(id), Some(questions)) = (
                o.body["quiz_id"].as_str(),
                o.body["questions"].as_array().map(Vec::len),
            )
        {
            self.quiz = Some((id.to_owned(), questions));
        }
    }

    async fn step(&mut self, shared: &Mutex<Shared>, images: &[Vec<u8>]) {
        let mut pick = (self.next() % 100) as u32;
        let mut route = 0;
        while pick >= WEIGHTS[route] {
            pick -= WEIGHTS[route];
            route += 1;
        }
        let name = ROUTES[route];
        if self.quiz.is_none() && matches!(name, "attempt" | "quiz_read") {
            self.create_quiz(shared).await;
            return;
        }
        match name {
            "ocr_sync" | "ocr_job" => {
                let image = if name == "ocr_sync" {
                    images[(self.next() % images.len() as u64) as usize].clone()
                } else {
                    // A document of its own, so the job is queued, not answered
                    // from a cache.
                    match unique_image(self.next()) {
                        Ok(image) => image,
                        Err(_) => return,
                    }
                };
                let mode = if name == "ocr_sync" { "sync" } else { "async" };
                let o = send(
                    self.post(&format!("/v1/ocr?mode={mode}"))
                        .header("content-type", "image/png")
                        .body(image),
                )
                .await;
                if name == "ocr_sync" {
                    record(shared, name, &[200], &o).await;
                } else {
                    record(shared, name, &[202], &o).await;
                    if o.status == Some(202)
                        && let Some(id) = o.body["job_id"].as_str()
                    {
                        shared
                            .lock()
                            .await
                            .jobs
                            .push((id.to_owned(), self.token.clone()));
                    }
                }
            }
            "quiz_create" => self.create_quiz(shared).await,
            "attempt" => {
                let Some((id, n)) = self.quiz.clone() else {
                    return;
                };
                let answers: Vec<u64> = (0..n).map(|_| self.next() % 4).collect();
                let o = send(
                    self.post(&format!("/v1/quizzes/{id}/attempts"))
                        .json(&json!({ "answers": answers })),
                )
                .await;
                record(shared, name, &[201], &o).await;
            }
            "quiz_read" => {
                let Some((id, _)) = self.quiz.clone() else {
                    return;
                };
                let o = send(self.get(&format!("/v1/quizzes/{id}"))).await;
                record(shared, name, &[200], &o).await;
            }
            "stats" => {
                let o = send(self.get("/v1/quizzes/stats/weekly")).await;
                record(shared, name, &[200], &o).await;
            }
            _ => {
                let o = send(self.http.get(format!("{}/health/ready", self.url))).await;
                record(shared, name, &[200], &o).await;
                let mut g = shared.lock().await;
                if o.status == Some(200) && o.body["checks"]["redis"]["ok"] != true {
                    g.last_redis_bad_ms = now_ms();
                }
                if o.status != Some(200) {
                    g.last_postgres_bad_ms = now_ms();
                }
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    (sorted[rank.min(sorted.len() - 1)] * 10.0).round() / 10.0
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn load(opts: Opts) -> anyhow::Result<()> {
    let images = Arc::new(images()?);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(opts.clients)
        .build()?;
    let shared = Arc::new(Mutex::new(Shared::default()));
    let started_ms = now_ms();
    let deadline = Instant::now() + Duration::from_secs_f64(opts.seconds);
    let done = Arc::new(AtomicBool::new(false));
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampler = opts.pid.map(|pid| {
        let done = Arc::clone(&done);
        let peak = Arc::clone(&peak_rss);
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Some(kb) = rss_kb(pid) {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let run = std::process::id() as u64 ^ now_ms();
    let mut tasks = Vec::new();
    for i in 0..opts.clients {
        let mut client = Client {
            http: http.clone(),
            url: opts.url.clone(),
            token: token(&opts.secret, &format!("chaos-{run:x}-{i}"))?,
            quiz: None,
            rng: (run ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1,
        };
        let shared = Arc::clone(&shared);
        let images = Arc::clone(&images);
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                client.step(&shared, &images).await;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let load_ended_ms = now_ms();

    // Follow every accepted job to its end.
    let jobs = shared.lock().await.jobs.clone();
    let mut fates: BTreeMap<String, u64> = BTreeMap::new();
    let mut lost = Vec::new();
    let jobs_deadline = Instant::now() + Duration::from_secs_f64(opts.jobs_wait);
    for (id, token) in &jobs {
        let fate = loop {
            let o = send(
                http.get(format!("{}/v1/ocr/jobs/{id}", opts.url))
                    .bearer_auth(token),
            )
            .await;
            let status = o.body["status"].as_str().unwrap_or_default().to_owned();
            if status == "succeeded" || status == "failed" {
                break status;
            }
            if Instant::now() > jobs_deadline {
                break format!("unfinished ({status})");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        if fate != "succeeded" {
            lost.push(json!({ "job_id": id, "fate": fate }));
        }
        *fates.entry(fate).or_default() += 1;
    }
    done.store(true, Ordering::Relaxed);
    if let Some(sampler) = sampler {
        let _ = sampler.await;
    }

    let g = shared.lock().await;
    let mut routes = serde_json::Map::new();
    let mut unintended = 0;
    let mut total = 0;
    let mut all_latencies = Vec::new();
    for route in ROUTES {
        let Some(stats) = g.routes.get(route) else {
            continue;
        };
        let mut sorted = stats.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        all_latencies.extend_from_slice(&sorted);
        unintended += stats.unintended;
        total += sorted.len() as u64;
        routes.insert(
            route.to_owned(),
            json!({
                "requests": sorted.len(),
                "outcomes": stats.outcomes,
                "unintended": stats.unintended,
                "p50_ms": percentile(&sorted, 50.0),
                "p99_ms": percentile(&sorted, 99.0),
                "max_ms": percentile(&sorted, 100.0),
                "unintended_samples": stats.samples,
            }),
        );
    }
    all_latencies.sort_by(f64::total_cmp);
    let since = |ms: u64| (ms > 0).then(|| ms as i64 - started_ms as i64);
    let report = json!({
        "clients": opts.clients,
        "seconds": opts.seconds,
        "started_ms": started_ms,
        "load_ended_ms": load_ended_ms,
        "requests": total,
        "throughput_rps": (total as f64 / opts.seconds * 10.0).round() / 10.0,
        "unintended": unintended,
        "max_ms": percentile(&all_latencies, 100.0),
        "routes": routes,
        "jobs": { "accepted": jobs.len(), "fates": fates, "not_succeeded": lost },
        "peak_rss_kb": peak_rss.load(Ordering::Relaxed),
        // Milliseconds from the start of the run; null when it never happened.
        "last_redis_bad_at_ms": since(g.last_redis_bad_ms),
        "last_postgres_bad_at_ms": since(g.last_postgres_bad_ms),
        "last_unintended_at_ms": since(g.last_unintended_ms),
        "last_503_at_ms": since(g.last_503_ms),
        "max_503_ms": (g.max_503_ms * 10.0).round() / 10.0,
    });
    let text = serde_json::to_string_pretty(&report)?;
    if let Some(out) = &opts.out {
        std::fs::write(out, &text)?;
    }
    println!("{text}");
    Ok(())
}

fn signal(pid: u32, which: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("kill")
        .arg(which)
        .arg(pid.to_string())
        .status()?;
    anyhow::ensure!(status.success(), "kill {which} {pid} failed");
    Ok(())
}

async fn hang(opts: Opts) -> anyhow::Result<()> {
    let redis = opts.redis_pid.context("--redis-pid is required")?;
    let images = images()?;
    let image = images[0].clone();
    let http = reqwest::Client::new();
    let token = token(&opts.secret, &format!("hang-{}", now_ms()))?;
    let post = || {
        http.post(format!("{}/v1/ocr?mode=sync", opts.url))
            .bearer_auth(&token)
            .header("content-type", "image/png")
            .body(image.clone())
    };
    let warm = send(post()).await;
    anyhow::ensure!(
        warm.status == Some(200),
        "the first post answered {:?}: {}",
        warm.status,
        warm.body
    );
    let second = send(post()).await;
    eprintln!(
        "warm: {:.0} ms, then {:.0} ms (cached)",
        warm.millis, second.millis
    );
    signal(redis, "-STOP")?;
    let mut latencies = Vec::new();
    let mut statuses = BTreeMap::<String, u64>::new();
    let outcome = async {
        for i in 0..opts.count {
            let o = send(post()).await;
            eprintln!(
                "request {:2}: {:>5} ms, HTTP {:?}",
                i + 1,
                o.millis.round(),
                o.status
            );
            *statuses
                .entry(o.status.map_or("error".into(), |s| s.to_string()))
                .or_default() += 1;
            latencies.push(o.millis);
        }
    }
    .await;
    signal(redis, "-CONT")?;
    let () = outcome;
    let mut sorted = latencies.clone();
    sorted.sort_by(f64::total_cmp);
    let after_tenth = {
        let mut tail = latencies.get(10..).unwrap_or_default().to_vec();
        tail.sort_by(f64::total_cmp);
        percentile(&tail, 50.0)
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "count": opts.count,
            "statuses": statuses,
            "median_ms": percentile(&sorted, 50.0),
            "median_after_tenth_ms": after_tenth,
            "max_ms": percentile(&sorted, 100.0),
            "latencies_ms": latencies.iter().map(|l| l.round()).collect::<Vec<_>>(),
        }))?
    );
    Ok(())
}

/// Seeds for the fuzz targets, made from the sample generators.
fn fuzz_seeds(dir: &std::path::Path) -> anyhow::Result<()> {
    use folio_testing::samples::{self, PageKind};
    let write = |target: &str, name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(name), bytes)?;
        Ok(())
    };
    let text = "Seeds for the fuzzer";
    let page = samples::render_text(text, 100, samples::fitted_height(text))?;
    let mut images: Vec<(&str, Vec<u8>)> = vec![
        ("page.png", samples::png(&page)?),
        ("page.jpg", samples::jpeg(&page, 60)?),
        ("page.webp", samples::webp(&page)?),
        ("pages.tiff", samples::tiff(&[page.clone(), page.clone()])?),
        ("huge.png", samples::huge_png(20_000, 20_000)?),
        ("lying.png", samples::lying_png(50_000, 50_000)?),
    ];
    images.retain(|(_, bytes)| !bytes.is_empty());
    for (name, bytes) in &images {
        write("sniff", name, bytes)?;
        write("image_header", name, bytes)?;
    }
    // PDFs: a text layer, a scan, blank and empty pages, an encrypted one.
    let mut pdfs: Vec<(&str, Vec<u8>)> = Vec::new();
    if let Ok(pdf) = samples::pdf(&[
        (samples::paragraph(1), PageKind::Text),
        (samples::paragraph(2), PageKind::Scanned { dpi: 100 }),
    ]) {
        if let Ok(locked) = samples::encrypt_pdf(&pdf, "secret") {
            pdfs.push(("encrypted.pdf", locked));
        }
        pdfs.push(("mixed.pdf", pdf));
    }
    if let Ok(pdf) = samples::blank_pdf(2, 612.0, 792.0) {
        pdfs.push(("blank.pdf", pdf));
    }
    if let Ok(pdf) = samples::empty_pdf(1, 14_400.0, 14_400.0) {
        pdfs.push(("huge-page.pdf", pdf));
    }
    for (name, pdf) in &pdfs {
        write("sniff", name, pdf)?;
        // The first byte picks the planning mode.
        write("pdf_plan", name, &[[0u8].as_slice(), pdf].concat())?;
        write(
            "pdf_plan",
            &format!("ocr-{name}"),
            &[[1u8].as_slice(), pdf].concat(),
        )?;
    }
    // Multipart: the boundary on the first line, then the body.
    let png = &images[0].1;
    let mut body = b"XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\n\
        Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
        .to_vec();
    body.extend_from_slice(&png[..png.len().min(512)]);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    write("multipart", "file-part", &body)?;
    write(
        "multipart",
        "no-file",
        b"b\n--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n",
    )?;
    // REST answers (mode byte 0: base64, 2: plain) and commands (mode 1).
    for (i, answer) in [
        r#"{"result":"T0s="}"#,
        r#"{"result":"OK"}"#,
        r#"[{"result":1},{"result":null},{"error":"WRONGTYPE x"},{"result":["YQ==",["Yg==",2]]}]"#,
        r#"{"error":"NOSCRIPT No matching script"}"#,
        r#"{"result":1.5}"#,
    ]
    .iter()
    .enumerate()
    {
        write(
            "upstash_wire",
            &format!("answer-{i}"),
            &[b"\0".as_slice(), answer.as_bytes()].concat(),
        )?;
        write(
            "upstash_wire",
            &format!("plain-{i}"),
            &[b"\x02".as_slice(), answer.as_bytes()].concat(),
        )?;
    }
    write(
        "upstash_wire",
        "set-binary",
        b"\x01SET\x00key\x00\xff\xfe\x00PX\x00100",
    )?;
    write("upstash_wire", "hset", b"\x01HSET\0h\0f\0\x80")?;
    // Tokens: a valid one (mode 0) and claims to sign (mode 1).
    let secret = "fuzz-secret-fuzz-secret-fuzz-secret-0123";
    let good = shared::auth::mint_hs256(secret, "user-1", Duration::from_secs(3600))?;
    write(
        "jwt",
        "valid",
        &[b"\0".as_slice(), good.as_bytes()].concat(),
    )?;
    write("jwt", "garbage", b"\0eyJhbGciOiJub25lIn0.e30.")?;
    write(
        "jwt",
        "claims",
        &[
            b"\x01".as_slice(),
            br#"{"sub":"u","exp":99999999999,"nbf":0,"sid":"s-1"}"#,
        ]
        .concat(),
    )?;
    write(
        "jwt",
        "claims-odd",
        &[
            b"\x01".as_slice(),
            br#"{"sub":7,"exp":-1,"aud":["a"],"roles":{"x":1}}"#,
        ]
        .concat(),
    )?;
    Ok(())
}
