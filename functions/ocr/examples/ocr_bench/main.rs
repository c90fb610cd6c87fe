//! Helper of `scripts/bench-ocr.sh` (not part of the service): makes the
//! benchmark's documents with their known text, mints the bearer token,
//! scores answers by character error rate, and summarises the measurements.
//!
//! ```text
//! ocr_bench make DIR RUNS            scanned-K.pdf (20 pages) and text-K.pdf (200 pages), K < RUNS, with KNOWN .json texts
//! ocr_bench token SECRET SUBJECT     an HS256 token for one hour
//! ocr_bench cer-answer KNOWN ANSWER  CER (%) of an API answer (JSON) against the known page texts
//! ocr_bench cer-files KNOWN FILE...  CER (%) of one text file per page, in page order
//! ocr_bench summary RESULTS          medians and ratios of `metric value` lines, as Markdown
//! ```

mod summary;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use folio_testing::samples::{self, PageKind};
use shared::ocr::cer::{Tally, tally};

const SCANNED_PAGES: usize = 20;
const TEXT_PAGES: usize = 200;
const SCAN_DPI: u16 = 300;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["make", dir, runs] => make(Path::new(dir), runs.parse().unwrap_or(1)),
        ["token", secret, sub] => token(secret, sub),
        ["cer-answer", known, answer] => cer_answer(known, answer),
        ["cer-files", known, files @ ..] => cer_files(known, files),
        ["summary", results] => summary::print(results),
        _ => Err(anyhow::anyhow!(
            "usage: ocr_bench make DIR RUNS | token SECRET SUB | cer-answer KNOWN ANSWER | cer-files KNOWN FILE... | summary RESULTS"
        )),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ocr_bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn make(dir: &Path, runs: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for run in 0..runs {
        // Different texts per run, so no run is answered from another's cache.
        let scanned: Vec<String> = (0..SCANNED_PAGES)
            .map(|p| samples::page_text(1000 * (run + 1) + p))
            .collect();
        let pages: Vec<_> = scanned
            .iter()
            .map(|t| (t.clone(), PageKind::Scanned { dpi: SCAN_DPI }))
            .collect();
        write(
            dir,
            &format!("scanned-{run}"),
            &samples::pdf(&pages)?,
            &scanned,
        )?;
        let text: Vec<String> = (0..TEXT_PAGES)
            .map(|p| samples::page_text(100_000 * (run + 1) + p))
            .collect();
        let pages: Vec<_> = text.iter().map(|t| (t.clone(), PageKind::Text)).collect();
        write(dir, &format!("text-{run}"), &samples::pdf(&pages)?, &text)?;
    }
    Ok(())
}

fn write(dir: &Path, name: &str, pdf: &[u8], texts: &[String]) -> anyhow::Result<()> {
    std::fs::write(dir.join(format!("{name}.pdf")), pdf)?;
    std::fs::write(dir.join(format!("{name}.json")), serde_json::to_vec(texts)?)?;
    eprintln!(
        "ocr_bench: {name}.pdf, {} pages, {} KiB",
        texts.len(),
        pdf.len() / 1024
    );
    Ok(())
}

fn token(secret: &str, sub: &str) -> anyhow::Result<()> {
    println!(
        "{}",
        shared::auth::mint_hs256(secret, sub, Duration::from_secs(3600))?
    );
    Ok(())
}

fn known(path: &str) -> anyhow::Result<Vec<String>> {
    let bytes = std::fs::read(path).with_context(|| format!("read {path}"))?;
    Ok(serde_json::from_slice(&bytes)?)
}

fn score(known: &[String], found: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(
        known.len() == found.len(),
        "{} known pages, {} recognised",
        known.len(),
        found.len()
    );
    let total: Tally = known.iter().zip(found).map(|(k, f)| tally(k, f)).sum();
    println!("{:.3}", total.rate() * 100.0);
    Ok(())
}

fn cer_answer(known_path: &str, answer_path: &str) -> anyhow::Result<()> {
    let answer: serde_json::Value = serde_json::from_slice(&std::fs::read(answer_path)?)?;
    let found: Vec<String> = answer["pages"]
        .as_array()
        .context("the answer has no pages")?
        .iter()
        .map(|p| p["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    score(&known(known_path)?, &found)
}

fn cer_files(known_path: &str, files: &[&str]) -> anyhow::Result<()> {
    let found = files
        .iter()
        .map(|f| std::fs::read_to_string(f).with_context(|| format!("read {f}")))
        .collect::<anyhow::Result<Vec<String>>>()?;
    score(&known(known_path)?, &found)
}
