use std::process::ExitCode;

use shared::config::Function;

#[tokio::main]
async fn main() -> ExitCode {
    shared::run_function(Function::Ocr, folio_ocr::router).await
}
