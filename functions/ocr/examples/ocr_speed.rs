//! Helper of `scripts/bench-ocr-speed.sh` (not part of the service): makes
//! full pages of print with their known text, reads one document with folio's
//! engine in-process (warm engines, default options) reporting the process's
//! own CPU time from `/proc`, and scores recognised text by character error rate.
//!
//! ```text
//! ocr_speed make DIR PAGES         dense-{200,300,400}.pdf and specks-300.pdf (PAGES pages each), small-300.pdf (2 pages); .json known texts
//! ocr_speed read FILE.pdf          `pages cpu_s wall_s rss_kb edits chars` of folio on one document (one line)
//! ocr_speed cer KNOWN.json FILE... `edits chars` of one text file per page, in page order
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use folio_testing::samples::print::{self, Type};
use shared::config::{Config, Function};
use shared::ocr::cer::{Tally, tally};
use shared::ocr::{Document, Limits, Ocr, Options};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["make", dir, pages] => make(Path::new(dir), pages.parse().unwrap_or(20)),
        ["read", file] => read(Path::new(file)).await,
        ["cer", known, files @ ..] => cer(known, files),
        _ => Err(anyhow::anyhow!(
            "usage: ocr_speed make DIR PAGES | read FILE.pdf | cer KNOWN.json FILE..."
        )),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ocr_speed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn make(dir: &Path, pages: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let documents: [(&str, Type, u16, usize, usize); 5] = [
        ("dense-300", Type::DENSE, 300, pages, 0),
        ("dense-200", Type::DENSE, 200, pages, 0),
        ("dense-400", Type::DENSE, 400, pages, 0),
        ("small-300", Type::SMALL, 300, 2, 0),
        ("specks-300", Type::DENSE, 300, pages, 120),
    ];
    for (n, (name, kind, dpi, count, specks)) in documents.into_iter().enumerate() {
        let mut texts = Vec::new();
        let mut scans = Vec::new();
        for page in 0..count {
            let lines = print::page_lines(kind, 100 * n + page);
            let clean = print::render(&lines, kind, dpi)?;
            scans.push(print::scan(&clean, dpi, specks, (100 * n + page) as u64));
            texts.push(lines.join("\n"));
        }
        let pdf = print::scanned_pdf(&scans)?;
        std::fs::write(dir.join(format!("{name}.pdf")), &pdf)?;
        std::fs::write(
            dir.join(format!("{name}.json")),
            serde_json::to_vec(&texts)?,
        )?;
        eprintln!(
            "ocr_speed: {name}.pdf, {count} pages, {} KiB",
            pdf.len() / 1024
        );
    }
    Ok(())
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which may hold spaces) start at `) `.
    let rest = stat.rsplit_once(") ").context("stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = (fields.get(11).context("utime")?.parse::<u64>()?
        + fields.get(12).context("stime")?.parse::<u64>()?) as f64;
    // CLK_TCK is 100 on every Linux this runs on.
    Ok(ticks / 100.0)
}

fn peak_rss_kb() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?)
}

async fn read(file: &Path) -> anyhow::Result<()> {
    let vars = std::env::vars().chain([(
        "DATABASE_URL".to_owned(),
        "postgres://unused@127.0.0.1/unused".to_owned(),
    )]);
    let config = Config::from_vars(Function::Health, vars)?.ocr;
    let ocr = Ocr::global(&config);
    let mut limits = Limits::from(&config);
    limits.max_pages = limits.max_pages.max(1000);
    let options = Options {
        lang: ocr.lang("eng")?,
        force_ocr: false,
        dpi: config.default_dpi,
        rotate_pages: true,
        words: false,
    };
    // Warm engines: a one-page scan per worker, not counted.
    let warm = print::scanned_pdf(&[print::render(
        &["Warming up the engines before the clock starts.".to_owned()],
        Type::DENSE,
        100,
    )?])?;
    let warm = Document::from_bytes(warm.into())?;
    let mut warming = Vec::new();
    for _ in 0..ocr.workers() {
        let (warm, options) = (warm.clone(), options.clone());
        warming.push(tokio::spawn(async move {
            shared::ocr::recognise(ocr, &warm, &options, limits, None).await
        }));
    }
    for w in warming {
        w.await??;
    }
    let document = Document::from_bytes(std::fs::read(file)?.into())?;
    let (cpu, started) = (cpu_seconds()?, Instant::now());
    let result = shared::ocr::recognise(ocr, &document, &options, limits, None).await?;
    let (cpu, wall) = (cpu_seconds()? - cpu, started.elapsed().as_secs_f64());
    let known = known(&file.with_extension("json"))?;
    let found: Vec<String> = result.pages.iter().map(|p| p.text.clone()).collect();
    let t = score(&known, &found)?;
    println!(
        "{} {cpu:.2} {wall:.2} {} {} {}",
        result.pages.len(),
        peak_rss_kb()?,
        t.edits,
        t.reference_chars
    );
    Ok(())
}

fn known(path: &Path) -> anyhow::Result<Vec<String>> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

fn score(known: &[String], found: &[String]) -> anyhow::Result<Tally> {
    anyhow::ensure!(
        known.len() == found.len(),
        "{} known pages, {} recognised",
        known.len(),
        found.len()
    );
    Ok(known.iter().zip(found).map(|(k, f)| tally(k, f)).sum())
}

fn cer(known_path: &str, files: &[&str]) -> anyhow::Result<()> {
    let found: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect();
    let t = score(&known(Path::new(known_path))?, &found)?;
    println!("{} {}", t.edits, t.reference_chars);
    Ok(())
}
