//! The process-wide OCR engine: installed languages, the PDF library, and a
//! pool of worker threads, each owning its Tesseract engines (one per language
//! set, started on first use, single-threaded). Pages from every document go
//! through one queue, so a process never runs more recognitions at once than
//! it has workers, whatever the number of requests.

use std::os::raw::c_int;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use leptess::tesseract::TessApi;

use super::{Lang, OcrError, langs, orient};
use crate::config::OcrConfig;

/// Engines (language sets) a worker keeps started; the least recently used goes.
const ENGINES_PER_WORKER: usize = 3;
/// Documents in work at once per worker; more wait their turn.
const DOCUMENTS_PER_WORKER: usize = 2;

/// 8-bit gray pixels, rows `stride` bytes apart.
#[derive(Clone)]
pub(crate) struct GrayImage {
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub pixels: Vec<u8>,
}

/// What Tesseract made of one page.
pub(crate) struct Recognition {
    pub text: String,
    /// Mean word confidence, 0–1.
    pub confidence: f32,
    /// The page as recognised (after any turn).
    pub width: u32,
    pub height: u32,
    /// Clockwise degrees the page was turned (0/90/180/270).
    pub rotation: u16,
    pub skew_degrees: f32,
    pub words: Option<Vec<super::words::Word>>,
}

pub(crate) type Reply = mpsc::Sender<(usize, Result<Recognition, OcrError>)>;

/// One page for the pool.
pub(crate) struct Task {
    pub index: usize,
    pub image: GrayImage,
    /// The resolution the page was rendered at; `None` lets Tesseract estimate it.
    pub dpi: Option<u16>,
    pub lang: Lang,
    /// Detect which way is up and turn the page.
    pub rotate: bool,
    /// Keep per-word results.
    pub words: bool,
    pub cancel: Arc<AtomicBool>,
    pub reply: Reply,
}

/// The engine every function in this process shares. Creating it starts
/// nothing: workers start with the first page, engines with the first page
/// in their language, the PDF library with the first PDF.
pub struct Ocr {
    tessdata: Option<PathBuf>,
    languages: Vec<String>,
    workers: usize,
    pub(crate) pdfium_path: Option<String>,
    /// Where PDF documents are opened, planned and rendered.
    pub(crate) pdf_pool: super::pdfworker::Pool,
    /// Longest one page's recognition may take (`OCR_PAGE_TIMEOUT`).
    page_timeout: Duration,
    queue: OnceLock<Result<mpsc::Sender<Task>, String>>,
    /// Documents being decoded or rendered at once: bounds the memory that
    /// many concurrent uploads could take (a 50 Mpx RGBA image is 200 MB).
    pub(crate) documents: tokio::sync::Semaphore,
}

static GLOBAL: OnceLock<Ocr> = OnceLock::new();

impl Ocr {
    /// The process's engine, set up from the first configuration it is asked
    /// with (limits are per call, so only the tessdata folder, the PDF library
    /// path and the worker count are taken from it).
    pub fn global(config: &OcrConfig) -> &'static Ocr {
        GLOBAL.get_or_init(|| Ocr::new(config))
    }

    fn new(config: &OcrConfig) -> Ocr {
        let tessdata = langs::tessdata_dir(config.tessdata_dir.as_deref());
        let languages = tessdata
            .as_deref()
            .map(langs::installed)
            .unwrap_or_default();
        let workers = if config.workers == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            config.workers
        };
        // One PDF worker per document in work at once: a lease never waits
        // longer than the document semaphore already makes it.
        let pdf_workers = config.pdf_workers.unwrap_or(workers * DOCUMENTS_PER_WORKER);
        Ocr {
            tessdata,
            languages,
            workers,
            pdfium_path: config.pdfium_lib_path.clone(),
            pdf_pool: super::pdfworker::Pool::new(
                pdf_workers,
                config.pdf_timeout,
                config.pdfium_lib_path.clone(),
            ),
            page_timeout: config.page_timeout,
            queue: OnceLock::new(),
            documents: tokio::sync::Semaphore::new(workers * DOCUMENTS_PER_WORKER),
        }
    }

    /// Installed Tesseract languages, sorted.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Parses a `+`-joined language set against the installed languages.
    pub fn lang(&self, raw: &str) -> Result<Lang, OcrError> {
        Lang::parse(raw, &self.languages)
    }

    /// How many pages are recognised at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Queues one page; its outcome arrives on `task.reply`.
    pub(crate) fn submit(&self, task: Task) -> Result<(), OcrError> {
        let queue = self.queue.get_or_init(|| self.start_workers());
        match queue {
            Ok(sender) => sender
                .send(task)
                .map_err(|_| OcrError::Internal(anyhow::anyhow!("the OCR workers have stopped"))),
            Err(why) => Err(OcrError::Internal(anyhow::anyhow!("{why}"))),
        }
    }

    fn start_workers(&self) -> Result<mpsc::Sender<Task>, String> {
        let (sender, receiver) = mpsc::channel::<Task>();
        let crew = Arc::new(Crew {
            queue: Mutex::new(receiver),
            tessdata: self.tessdata.clone(),
            busy: Mutex::new(Vec::new()),
        });
        for _ in 0..self.workers {
            crew.hire()?;
        }
        let timeout = self.page_timeout;
        std::thread::Builder::new()
            .name("ocr-watchdog".into())
            .spawn(move || crew.watch(timeout))
            .map_err(|e| format!("cannot start the OCR watchdog: {e}"))?;
        tracing::info!(workers = self.workers, "OCR workers started");
        Ok(sender)
    }
}

/// The page a worker is on, and where its answer goes.
struct Busy {
    since: Instant,
    index: usize,
    reply: Reply,
}

type Slot = Arc<Mutex<Option<Busy>>>;

/// The worker threads: their shared queue and what each is busy with. A
/// worker past the page time limit is abandoned (Tesseract's own cancel hook
/// is not reachable without unsafe code): its page is answered as too slow,
/// a new worker takes its place, and the old thread ends once Tesseract
/// returns, its result dropped.
struct Crew {
    queue: Mutex<mpsc::Receiver<Task>>,
    tessdata: Option<PathBuf>,
    busy: Mutex<Vec<Slot>>,
}

/// How often the watchdog looks at the workers.
const WATCH_EVERY: Duration = Duration::from_millis(50);

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Crew {
    fn hire(self: &Arc<Self>) -> Result<(), String> {
        let slot: Slot = Arc::new(Mutex::new(None));
        locked(&self.busy).push(slot.clone());
        let crew = self.clone();
        std::thread::Builder::new()
            .name("ocr-worker".into())
            .spawn(move || work(&crew, &slot))
            .map(|_| ())
            .map_err(|e| format!("cannot start OCR worker threads: {e}"))
    }

    fn watch(self: Arc<Self>, timeout: Duration) {
        loop {
            std::thread::sleep(WATCH_EVERY);
            let mut overdue = Vec::new();
            locked(&self.busy).retain(|slot| {
                let mut slot = locked(slot);
                if slot.as_ref().is_some_and(|b| b.since.elapsed() > timeout) {
                    overdue.extend(slot.take());
                    false
                } else {
                    true
                }
            });
            for busy in overdue {
                tracing::warn!(
                    page = busy.index + 1,
                    seconds = timeout.as_secs_f64(),
                    "a page passed the recognition time limit; its worker is abandoned"
                );
                let _ = busy.reply.send((
                    busy.index,
                    Err(OcrError::TooSlow(format!(
                        "page {} took longer than {} s to recognise; \
                         send it at a lower `dpi` or as a cleaner scan",
                        busy.index + 1,
                        timeout.as_secs_f64()
                    ))),
                ));
                if let Err(why) = self.hire() {
                    tracing::error!(error = %why, "no worker replaced the abandoned one");
                }
            }
        }
    }
}

/// A worker's life: take a page, recognise it, reply; until the watchdog
/// abandons it. A panic inside Tesseract costs the page and the worker's
/// engines, not the worker.
fn work(crew: &Crew, slot: &Mutex<Option<Busy>>) {
    let mut engines = Engines {
        tessdata: crew.tessdata.clone(),
        started: Vec::new(),
    };
    loop {
        let next = locked(&crew.queue).recv();
        let Ok(task) = next else { return };
        // Starting an engine is not the page's time: start it first (an
        // error recurs, and is answered, in `recognise`).
        if !task.cancel.load(Ordering::Relaxed) {
            let _ = engines.engine(&task.lang);
        }
        *locked(slot) = Some(Busy {
            since: Instant::now(),
            index: task.index,
            reply: task.reply.clone(),
        });
        let outcome = if task.cancel.load(Ordering::Relaxed) {
            Err(OcrError::Cancelled)
        } else {
            let started = std::time::Instant::now();
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| engines.recognise(&task)));
            if matches!(outcome, Ok(Ok(_))) {
                crate::metrics::ocr_page("ocr", started.elapsed().as_secs_f64());
            }
            outcome.unwrap_or_else(|_| {
                engines.started.clear();
                Err(OcrError::Internal(anyhow::anyhow!(
                    "Tesseract panicked on a page"
                )))
            })
        };
        // The watchdog took the page: it was answered, and this worker replaced.
        if locked(slot).take().is_none() {
            return;
        }
        let _ = task.reply.send((task.index, outcome));
    }
}

struct Engines {
    tessdata: Option<PathBuf>,
    /// Least recently used first.
    started: Vec<(Lang, TessApi)>,
}

impl Engines {
    /// Prepares the page (light, turn, skew) and reads it. A page that was
    /// turned and then reads poorly is read again as it stood, and the better
    /// reading (by mean confidence) is kept: a wrong turn costs time, not text.
    fn recognise(&mut self, task: &Task) -> Result<Recognition, OcrError> {
        let prepared = orient::prepare(&task.image, task.rotate);
        let turned = prepared.rotation;
        let first = self.read(task, prepared)?;
        if turned == 0 || first.confidence >= super::quality::LOW_CONFIDENCE {
            return Ok(first);
        }
        let second = self.read(task, orient::prepare(&task.image, false))?;
        tracing::info!(
            turned,
            turned_confidence = first.confidence,
            unturned_confidence = second.confidence,
            "a turned page read poorly; read it as it stood too"
        );
        Ok(if second.confidence > first.confidence {
            second
        } else {
            first
        })
    }

    fn read(&mut self, task: &Task, prepared: orient::Prepared) -> Result<Recognition, OcrError> {
        let upright = prepared.image.as_ref().unwrap_or(&task.image);
        // Specks painted over, large text reduced to the size Tesseract needs.
        let (sized, scale, specks) = super::scale::prepare(upright, true);
        tracing::debug!(
            x_height = scale.x_height,
            factor = scale.factor,
            specks,
            "page sized"
        );
        let image = sized.as_ref().unwrap_or(upright);
        let dimension = |v: u32| c_int::try_from(v).map_err(|_| anyhow::anyhow!("page too wide"));
        let stride = c_int::try_from(image.stride).map_err(|_| anyhow::anyhow!("stride"))?;
        let (width, height) = (dimension(image.width)?, dimension(image.height)?);
        let api = self.engine(&task.lang)?;
        // Raw pixels straight in: no PNG round trip.
        api.raw
            .set_image(&image.pixels, width, height, 1, stride)
            .map_err(|e| anyhow::anyhow!("Tesseract refused the page's pixels: {e:?}"))?;
        if let Some(dpi) = task.dpi {
            let dpi = (f32::from(dpi) * scale.factor).round() as c_int;
            api.raw.set_source_resolution(dpi.max(1));
        }
        api.raw
            .recognize()
            .map_err(|_| anyhow::anyhow!("Tesseract could not recognise the page"))?;
        let text = api
            .raw
            .get_utf8_text()
            .map_err(|_| anyhow::anyhow!("Tesseract returned no text"))?;
        let text: &std::ffi::CStr = text.as_ref();
        let confidence = api.mean_text_conf().clamp(0, 100) as f32 / 100.0;
        let words = if task.words {
            let tsv = api
                .raw
                .get_tsv_text(0)
                .map_err(|_| anyhow::anyhow!("Tesseract returned no words"))?;
            let tsv: &std::ffi::CStr = tsv.as_ref();
            let mut words =
                super::words::from_tsv(&tsv.to_string_lossy(), image.width, image.height);
            if scale.factor < 1.0 {
                // Boxes in the pixels of the page as prepared, not as reduced.
                let back = |v: u32| (v as f32 / scale.factor).round() as u32;
                for word in &mut words {
                    let b = &mut word.bbox_px;
                    (b.left, b.top, b.width, b.height) =
                        (back(b.left), back(b.top), back(b.width), back(b.height));
                }
            }
            Some(words)
        } else {
            None
        };
        Ok(Recognition {
            text: text.to_string_lossy().into_owned(),
            confidence,
            width: upright.width,
            height: upright.height,
            rotation: prepared.rotation,
            skew_degrees: prepared.skew_degrees,
            words,
        })
    }

    fn engine(&mut self, lang: &Lang) -> Result<&mut TessApi, OcrError> {
        if let Some(at) = self.started.iter().position(|(l, _)| l == lang) {
            let used = self.started.remove(at);
            self.started.push(used);
        } else {
            if self.started.len() >= ENGINES_PER_WORKER {
                self.started.remove(0);
            }
            let api = start_engine(self.tessdata.as_deref(), lang)?;
            self.started.push((lang.clone(), api));
        }
        self.started
            .last_mut()
            .map(|(_, api)| api)
            .ok_or_else(|| OcrError::Internal(anyhow::anyhow!("no engine")))
    }
}

fn start_engine(tessdata: Option<&std::path::Path>, lang: &Lang) -> Result<TessApi, OcrError> {
    let started = Instant::now();
    let dir = tessdata.and_then(|p| p.to_str());
    let mut api = TessApi::new(dir, lang.as_str()).map_err(|e| {
        tracing::error!(lang = %lang, error = %e, "tesseract engine failed to start");
        OcrError::TesseractUnavailable(lang.to_string())
    })?;
    // The C API defaults to one uniform block (6); the CLI's automatic page
    // segmentation (3) is what documents need.
    api.raw
        .set_variable(c"tessedit_pageseg_mode", c"3")
        .map_err(|_| anyhow::anyhow!("Tesseract refused tessedit_pageseg_mode"))?;
    tracing::info!(
        lang = %lang,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "tesseract engine started"
    );
    Ok(api)
}

/// The linked Tesseract's version.
/// The Tesseract version this build links against (from pkg-config at build
/// time; see `shared/build.rs`). Asking the library itself would link it into
/// every binary that reports readiness.
pub(crate) fn tesseract_version() -> String {
    env!("FOLIO_TESSERACT_VERSION").to_owned()
}

/// Debian's libtesseract parallelises with OpenMP, which here costs about 3×
/// the wall time per page; OpenMP reads `OMP_THREAD_LIMIT` only when the
/// library loads, at process start. Call this first in `main`: when the
/// variable is unset, the process re-executes itself with
/// `OMP_THREAD_LIMIT=1` (an operator's own value is kept). Returns only when
/// no re-execution was needed or it failed (then OCR is just slower).
pub fn ensure_single_threaded_omp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env("OMP_THREAD_LIMIT", "1").exec();
    eprintln!("could not re-execute with OMP_THREAD_LIMIT=1 ({error}); OCR will be slower");
}
