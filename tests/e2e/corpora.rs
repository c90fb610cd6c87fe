//! Third-party corpora: every PDF and image from the test resources of
//! OCRmyPDF, pikepdf and pypdf (fetched by `scripts/fetch-corpora.sh`, cached)
//! posted to the real `ocr` binary. Each answer must be a 200, a 202 or a 4xx
//! problem, within the request deadline; the process must keep serving (a
//! `/health` probe after every file) and stay under a memory bound. Where a
//! corpus's own tests name a file's text, the answer must contain it.
//!
//! With `FOLIO_ROBUSTNESS_OUT=file.tsv` the outcomes are written there
//! (`scripts/robustness-table.sh` turns them into docs/corpora.md).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_e2e::{Running, free_port};
use folio_testing::TEST_JWT_SECRET;

use crate::World;

/// The deadline the binary is started with; an answer later than this plus a
/// margin is a hang. Generous: scanned corpus pages at the default 300 dpi on
/// a loaded 2-core machine take tens of seconds (a page past
/// `OCR_PAGE_TIMEOUT`, 60 s, is a 422, which is fine).
const REQUEST_TIMEOUT_SECS: u64 = 120;
/// Files in flight at once: one per OCR worker, so no file waits in the
/// engine's queue behind another's pages.
const CONCURRENT: usize = 2;
/// The most resident memory the `ocr` process (and its PDF workers) may reach.
const RSS_BOUND_MB: u64 = 1536;

struct Outcome {
    file: String,
    bytes: u64,
    status: u16,
    kind: String,
    ms: u128,
    text_check: &'static str,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The corpora folder, fetched (or found in the cache) by the script.
fn corpora() -> Option<PathBuf> {
    let out = Command::new("bash")
        .arg(workspace().join("scripts/fetch-corpora.sh"))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    dir.is_dir().then_some(dir)
}

fn files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            files(&path, into);
        } else {
            into.push(path);
        }
    }
}

/// Texts the corpora's own tests expect from a file: inside one Python test
/// function that names exactly one of the corpus's files and extracts text
/// (and writes nothing), every `assert "phrase" in …` on plain words.
fn expected_texts(corpus: &Path, names: &[String]) -> Vec<(String, String)> {
    let mut sources = Vec::new();
    files(&corpus.join(".tests"), &mut sources);
    let mut found = Vec::new();
    for source in sources
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
    {
        let Ok(code) = std::fs::read_to_string(source) else {
            continue;
        };
        for function in code.split("\ndef ").skip(1) {
            if !function.contains("extract_text") || function.contains("Writer") {
                continue;
            }
            let named: Vec<&String> = names
                .iter()
                .filter(|n| function.contains(&format!("\"{n}\"")))
                .collect();
            let [name] = named.as_slice() else { continue };
            for line in function.lines().map(str::trim) {
                let Some(rest) = line.strip_prefix("assert \"") else {
                    continue;
                };
                let Some((phrase, tail)) = rest.split_once('"') else {
                    continue;
                };
                let plain = phrase.len() >= 4
                    && phrase
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == ' ');
                if plain && tail.trim_start().starts_with("in ") {
                    found.push(((*name).clone(), phrase.to_owned()));
                }
            }
        }
    }
    found
}

fn squash(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Resident memory of `pid` and its children (PDF workers), in MB.
fn rss_mb(pid: u32) -> u64 {
    let mut total = 0;
    let mut pids = vec![pid];
    if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        pids.extend(
            children
                .split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    for pid in pids {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        total += status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_corpus_file_is_answered_without_5xx_crash_or_hang() {
    let Some(root) = corpora() else {
        let required = std::env::var_os("FOLIO_REQUIRE_TOOLS").is_some_and(|v| v == "1");
        assert!(
            !required,
            "the corpora could not be fetched (scripts/fetch-corpora.sh)"
        );
        eprintln!("\n!!! SKIPPED the corpus run: scripts/fetch-corpora.sh failed (no PyPI?)\n");
        return;
    };
    let mut all = Vec::new();
    files(&root, &mut all);
    all.retain(|p| p.file_name().is_some_and(|n| n != ".complete"));
    all.sort();
    assert!(
        all.len() > 150,
        "only {} corpus files under {}",
        all.len(),
        root.display()
    );

    let mut expected = Vec::new();
    for corpus in std::fs::read_dir(&root).expect("corpora").flatten() {
        let names: Vec<String> = {
            let mut own = Vec::new();
            files(&corpus.path(), &mut own);
            own.iter()
                .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
                .collect()
        };
        for (name, phrase) in expected_texts(&corpus.path(), &names) {
            let path = all
                .iter()
                .find(|p| p.starts_with(corpus.path()) && p.ends_with(&name))
                .cloned();
            if let Some(path) = path {
                expected.push((path, phrase));
            }
        }
    }
    let expected = Arc::new(expected);

    let world = World::new().await;
    let timeout = REQUEST_TIMEOUT_SECS.to_string();
    let vars = world.vars(&[
        ("REQUEST_TIMEOUT_SECS", &timeout),
        ("RATE_LIMIT_OCR_PER_MIN", "100000"),
        ("OCR_WORKERS", "2"),
        ("RUST_LOG", "warn"),
    ]);
    let mut ocr = Running::start("ocr", free_port(), &vars, &[]);
    ocr.wait_ready().await;
    let pid = ocr.child.id();
    let base = Arc::new(ocr.url(""));
    let client = reqwest::Client::new();
    let token = Arc::new(
        shared::auth::mint_hs256(TEST_JWT_SECRET, "corpus-reader", Duration::from_secs(7200))
            .expect("token"),
    );

    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENT));
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for path in all.clone() {
        let (client, base, token, gate, peak, expected, root) = (
            client.clone(),
            base.clone(),
            token.clone(),
            gate.clone(),
            peak.clone(),
            expected.clone(),
            root.clone(),
        );
        tasks.spawn(async move {
            let _turn = gate.acquire_owned().await.expect("gate");
            let body = std::fs::read(&path).expect("corpus file");
            let file = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let sent = Instant::now();
            let answer = client
                .post(format!("{base}/v1/ocr"))
                .bearer_auth(&*token)
                .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECS + 10))
                .body(body.clone())
                .send()
                .await;
            let ms = sent.elapsed().as_millis();
            let (status, json) = match answer {
                Ok(r) => {
                    let status = r.status().as_u16();
                    (
                        status,
                        r.json::<serde_json::Value>().await.unwrap_or_default(),
                    )
                }
                Err(e) => (0, serde_json::json!({ "type": format!("no answer: {e}") })),
            };
            let kind = match status {
                200 => "ok".to_owned(),
                202 => "job".to_owned(),
                _ => json["type"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
            };
            let mut text_check = "";
            let phrases: Vec<&String> = expected
                .iter()
                .filter(|(p, _)| *p == path)
                .map(|(_, phrase)| phrase)
                .collect();
            if !phrases.is_empty() && status == 200 {
                let text = squash(json["text"].as_str().unwrap_or(""));
                text_check = if phrases.iter().all(|p| text.contains(&squash(p))) {
                    "found"
                } else {
                    "MISSING"
                };
            }
            let health = client
                .get(format!("{base}/health"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            assert_eq!(health, 200, "the process stopped serving after {file}");
            peak.fetch_max(rss_mb(pid), std::sync::atomic::Ordering::Relaxed);
            Outcome {
                file,
                bytes: body.len() as u64,
                status,
                kind,
                ms,
                text_check,
            }
        });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => panic!("{e}; log:\n{}", ocr.output()),
        }
    }
    outcomes.sort_by(|a, b| a.file.cmp(&b.file));
    let wall = started.elapsed();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);

    if let Some(out) = std::env::var_os("FOLIO_ROBUSTNESS_OUT") {
        let mut tsv = format!(
            "# files={} wall_s={:.1} peak_rss_mb={peak} concurrent={CONCURRENT} timeout_s={REQUEST_TIMEOUT_SECS}\n",
            outcomes.len(),
            wall.as_secs_f64()
        );
        for o in &outcomes {
            tsv.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                o.file, o.bytes, o.status, o.kind, o.ms, o.text_check
            ));
        }
        std::fs::write(out, tsv).expect("robustness output");
    }

    let bad: Vec<String> = outcomes
        .iter()
        .filter(|o| !(o.status == 200 || o.status == 202 || (400..500).contains(&o.status)))
        .map(|o| format!("{} → {} {} ({} ms)", o.file, o.status, o.kind, o.ms))
        .collect();
    assert!(
        bad.is_empty(),
        "answers that are not 200/202/4xx:\n{}\nlog:\n{}",
        bad.join("\n"),
        ocr.output()
    );
    let slow: Vec<String> = outcomes
        .iter()
        .filter(|o| o.ms > u128::from(REQUEST_TIMEOUT_SECS + 2) * 1000)
        .map(|o| format!("{} took {} ms", o.file, o.ms))
        .collect();
    assert!(
        slow.is_empty(),
        "answers past the deadline:\n{}",
        slow.join("\n")
    );
    let missing: Vec<String> = outcomes
        .iter()
        .filter(|o| o.text_check == "MISSING")
        .map(|o| o.file.clone())
        .collect();
    assert!(
        missing.is_empty(),
        "texts the corpora name are missing from: {missing:?}"
    );
    assert!(
        outcomes.iter().any(|o| o.text_check == "found"),
        "no corpus file had an expected text checked ({} expectations)",
        expected.len()
    );
    assert!(
        peak < RSS_BOUND_MB,
        "peak RSS {peak} MB ≥ {RSS_BOUND_MB} MB"
    );
    assert!(
        ocr.child.try_wait().expect("wait").is_none(),
        "the ocr process exited"
    );
    eprintln!(
        "corpora: {} files in {:.1} s, peak RSS {peak} MB",
        outcomes.len(),
        wall.as_secs_f64()
    );
}
