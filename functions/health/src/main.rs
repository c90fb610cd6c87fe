use std::process::ExitCode;

use shared::config::Function;

#[tokio::main]
async fn main() -> ExitCode {
    shared::run_function(
        Function::Health,
        folio_health::router,
        folio_health::openapi(),
    )
    .await
}
