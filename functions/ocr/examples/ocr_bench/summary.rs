//! The benchmark's report: medians of the measured runs, the ratios the goals
//! are stated in, and whether each goal is met. Input: `metric value` lines.

use std::collections::BTreeMap;

pub fn print(path: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut values: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if let (Some(metric), Some(value)) = (words.next(), words.next()) {
            values.entry(metric).or_default().push(value.parse()?);
        }
    }
    let median = |metric: &str| -> f64 {
        let mut v = values.get(metric).cloned().unwrap_or_default();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    };
    let runs = values.get("ours_scanned_s").map_or(0, Vec::len);
    let pages = median("scanned_pages");
    let (ours, seeds, tuned) = (
        median("ours_scanned_s"),
        median("ref_seq_s"),
        median("ref_par_s"),
    );
    println!("Medians of {runs} runs; each run uses documents of its own (no cache hits).\n");
    println!(
        "| {pages}-page scanned PDF, 300 dpi | folio (HTTP API) | reference as the seeds run it | reference tuned |"
    );
    println!("|---|---|---|---|");
    println!("| wall time | {ours:.2} s | {seeds:.2} s | {tuned:.2} s |");
    println!(
        "| folio's wall time ÷ this | 1 | {:.2} | {:.2} |",
        ours / seeds,
        ours / tuned
    );
    println!(
        "| character error rate | {:.2} % | {:.2} % | {:.2} % |",
        median("ours_cer"),
        median("ref_seq_cer"),
        median("ref_par_cer")
    );
    println!(
        "| CPU-seconds per page | {:.2} | {:.2} | {:.2} |",
        median("ours_scanned_cpu_s") / pages,
        median("ref_seq_cpu_s") / pages,
        median("ref_par_cpu_s") / pages
    );
    println!(
        "| peak RSS | {:.0} MB (whole server) | {:.0} MB (largest process) | {:.0} MB (largest process) |",
        median("ours_rss_kb") / 1024.0,
        median("ref_seq_rss_kb") / 1024.0,
        median("ref_par_rss_kb") / 1024.0
    );
    let repeat = median("ours_repeat_s");
    let text_pages = median("text_pages");
    let text_rate = text_pages / median("text_s");
    println!();
    println!("| other measure | value |");
    println!("|---|---|");
    println!(
        "| same scanned PDF again (cache hit) | {:.1} ms, {:.0}× faster than the first time |",
        repeat * 1000.0,
        ours / repeat
    );
    println!(
        "| {text_pages}-page text-layer PDF | {:.0} ms, {text_rate:.0} pages/s |",
        median("text_s") * 1000.0
    );
    println!();
    let cer_margin = median("ours_cer") - median("ref_seq_cer").min(median("ref_par_cer"));
    let goals = [
        ("scanned: ≤ 0.3 × the seeds' reference", ours / seeds <= 0.3),
        ("scanned: ≤ 0.9 × the tuned reference", ours / tuned <= 0.9),
        ("CER ≤ the reference's + 0.5 points", cer_margin <= 0.5),
        ("text layer ≥ 300 pages/s", text_rate >= 300.0),
        (
            "repeat ≥ 50× faster than the first time",
            ours / repeat >= 50.0,
        ),
    ];
    for (goal, met) in goals {
        println!("- {} {goal}", if met { "met:" } else { "MISSED:" });
    }
    Ok(())
}
