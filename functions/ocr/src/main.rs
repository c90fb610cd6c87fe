use std::process::ExitCode;

use shared::config::Function;

#[tokio::main]
async fn main() -> ExitCode {
    // Before anything else: OpenMP reads its thread limit when libtesseract loads.
    shared::ocr::ensure_single_threaded_omp();
    shared::run_function(Function::Ocr, folio_ocr::router, folio_ocr::openapi()).await
}
