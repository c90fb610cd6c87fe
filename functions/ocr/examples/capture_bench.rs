//! Helper of `scripts/bench-captures.sh` (not part of the service): makes the
//! real-capture set with its known texts, reads it with folio's engine
//! in-process (default options, the capture's language), and scores any
//! recognised text by character error rate.
//!
//! ```text
//! capture_bench make DIR SET      set number SET of every capture kind: NAME.{pdf,jpg,png}, NAME.txt (known), NAME.meta (lang dpi kind)
//! capture_bench read DIR          folio on every capture: `name<TAB>edits<TAB>chars<TAB>ms` lines, then `wall_ms<TAB>N`
//! capture_bench cer KNOWN FOUND   `edits<TAB>chars` of one recognised text file
//! capture_bench cost              median ms of a full 300 dpi page's preparation (look, then all of it), per kind of page
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use folio_testing::samples::captures::{self, Capture};
use shared::config::{Config, Function};
use shared::ocr::cer::tally;
use shared::ocr::{Document, Limits, Ocr, Options};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["make", dir, set] => make(Path::new(dir), set.parse().unwrap_or(0)),
        ["read", dir] => read(Path::new(dir)).await,
        ["cer", known, found] => cer(known, found),
        ["cost"] => cost(),
        _ => Err(anyhow::anyhow!(
            "usage: capture_bench make DIR SET | read DIR | cer KNOWN FOUND"
        )),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("capture_bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The resolution each capture was made at (OCRmyPDF needs it for images).
fn dpi(kind: Capture) -> u16 {
    match kind {
        Capture::ExifSideways | Capture::ExifUpsideDown | Capture::Shadowed => 200,
        Capture::Fax => 150,
        _ => 300,
    }
}

fn make(dir: &Path, set: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    {
        for (k, kind) in Capture::ALL.into_iter().enumerate() {
            let text = captures::text_for(kind, set * 11 + k);
            let sample = captures::capture(kind, &text, (set * 100 + k) as u64)?;
            let ext = if kind.is_pdf() {
                "pdf"
            } else if kind == Capture::Fax {
                "png"
            } else {
                "jpg"
            };
            let name = format!("s{set}-{}", kind.slug());
            std::fs::write(dir.join(format!("{name}.{ext}")), &sample.bytes)?;
            std::fs::write(dir.join(format!("{name}.txt")), &sample.text)?;
            std::fs::write(
                dir.join(format!("{name}.meta")),
                format!("{} {} {}\n", kind.lang(), dpi(kind), kind.name()),
            )?;
        }
    }
    Ok(())
}

fn inputs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "pdf" || e == "jpg" || e == "png")
        })
        .collect();
    files.sort();
    Ok(files)
}

async fn read(dir: &Path) -> anyhow::Result<()> {
    let vars = std::env::vars().chain([(
        "DATABASE_URL".to_owned(),
        "postgres://unused@127.0.0.1/unused".to_owned(),
    )]);
    let config = Config::from_vars(Function::Health, vars)?.ocr;
    let ocr = Ocr::global(&config);
    let limits = Limits::from(&config);
    let files = inputs(dir)?;
    // The first page starts the engines; not part of any capture's time.
    if let Some(first) = files.first() {
        let document = Document::from_bytes(std::fs::read(first)?.into())?;
        let options = options(ocr, "eng", &config)?;
        shared::ocr::recognise(ocr, &document, &options, limits, None).await?;
    }
    let started = Instant::now();
    let mut work = Vec::new();
    for file in &files {
        let stem = file.with_extension("");
        let meta = std::fs::read_to_string(stem.with_extension("meta"))?;
        let lang = meta.split_whitespace().next().unwrap_or("eng").to_owned();
        let document = Document::from_bytes(std::fs::read(file)?.into())?;
        let options = options(ocr, &lang, &config)?;
        work.push(tokio::spawn(async move {
            let began = Instant::now();
            let result = shared::ocr::recognise(ocr, &document, &options, limits, None).await;
            (result, began.elapsed())
        }));
    }
    for (file, job) in files.iter().zip(work) {
        let (result, took) = job.await?;
        let result = result.with_context(|| format!("{}", file.display()))?;
        let known = std::fs::read_to_string(file.with_extension("txt"))?;
        let t = tally(&known, &result.text());
        let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
        println!(
            "{name}\t{}\t{}\t{}",
            t.edits,
            t.reference_chars,
            took.as_millis()
        );
    }
    println!(
        "wall_ms\t{}\t{}",
        started.elapsed().as_millis(),
        files.len()
    );
    Ok(())
}

fn options(ocr: &Ocr, lang: &str, config: &shared::config::OcrConfig) -> anyhow::Result<Options> {
    Ok(Options {
        lang: ocr.lang(lang)?,
        force_ocr: false,
        dpi: config.default_dpi,
        rotate_pages: true,
        words: false,
    })
}

fn cost() -> anyhow::Result<()> {
    use folio_testing::samples;
    let text = samples::page_text(0);
    let clean = samples::render_text(&text, 300, 792.0)?;
    let pages = [
        ("clean upright scan", clean.clone()),
        ("upside down", image::imageops::rotate180(&clean)),
        ("sideways", image::imageops::rotate90(&clean)),
        ("shadowed photo", captures::under_a_lamp(&clean, 1)),
    ];
    for (name, page) in pages {
        let mut looks = Vec::new();
        let mut totals = Vec::new();
        for _ in 0..5 {
            let (look, total) = shared::ocr::preparation_ms(&page, true);
            looks.push(look);
            totals.push(total);
        }
        looks.sort_by(f64::total_cmp);
        totals.sort_by(f64::total_cmp);
        println!("{name}\t{:.0}\t{:.0}", looks[2], totals[2]);
    }
    Ok(())
}

fn cer(known: &str, found: &str) -> anyhow::Result<()> {
    let known = std::fs::read_to_string(known).context("known text")?;
    let found = std::fs::read_to_string(found).unwrap_or_default();
    let t = tally(&known, &found);
    println!("{}\t{}", t.edits, t.reference_chars);
    Ok(())
}
