//! PDF work in worker processes. PDFium is not thread-safe and pdfium-render
//! serialises every call in a process, so one slow PDF would hold up every
//! other. Instead each document being read leases a worker process of its own
//! from a small pool: the same executable re-executed with `FOLIO_PDF_WORKER`
//! set, which runs `pdf.rs`'s functions on requests read from its stdin and
//! answers on its stdout. A worker that crashes, or takes longer than the
//! call's time limit, or whose caller went away, is killed; the next lease
//! starts a fresh one. Workers start lazily (cold start pays nothing).
//!
//! Only executables whose `main` calls [`serve_pdf_worker_if_asked`] can be
//! re-executed as workers; elsewhere (tests, tools) and with
//! `OCR_PDF_WORKERS=0`, PDF work stays in the process, as before.
//!
//! Wire format, both ways: a frame is `u32` header length, `u32` payload
//! length (little-endian), a JSON header (one [`Request`] or [`Response`]),
//! then the raw payload (the document's bytes; a rendered page's pixels).
//! A new PDF operation is one more `Request` variant, its `Response`, and a
//! line in `Worker::handle` and in [`Opened`].

use std::io::{BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use pdfium_render::prelude::PdfDocument;
use serde::{Deserialize, Serialize};

use super::engine::GrayImage;
use super::pdf::{self, PagePlan};
use super::{Limits, OcrError};

/// Set (to the PDFium library path, or empty) in a worker's environment.
pub const WORKER_ENV: &str = "FOLIO_PDF_WORKER";
/// Largest frame part accepted from either side (a 20 MiB document, a 50 Mpx page).
const MAX_FRAME: u32 = 256 * 1024 * 1024;
/// How often a waiting caller looks at its cancel flag.
const POLL: Duration = Duration::from_millis(50);

/// Set once `main` has offered worker mode: only then may this executable be
/// re-executed as a PDF worker.
static WORKER_CAPABLE: AtomicBool = AtomicBool::new(false);

/// Call first in `main` of every binary that does PDF work: in a worker
/// process this serves requests until stdin closes and exits; otherwise it
/// returns at once and lets the process use PDF workers.
pub fn serve_pdf_worker_if_asked() {
    if let Some(library) = std::env::var_os(WORKER_ENV) {
        let library = library.to_string_lossy().into_owned();
        let library = (!library.is_empty()).then_some(library);
        let code = match serve(library.as_deref()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("PDF worker stopped: {e}");
                1
            }
        };
        std::process::exit(code);
    }
    WORKER_CAPABLE.store(true, Ordering::Relaxed);
}

/// One request to a worker.
#[derive(Debug, Serialize, Deserialize)]
enum Request {
    /// Load the document in the payload (replacing any open one).
    Open,
    /// Count and plan the open document's pages.
    Plan {
        force_ocr: bool,
        dpi: u16,
        max_pages: u32,
        max_pixels: u64,
    },
    /// Render one page of the open document; the pixels are the payload.
    Render {
        index: usize,
        width: u32,
        height: u32,
    },
}

#[derive(Debug, Serialize, Deserialize)]
enum Response {
    Opened,
    Planned(Vec<PagePlan>),
    Rendered {
        width: u32,
        height: u32,
        stride: usize,
    },
    Failed(WireError),
}

/// An `OcrError` that crossed the pipe.
#[derive(Debug, Serialize, Deserialize)]
enum WireError {
    Encrypted,
    BrokenPdf(String),
    TooManyPages {
        found: Option<u32>,
        max: u32,
    },
    TooManyPixels {
        page: u32,
        width: u64,
        height: u64,
        max: u64,
        rendered: bool,
    },
    PdfUnavailable,
    Internal(String),
}

impl From<OcrError> for WireError {
    fn from(e: OcrError) -> Self {
        match e {
            OcrError::Encrypted => WireError::Encrypted,
            OcrError::BrokenPdf(why) => WireError::BrokenPdf(why),
            OcrError::TooManyPages { found, max } => WireError::TooManyPages { found, max },
            OcrError::TooManyPixels {
                page,
                width,
                height,
                max,
                rendered,
            } => WireError::TooManyPixels {
                page,
                width,
                height,
                max,
                rendered,
            },
            OcrError::PdfUnavailable => WireError::PdfUnavailable,
            other => WireError::Internal(format!("{other:#}")),
        }
    }
}

impl From<WireError> for OcrError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Encrypted => OcrError::Encrypted,
            WireError::BrokenPdf(why) => OcrError::BrokenPdf(why),
            WireError::TooManyPages { found, max } => OcrError::TooManyPages { found, max },
            WireError::TooManyPixels {
                page,
                width,
                height,
                max,
                rendered,
            } => OcrError::TooManyPixels {
                page,
                width,
                height,
                max,
                rendered,
            },
            WireError::PdfUnavailable => OcrError::PdfUnavailable,
            WireError::Internal(why) => OcrError::Internal(anyhow::anyhow!("PDF worker: {why}")),
        }
    }
}

fn write_frame(
    out: &mut impl Write,
    header: &impl Serialize,
    payload: &[u8],
) -> std::io::Result<()> {
    let header = serde_json::to_vec(header).map_err(std::io::Error::other)?;
    let len = |n: usize| {
        u32::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_FRAME)
            .ok_or_else(|| std::io::Error::other("frame too large"))
    };
    out.write_all(&len(header.len())?.to_le_bytes())?;
    out.write_all(&len(payload.len())?.to_le_bytes())?;
    out.write_all(&header)?;
    out.write_all(payload)?;
    out.flush()
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
fn read_frame<T: for<'de> Deserialize<'de>>(
    input: &mut impl Read,
) -> std::io::Result<Option<(T, Vec<u8>)>> {
    let mut lengths = [0_u8; 8];
    match input.read_exact(&mut lengths[..4]) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    input.read_exact(&mut lengths[4..])?;
    let [h0, h1, h2, h3, p0, p1, p2, p3] = lengths;
    let (header_len, payload_len) = (
        u32::from_le_bytes([h0, h1, h2, h3]),
        u32::from_le_bytes([p0, p1, p2, p3]),
    );
    if header_len > MAX_FRAME || payload_len > MAX_FRAME {
        return Err(std::io::Error::other("frame too large"));
    }
    let mut header = vec![0; header_len as usize];
    input.read_exact(&mut header)?;
    let mut payload = vec![0; payload_len as usize];
    input.read_exact(&mut payload)?;
    let header = serde_json::from_slice(&header).map_err(std::io::Error::other)?;
    Ok(Some((header, payload)))
}

/// The worker's loop: one document open at a time, requests in order.
fn serve(library: Option<&str>) -> std::io::Result<()> {
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    let mut document: Option<PdfDocument<'static>> = None;
    let never = AtomicBool::new(false);
    while let Some((request, payload)) = read_frame::<Request>(&mut input)? {
        let mut pixels = Vec::new();
        let response = match request {
            Request::Open => {
                document = None;
                pdf::library(library)
                    .map_err(|_| OcrError::PdfUnavailable)
                    .and_then(|pdfium| pdf::open_owned(pdfium, payload))
                    .map(|opened| {
                        document = Some(opened);
                        Response::Opened
                    })
                    .unwrap_or_else(|e| Response::Failed(e.into()))
            }
            Request::Plan {
                force_ocr,
                dpi,
                max_pages,
                max_pixels,
            } => match &document {
                None => Response::Failed(WireError::Internal("no document is open".into())),
                Some(document) => pdf::plan(
                    document,
                    force_ocr,
                    dpi,
                    Limits {
                        max_pages,
                        max_pixels,
                    },
                    &never,
                )
                .map(Response::Planned)
                .unwrap_or_else(|e| Response::Failed(e.into())),
            },
            Request::Render {
                index,
                width,
                height,
            } => match &document {
                None => Response::Failed(WireError::Internal("no document is open".into())),
                Some(document) => match pdf::render(document, index, width, height) {
                    Ok(image) => {
                        pixels = image.pixels;
                        Response::Rendered {
                            width: image.width,
                            height: image.height,
                            stride: image.stride,
                        }
                    }
                    Err(e) => Response::Failed(e.into()),
                },
            },
        };
        write_frame(&mut output, &response, &pixels)?;
    }
    Ok(())
}

/// The pool's settings and its idle workers.
pub(crate) struct Pool {
    size: usize,
    call_timeout: Duration,
    library: Option<String>,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Worker>,
    /// Workers leased or idle (alive or starting).
    live: usize,
}

/// Documents one worker reads before it is replaced (bounds what PDFium's
/// caches and any leak could grow to).
const DOCUMENTS_PER_WORKER: u32 = 64;

/// One frame from a worker as its reader thread saw it (`Ok(None)`: the end).
type Frame = std::io::Result<Option<(Response, Vec<u8>)>>;

struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    replies: mpsc::Receiver<Frame>,
    documents: u32,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Pool {
    pub(crate) fn new(size: usize, call_timeout: Duration, library: Option<String>) -> Pool {
        Pool {
            size,
            call_timeout,
            library,
            state: Mutex::new(PoolState::default()),
            freed: Condvar::new(),
        }
    }

    /// Whether PDF work goes to worker processes here.
    pub(crate) fn enabled(&self) -> bool {
        self.size > 0 && WORKER_CAPABLE.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A worker of this document's own, waiting (while `cancel` stays unset)
    /// for one to be free when all are leased.
    fn lease(&self, cancel: &AtomicBool) -> Result<Lease<'_>, OcrError> {
        let mut state = self.lock();
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(OcrError::Cancelled);
            }
            if let Some(worker) = state.idle.pop() {
                return Ok(Lease {
                    pool: self,
                    worker: Some(worker),
                });
            }
            if state.live < self.size {
                state.live += 1;
                drop(state);
                return match self.spawn() {
                    Ok(worker) => Ok(Lease {
                        pool: self,
                        worker: Some(worker),
                    }),
                    Err(e) => {
                        self.lock().live -= 1;
                        self.freed.notify_one();
                        Err(OcrError::Internal(anyhow::anyhow!(
                            "cannot start a PDF worker: {e}"
                        )))
                    }
                };
            }
            state = self
                .freed
                .wait_timeout(state, POLL)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn spawn(&self) -> std::io::Result<Worker> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .env(WORKER_ENV, self.library.as_deref().unwrap_or(""))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let (stdin, stdout) = match (child.stdin.take(), child.stdout.take()) {
            (Some(stdin), Some(stdout)) => (stdin, stdout),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::other("worker pipes missing"));
            }
        };
        let (sender, replies) = mpsc::channel();
        // The reader forwards frames so a caller can wait with a time limit.
        std::thread::Builder::new()
            .name("pdf-worker-reader".into())
            .spawn(move || {
                let mut stdout = BufReader::new(stdout);
                loop {
                    let frame = read_frame::<Response>(&mut stdout);
                    let end = !matches!(frame, Ok(Some(_)));
                    if sender.send(frame).is_err() || end {
                        return;
                    }
                }
            })?;
        tracing::debug!(pid = child.id(), "PDF worker started");
        Ok(Worker {
            child,
            stdin: BufWriter::new(stdin),
            replies,
            documents: 0,
        })
    }
}

/// A worker leased to one document; back to the pool when dropped, unless it
/// failed (then it is killed and its place freed).
pub(crate) struct Lease<'p> {
    pool: &'p Pool,
    worker: Option<Worker>,
}

impl Lease<'_> {
    fn call(
        &mut self,
        request: &Request,
        payload: &[u8],
        cancel: &AtomicBool,
    ) -> Result<(Response, Vec<u8>), OcrError> {
        let timeout = self.pool.call_timeout;
        let Some(worker) = self.worker.as_mut() else {
            return Err(anyhow::anyhow!("the PDF worker was lost").into());
        };
        if write_frame(&mut worker.stdin, request, payload).is_err() {
            self.worker = None;
            return Err(OcrError::BrokenPdf(
                "the PDF engine crashed on this document".into(),
            ));
        }
        let started = Instant::now();
        loop {
            match worker.replies.recv_timeout(POLL) {
                Ok(Ok(Some(reply))) => return Ok(reply),
                Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let pid = worker.child.id();
                    self.worker = None;
                    tracing::warn!(pid, "a PDF worker died on a document");
                    return Err(OcrError::BrokenPdf(
                        "the PDF engine crashed on this document".into(),
                    ));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if cancel.load(Ordering::Relaxed) {
                        self.worker = None;
                        return Err(OcrError::Cancelled);
                    }
                    if started.elapsed() >= timeout {
                        self.worker = None;
                        tracing::warn!(
                            seconds = timeout.as_secs_f64(),
                            "a PDF worker passed its time limit; killed"
                        );
                        return Err(OcrError::TooSlow(format!(
                            "the PDF took longer than {} s to read; simplify it or send its pages as images",
                            timeout.as_secs_f64()
                        )));
                    }
                }
            }
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.worker.take() {
            Some(worker) if worker.documents < DOCUMENTS_PER_WORKER => state.idle.push(worker),
            _ => state.live -= 1,
        }
        drop(state);
        self.pool.freed.notify_one();
    }
}

/// An open PDF: in this process, or in a leased worker.
pub(crate) enum Opened<'a> {
    Local(Box<PdfDocument<'a>>),
    Remote(Box<Lease<'a>>),
}

/// Opens `bytes` (in a worker when the pool is enabled).
pub(crate) fn open<'a>(
    pool: &'a Pool,
    bytes: &'a [u8],
    cancel: &AtomicBool,
) -> Result<Opened<'a>, OcrError> {
    if !pool.enabled() {
        let pdfium = pdf::library(pool.library.as_deref()).map_err(|_| OcrError::PdfUnavailable)?;
        return pdf::open(pdfium, bytes).map(|d| Opened::Local(Box::new(d)));
    }
    // A worker that died while idle fails its next call: a reused worker
    // that fails to open the document gets one fresh replacement.
    for attempt in 0..2 {
        let mut lease = pool.lease(cancel)?;
        let reused = lease.worker.as_ref().is_some_and(|w| w.documents > 0);
        if let Some(worker) = lease.worker.as_mut() {
            worker.documents += 1;
        }
        match lease.call(&Request::Open, bytes, cancel) {
            Ok((Response::Opened, _)) => return Ok(Opened::Remote(Box::new(lease))),
            Ok((Response::Failed(e), _)) => return Err(e.into()),
            Ok((other, _)) => return Err(unexpected(&other)),
            Err(OcrError::BrokenPdf(_)) if reused && attempt == 0 && lease.worker.is_none() => {
                tracing::info!("an idle PDF worker had died; opening in a fresh one");
            }
            Err(e) => return Err(e),
        }
    }
    Err(OcrError::BrokenPdf(
        "the PDF engine crashed on this document".into(),
    ))
}

fn unexpected(response: &Response) -> OcrError {
    OcrError::Internal(anyhow::anyhow!("unexpected PDF worker answer {response:?}"))
}

impl Opened<'_> {
    pub(crate) fn plan(
        &mut self,
        force_ocr: bool,
        dpi: u16,
        limits: Limits,
        cancel: &AtomicBool,
    ) -> Result<Vec<PagePlan>, OcrError> {
        match self {
            Opened::Local(document) => pdf::plan(document, force_ocr, dpi, limits, cancel),
            Opened::Remote(lease) => {
                let request = Request::Plan {
                    force_ocr,
                    dpi,
                    max_pages: limits.max_pages,
                    max_pixels: limits.max_pixels,
                };
                match lease.call(&request, &[], cancel)? {
                    (Response::Planned(plans), _) => Ok(plans),
                    (Response::Failed(e), _) => Err(e.into()),
                    (other, _) => Err(unexpected(&other)),
                }
            }
        }
    }

    pub(crate) fn render(
        &mut self,
        index: usize,
        width: u32,
        height: u32,
        cancel: &AtomicBool,
    ) -> Result<GrayImage, OcrError> {
        match self {
            Opened::Local(document) => pdf::render(document, index, width, height),
            Opened::Remote(lease) => {
                let request = Request::Render {
                    index,
                    width,
                    height,
                };
                match lease.call(&request, &[], cancel)? {
                    (
                        Response::Rendered {
                            width,
                            height,
                            stride,
                        },
                        pixels,
                    ) if pixels.len() >= stride * height as usize && stride >= width as usize => {
                        Ok(GrayImage {
                            width,
                            height,
                            stride,
                            pixels,
                        })
                    }
                    (Response::Failed(e), _) => Err(e.into()),
                    (other, _) => Err(unexpected(&other)),
                }
            }
        }
    }
}
