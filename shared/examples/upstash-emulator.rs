//! The local Upstash REST emulator as a dev server, for running the functions
//! against the REST backend without Docker:
//!
//! ```sh
//! cargo run -p folio-shared --example upstash-emulator -- 127.0.0.1:8079
//! UPSTASH_REDIS_REST_URL=http://127.0.0.1:8079 UPSTASH_REDIS_REST_TOKEN=local-dev-token …
//! ```
//! Upstream Redis: `REDIS_URL` (default `redis://127.0.0.1:6379`); token:
//! `UPSTASH_EMULATOR_TOKEN` (default `local-dev-token`).

use folio_testing::upstash::UpstashEmulator;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8079".to_owned())
        .parse()?;
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let token =
        std::env::var("UPSTASH_EMULATOR_TOKEN").unwrap_or_else(|_| "local-dev-token".into());
    let emulator = UpstashEmulator::start_on(addr, &redis, &token).await?;
    eprintln!(
        "upstash emulator on {} (token from UPSTASH_EMULATOR_TOKEN)",
        emulator.url()
    );
    shared::serve::shutdown_signal().await;
    Ok(())
}
