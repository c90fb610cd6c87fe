//! `worker-tick --every 5s` (compose, the local run): ticks until asked to
//! stop. A tick that ran jobs and ended with due jobs left (budget spent) is
//! followed at once by the next; otherwise the next waits `every` (a tick
//! that could start nothing, its kinds too long for it, must not spin). A tick that fails
//! (Postgres away) is logged and retried on the next beat.

use std::sync::Arc;
use std::time::Duration;

use shared::jobs::{Shutdown, TickSummary, Worker};
use tokio::time::Instant;

/// Runs ticks until `shutdown` is cancelled. The tick in progress then
/// finishes or gives back the jobs in hand before this returns.
pub async fn run_every(worker: Arc<Worker>, every: Duration, shutdown: Shutdown) {
    tracing::info!(
        every_ms = every.as_millis() as u64,
        worker = worker.id(),
        "ticking"
    );
    while !shutdown.is_cancelled() {
        let deadline = Instant::now() + worker.config().tick_budget;
        let again_now = match worker.tick(deadline, &shutdown).await {
            Ok(summary) => again_at_once(&summary),
            Err(e) => {
                tracing::warn!(error = %e, "tick failed; trying again on the next beat");
                false
            }
        };
        if !again_now {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = shutdown.cancelled() => {}
            }
        }
    }
    tracing::info!("ticker stopped");
}

/// Whether the next tick should start at once: this one ran out of budget
/// with due jobs left, and it made progress (a tick that could claim
/// nothing, every kind left too long for it, would only spin).
fn again_at_once(summary: &TickSummary) -> bool {
    summary.stopped == "budget" && summary.remaining_queued > 0 && summary.claimed > 0
}

/// Starts the ticker in the background over `state`'s stores with this
/// binary's job kinds (the local gateway's way to run the queue beside its
/// routes). SIGTERM/SIGINT stops it; await the handle after the server has
/// stopped so the job in hand is finished or given back before exiting.
pub fn spawn(state: &shared::AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    let worker = Arc::new(Worker::new(state, crate::registry(state)));
    tokio::spawn(run_every(worker, every, cancelled_on_signal()))
}

/// A shutdown token that SIGTERM or SIGINT cancels.
pub fn cancelled_on_signal() -> Shutdown {
    let shutdown = Shutdown::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        shared::serve::shutdown_signal().await;
        signal.cancel();
    });
    shutdown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_tick_that_ran_jobs_and_ran_out_of_budget_is_followed_at_once() {
        let busy = TickSummary {
            claimed: 10,
            remaining_queued: 5,
            stopped: "budget",
            ..TickSummary::default()
        };
        assert!(again_at_once(&busy));
        let drained = TickSummary {
            stopped: "drained",
            remaining_queued: 0,
            ..busy.clone()
        };
        assert!(!again_at_once(&drained));
        // Jobs queued that this tick could not start (their kind unfit): wait.
        let stuck = TickSummary {
            claimed: 0,
            unfit_kinds: vec!["ocr".into()],
            ..busy
        };
        assert!(!again_at_once(&stuck));
    }
}
