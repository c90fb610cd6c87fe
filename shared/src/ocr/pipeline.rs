//! One document's way through the engine, on one blocking thread: plan the
//! pages, take text layers as they are, and feed the pages that need OCR to
//! the worker pool a few at a time (so a 200-page scan never holds 200
//! rendered pages in memory), collecting the results in page order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::engine::{GrayImage, Ocr, Recognition, Reply, Task};
use super::pdf::PagePlan;
use super::pdfworker;
use super::{
    Accept, Document, Inspection, Kind, Lang, Limits, OcrError, Options, Outcome, Page, Progress,
    Quality, Recognised, Source, raster,
};

type ProgressRef<'a> = Option<&'a (dyn Fn(Progress) + Send + Sync)>;

pub(crate) fn inspect(
    ocr: &'static Ocr,
    document: &Document,
    options: &Options,
    limits: Limits,
    cancel: &AtomicBool,
) -> Result<Inspection, OcrError> {
    if document.kind == Kind::Pdf {
        let mut pdf = pdfworker::open(&ocr.pdf_pool, &document.bytes, cancel)?;
        let plans = pdf.plan(options.force_ocr, options.dpi, limits, cancel)?;
        return Ok(inspection_of(&plans));
    }
    let pages = raster::inspect(document.kind, &document.bytes, limits)?;
    Ok(Inspection {
        page_count: pages,
        ocr_pages: pages,
    })
}

/// Plans the document (every limit checked), asks `accept` whether to go on,
/// and recognises it: one pass, so a PDF is opened and its text layers read once.
#[allow(clippy::too_many_arguments)]
pub(crate) fn recognise(
    ocr: &'static Ocr,
    document: &Document,
    options: &Options,
    limits: Limits,
    progress: ProgressRef<'_>,
    cancel: &Arc<AtomicBool>,
    accept: Accept,
    range: Option<std::ops::Range<usize>>,
) -> Result<Outcome, OcrError> {
    let stop = |cancel: &AtomicBool| {
        if cancel.load(Ordering::Relaxed) {
            Err(OcrError::Cancelled)
        } else {
            Ok(())
        }
    };
    let pages = if document.kind == Kind::Pdf {
        let mut pdf = pdfworker::open(&ocr.pdf_pool, &document.bytes, cancel)?;
        let planning = std::time::Instant::now();
        let plans = pdf.plan(options.force_ocr, options.dpi, limits, cancel)?;
        let inspection = inspection_of(&plans);
        if !accept(&inspection) {
            return Ok(Outcome::Declined(inspection));
        }
        let range = page_range(range, plans.len())?;
        // Planning read every text layer: share its time among this range's.
        let text_pages = plans[range.clone()]
            .iter()
            .filter(|p| matches!(p, PagePlan::Text(_)))
            .count();
        if text_pages > 0 {
            let each = planning.elapsed().as_secs_f64() / text_pages as f64;
            for _ in 0..text_pages {
                crate::metrics::ocr_page("text_layer", each);
            }
        }
        let mut collector = Collector::new(ocr, &options.lang, range.clone(), progress, cancel);
        collector.rotate = options.rotate_pages;
        collector.words = options.words;
        for (index, plan) in plans.into_iter().enumerate() {
            if !range.contains(&index) {
                continue;
            }
            stop(cancel)?;
            match plan {
                PagePlan::Text(text) => collector.text_layer(index, text),
                PagePlan::Render { width, height } => {
                    let image = pdf.render(index, width, height, cancel)?;
                    collector.submit(index, image, Some(options.dpi))?;
                }
            }
        }
        collector.finish()?
    } else {
        let count = raster::inspect(document.kind, &document.bytes, limits)?;
        let inspection = Inspection {
            page_count: count,
            ocr_pages: count,
        };
        if !accept(&inspection) {
            return Ok(Outcome::Declined(inspection));
        }
        let range = page_range(range, count as usize)?;
        let mut collector = Collector::new(ocr, &options.lang, range.clone(), progress, cancel);
        collector.rotate = options.rotate_pages;
        collector.words = options.words;
        for index in range {
            stop(cancel)?;
            let image = raster::decode(document.kind, &document.bytes, index, limits)?;
            collector.submit(index, image, None)?;
        }
        collector.finish()?
    };
    Ok(Outcome::Recognised(Recognised {
        page_count: pages.len() as u32,
        lang: options.lang.to_string(),
        pages,
    }))
}

/// The 0-based pages to recognise: all of them, or `range` if it lies
/// within the document (a fan-out part's pages).
fn page_range(
    range: Option<std::ops::Range<usize>>,
    count: usize,
) -> Result<std::ops::Range<usize>, OcrError> {
    match range {
        None => Ok(0..count),
        Some(r) if r.start < r.end && r.end <= count => Ok(r),
        Some(r) => Err(anyhow::anyhow!(
            "pages {}-{} are not within the document's {count}",
            r.start + 1,
            r.end
        )
        .into()),
    }
}

fn inspection_of(plans: &[PagePlan]) -> Inspection {
    let ocr_pages = plans
        .iter()
        .filter(|p| matches!(p, PagePlan::Render { .. }))
        .count();
    Inspection {
        page_count: plans.len() as u32,
        ocr_pages: ocr_pages as u32,
    }
}

/// Gathers one document's pages, keeping at most `workers + 1` in flight.
struct Collector<'a> {
    ocr: &'static Ocr,
    lang: Lang,
    /// The 0-based index of `pages[0]` (a fan-out part starts past 0).
    first: usize,
    pages: Vec<Option<Page>>,
    rotate: bool,
    words: bool,
    in_flight: usize,
    max_in_flight: usize,
    reply: Reply,
    results: mpsc::Receiver<(usize, Result<Recognition, OcrError>)>,
    progress: ProgressRef<'a>,
    done: u32,
    cancel: Arc<AtomicBool>,
}

impl<'a> Collector<'a> {
    fn new(
        ocr: &'static Ocr,
        lang: &Lang,
        range: std::ops::Range<usize>,
        progress: ProgressRef<'a>,
        cancel: &Arc<AtomicBool>,
    ) -> Self {
        let (reply, results) = mpsc::channel();
        Collector {
            ocr,
            lang: lang.clone(),
            first: range.start,
            pages: vec![None; range.len()],
            rotate: true,
            words: false,
            in_flight: 0,
            max_in_flight: ocr.workers() + 1,
            reply,
            results,
            progress,
            done: 0,
            cancel: cancel.clone(),
        }
    }

    fn text_layer(&mut self, index: usize, text: String) {
        self.finished(
            index,
            Page {
                page: index as u32 + 1,
                source: Source::TextLayer,
                text,
                confidence: None,
                width_px: None,
                height_px: None,
                rotation: None,
                skew_degrees: None,
                quality: None,
                words: None,
            },
        );
    }

    fn submit(&mut self, index: usize, image: GrayImage, dpi: Option<u16>) -> Result<(), OcrError> {
        while self.in_flight >= self.max_in_flight {
            self.wait_one()?;
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(OcrError::Cancelled);
        }
        self.ocr.submit(Task {
            index,
            image,
            dpi,
            lang: self.lang.clone(),
            rotate: self.rotate,
            words: self.words,
            cancel: self.cancel.clone(),
            reply: self.reply.clone(),
        })?;
        self.in_flight += 1;
        Ok(())
    }

    fn wait_one(&mut self) -> Result<(), OcrError> {
        let (index, outcome) = self
            .results
            .recv()
            .map_err(|_| anyhow::anyhow!("an OCR worker went away"))?;
        self.in_flight -= 1;
        let recognition = outcome?;
        let text = clean_text(&recognition.text);
        let quality = Quality::of(&text, recognition.confidence);
        self.finished(
            index,
            Page {
                page: index as u32 + 1,
                source: Source::Ocr,
                text,
                confidence: Some((recognition.confidence * 100.0).round() / 100.0),
                width_px: Some(recognition.width),
                height_px: Some(recognition.height),
                rotation: Some(recognition.rotation),
                skew_degrees: Some(recognition.skew_degrees),
                quality: Some(quality),
                words: recognition.words,
            },
        );
        Ok(())
    }

    fn finished(&mut self, index: usize, page: Page) {
        self.pages[index - self.first] = Some(page);
        self.done += 1;
        if let Some(progress) = self.progress {
            progress(Progress {
                pages_done: self.done,
                pages_total: self.pages.len() as u32,
            });
        }
    }

    fn finish(mut self) -> Result<Vec<Page>, OcrError> {
        while self.in_flight > 0 {
            self.wait_one()?;
        }
        let first = self.first;
        std::mem::take(&mut self.pages)
            .into_iter()
            .enumerate()
            .map(|(i, page)| {
                page.ok_or_else(|| {
                    anyhow::anyhow!("page {} was never recognised", first + i + 1).into()
                })
            })
            .collect()
    }
}

impl Drop for Collector<'_> {
    /// Leaving early (an error, a cancelled request) skips the queued pages.
    fn drop(&mut self) {
        if self.in_flight > 0 {
            self.cancel.store(true, Ordering::Relaxed);
        }
    }
}

/// One text convention for both sources: `\n` line ends, no control
/// characters, no trailing spaces, at most one blank line in a row, trimmed.
pub(crate) fn clean_text(raw: &str) -> String {
    let unified = raw.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(unified.len());
    let mut blank_run = 0;
    for line in unified.split('\n') {
        let line: String = line
            .chars()
            .filter(|c| *c == '\t' || !c.is_control())
            .collect();
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}
