use std::process::ExitCode;

use shared::config::Function;

#[tokio::main]
async fn main() -> ExitCode {
    shared::run_function(Function::Quiz, folio_quiz::router, folio_quiz::openapi()).await
}
