use std::process::ExitCode;

use shared::config::Function;

#[tokio::main]
async fn main() -> ExitCode {
    // Before anything else: OpenMP reads its thread limit when libtesseract loads.
    // A PDF worker (this binary re-executed) serves its requests and exits here.
    shared::ocr::serve_pdf_worker_if_asked();
    shared::ocr::ensure_single_threaded_omp();
    shared::run_function(Function::Ocr, folio_ocr::router, folio_ocr::openapi()).await
}
