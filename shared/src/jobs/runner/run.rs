//! The claim → run → finish loop of one tick. Claims a batch when there is a
//! free slot and nothing buffered, runs up to `concurrency` handlers at once
//! (each in its own task, under its kind's timeout), and writes outcomes in
//! batches: when `batch_size` are pending, every `FLUSH_EVERY`, alongside
//! each claim (the two round trips overlap), and at the end. Which kinds are
//! claimed and how long each attempt may run: `super::budget`.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use serde_json::Value;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;

use super::budget;
use super::outcomes::Pending;
use super::{Shutdown, TickSummary, Worker};
use crate::db;
use crate::jobs::notify::Notices;
use crate::jobs::queue::{Claim, ClaimedJob, claim};
use crate::jobs::{Completion, Failure, JobContext, JobError, JobEvent, release};

/// Longest an outcome waits before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(50);

enum Outcome {
    Done(Option<Value>),
    Error(JobError),
    TimedOut(Duration),
}

/// A job in hand: its context, and whether its attempt was cut short.
struct Running {
    ctx: JobContext,
    cut: Option<Duration>,
}

pub(super) struct Run<'a> {
    worker: &'a Worker,
    deadline: Instant,
    /// The whole tick's length, which decides whether a kind is cut.
    span: Duration,
    shutdown: &'a Shutdown,
    summary: &'a mut TickSummary,
    notices: &'a Notices,
    buffer: VecDeque<ClaimedJob>,
    tasks: JoinSet<Outcome>,
    running: HashMap<tokio::task::Id, Running>,
    unstarted: Vec<ClaimedJob>,
    pending: Pending,
    last_flush: Instant,
}

impl<'a> Run<'a> {
    pub(super) fn new(
        worker: &'a Worker,
        deadline: Instant,
        span: Duration,
        shutdown: &'a Shutdown,
        summary: &'a mut TickSummary,
        notices: &'a Notices,
    ) -> Run<'a> {
        Run {
            worker,
            deadline,
            span,
            shutdown,
            summary,
            notices,
            buffer: VecDeque::new(),
            tasks: JoinSet::new(),
            running: HashMap::new(),
            unstarted: Vec::new(),
            pending: Pending::default(),
            last_flush: Instant::now(),
        }
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Runs until drained, out of budget or shut down; then writes every
    /// outcome and gives back what was not started.
    pub(super) async fn drain(mut self) -> Result<(), sqlx::Error> {
        let concurrency = self.worker.config.concurrency as usize;
        let batch = self.worker.config.batch_size as usize;
        let mut drained = false;
        let mut out_of_time = false;
        let mut hard_stop: Option<Instant> = None;
        loop {
            while self.tasks.len() < concurrency {
                let Some(job) = self.buffer.pop_front() else {
                    break;
                };
                self.start(job);
            }
            let may_claim = !drained && !out_of_time && !self.shutdown.is_cancelled();
            let wants_jobs = may_claim && self.buffer.is_empty() && self.tasks.len() < concurrency;
            let kinds = if wants_jobs {
                let remaining = self.deadline.saturating_duration_since(Instant::now());
                let kinds = budget::claimable(&self.worker.registry, self.span, remaining);
                out_of_time = kinds.is_empty();
                Some((kinds, remaining)).filter(|(k, _)| !k.is_empty())
            } else {
                None
            };
            let flush_due = self.pending() >= batch
                || (self.pending() > 0
                    && (kinds.is_some() || self.last_flush.elapsed() >= FLUSH_EVERY));
            if flush_due || kinds.is_some() {
                let got = self.flush_and_claim(flush_due, kinds).await?;
                if let Some(got) = got {
                    drained = got < batch;
                    if got > 0 {
                        continue;
                    }
                }
            }
            if self.tasks.is_empty() && self.buffer.is_empty() {
                break;
            }
            let flush_at = self.last_flush + FLUSH_EVERY;
            tokio::select! {
                Some(joined) = self.tasks.join_next_with_id() => self.settle(joined),
                () = self.shutdown.cancelled(), if hard_stop.is_none() => {
                    hard_stop = Some(Instant::now() + self.worker.shutdown_grace);
                    self.unstarted.extend(self.buffer.drain(..));
                }
                () = tokio::time::sleep_until(hard_stop.unwrap_or(flush_at)), if hard_stop.is_some() => {
                    tracing::warn!(jobs = self.tasks.len(), "shutdown grace over: interrupting jobs");
                    self.tasks.abort_all();
                    hard_stop = Some(Instant::now() + Duration::from_secs(3600));
                }
                () = tokio::time::sleep_until(flush_at), if self.pending() > 0 => {}
                else => {}
            }
            while let Some(joined) = self.tasks.try_join_next_with_id() {
                self.settle(joined);
            }
        }
        self.flush_and_claim(true, None).await?;
        self.summary.stopped = if self.shutdown.is_cancelled() {
            "shutdown"
        } else if out_of_time || !self.unstarted.is_empty() {
            "budget"
        } else {
            "drained"
        };
        self.give_back().await
    }

    /// Writes the pending outcomes (when `flush`) and claims a batch of
    /// `kinds` (when given) at the same time. Returns how many were claimed.
    async fn flush_and_claim(
        &mut self,
        flush: bool,
        kinds: Option<(Vec<String>, Duration)>,
    ) -> Result<Option<usize>, sqlx::Error> {
        let pending = if flush {
            self.pending.take()
        } else {
            Pending::default()
        };
        if flush {
            self.last_flush = Instant::now();
        }
        let worker = self.worker;
        let claiming = async {
            let Some((kinds, remaining)) = &kinds else {
                return Ok(None);
            };
            let started = Instant::now();
            let lease = crate::jobs::lease_duration(*remaining, worker.config.lease_grace);
            let mut unit = db::unit(&worker.pool).await?;
            let jobs = claim(
                &mut *unit,
                Claim {
                    kinds,
                    limit: worker.config.batch_size,
                    lease,
                    worker: &worker.id,
                },
            )
            .await?;
            unit.commit().await?;
            tracing::debug!(
                jobs = jobs.len(),
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "claimed"
            );
            Ok(Some(jobs))
        };
        let (written, claimed) =
            tokio::try_join!(pending.write(&worker.pool, worker.backoff()), claiming)?;
        let (events, counters) = written.record(self.summary);
        self.notices.send(events, counters);
        let Some(jobs) = claimed else {
            return Ok(None);
        };
        let n = jobs.len();
        if n > 0 {
            self.summary.claimed += n as u64;
            let events = jobs
                .iter()
                .map(|j| JobEvent {
                    id: j.id,
                    kind: j.kind.clone(),
                    owner_id: j.owner_id.clone(),
                    status: "running".into(),
                    attempts: j.attempts,
                    progress: None,
                })
                .collect();
            self.notices.send(events, vec![("claimed", n as u64)]);
            self.buffer.extend(jobs);
        }
        Ok(Some(n))
    }

    /// Starts `job` if an attempt of its kind still fits before the
    /// deadline (`budget::attempt`); otherwise keeps it to give back.
    fn start(&mut self, job: ClaimedJob) {
        let Some(handler) = self.worker.registry.get(&job.kind).cloned() else {
            // Only registered kinds are claimed; this is a bug, not a job error.
            tracing::error!(job.kind = %job.kind, "claimed a job of an unregistered kind");
            self.unstarted.push(job);
            return;
        };
        let now = Instant::now();
        let remaining = self.deadline.saturating_duration_since(now);
        let attempt = budget::attempt(handler.timeout(), self.span, remaining);
        let Some(attempt) = attempt.filter(|_| !self.shutdown.is_cancelled()) else {
            self.unstarted.push(job);
            return;
        };
        let timeout = attempt.limit;
        let cut = attempt.cut.then_some(handler.timeout());
        if attempt.cut {
            self.summary.cut += 1;
            tracing::debug!(
                job.kind = %job.kind,
                limit_ms = timeout.as_millis() as u64,
                "attempt cut to what is left of the tick"
            );
        }
        // The handler is asked to wrap up a little before it is cut off.
        let wrap_up = now + timeout - (timeout / 10).min(Duration::from_secs(2));
        let ctx = JobContext::new(
            job,
            self.worker.pool.clone(),
            self.worker.kv.clone(),
            wrap_up,
            self.shutdown.clone(),
        );
        let task_ctx = ctx.clone();
        let handle = self.tasks.spawn(async move {
            match tokio::time::timeout(timeout, handler.run(task_ctx)).await {
                Ok(Ok(result)) => Outcome::Done(result),
                Ok(Err(e)) => Outcome::Error(e),
                Err(_) => Outcome::TimedOut(timeout),
            }
        });
        self.running.insert(handle.id(), Running { ctx, cut });
    }

    fn settle(&mut self, joined: Result<(tokio::task::Id, Outcome), JoinError>) {
        let (task, outcome) = match joined {
            Ok((task, outcome)) => (task, Ok(outcome)),
            Err(e) => (e.id(), Err(e)),
        };
        let Some(Running { ctx, cut }) = self.running.remove(&task) else {
            return;
        };
        // A handler that put its job back (a fanned-out document waiting for its
        // parts) has written everything already: the attempt did not count.
        if ctx.requeued_by_handler() {
            crate::metrics::job_attempt(ctx.kind(), "requeued");
            return;
        }
        let label = match &outcome {
            _ if ctx.completed_by_handler() => "succeeded",
            Ok(Outcome::Done(_)) => "succeeded",
            Ok(Outcome::Error(JobError::LeaseLost)) => "fenced",
            Ok(Outcome::Error(JobError::Permanent(_))) => "permanent_error",
            Ok(Outcome::Error(JobError::Retry(_))) => "error",
            Ok(Outcome::TimedOut(_)) => "timed_out",
            Err(e) if e.is_panic() => "panicked",
            Err(_) => "interrupted",
        };
        crate::metrics::job_attempt(ctx.kind(), label);
        if ctx.completed_by_handler() {
            self.pending.done_by_handler.push(JobEvent {
                id: ctx.id(),
                kind: ctx.kind().to_owned(),
                owner_id: ctx.owner_id().map(str::to_owned),
                status: "succeeded".into(),
                attempts: ctx.attempt(),
                progress: None,
            });
            return;
        }
        let failure = |error: String, permanent: bool, immediate: bool| Failure {
            id: ctx.id(),
            lease_token: ctx.lease_token(),
            error,
            permanent,
            immediate,
        };
        // A cut attempt that ran to the end of its tick did not go wrong: it
        // runs again at the next tick (the attempt counts, so a job that
        // never finishes in what ticks give still ends after max_attempts).
        let out_of_tick =
            cut.is_some() && !self.shutdown.is_cancelled() && Instant::now() >= ctx.deadline();
        match outcome {
            Ok(Outcome::TimedOut(limit)) if out_of_tick => self.pending.failed.push(failure(
                format!(
                    "cut off after {:.1} s, all a tick had left of this kind's {:.1} s; retried at the next tick",
                    limit.as_secs_f64(),
                    cut.unwrap_or_default().as_secs_f64()
                ),
                false,
                true,
            )),
            Ok(Outcome::Error(JobError::Retry(e))) if out_of_tick => {
                self.pending.failed.push(failure(e, false, true))
            }
            Ok(Outcome::Done(result)) => self.pending.done.push(Completion {
                id: ctx.id(),
                lease_token: ctx.lease_token(),
                result,
            }),
            Ok(Outcome::Error(JobError::LeaseLost)) => self.summary.fenced += 1,
            Ok(Outcome::Error(JobError::Retry(e))) => {
                self.pending.failed.push(failure(e, false, false))
            }
            Ok(Outcome::Error(JobError::Permanent(e))) => {
                self.pending.failed.push(failure(e, true, false))
            }
            Ok(Outcome::TimedOut(limit)) => self.pending.failed.push(failure(
                format!("timed out after {:.1} s", limit.as_secs_f64()),
                false,
                false,
            )),
            Err(e) if e.is_panic() => {
                tracing::error!(job.id = %ctx.id(), job.kind = ctx.kind(), "job handler panicked");
                self.pending
                    .failed
                    .push(failure("the job handler panicked".into(), false, false));
            }
            Err(_) => {
                self.pending
                    .failed
                    .push(failure("interrupted by shutdown".into(), false, true))
            }
        }
    }

    /// Returns the jobs claimed but never started to the queue.
    async fn give_back(&mut self) -> Result<(), sqlx::Error> {
        let jobs: Vec<_> = self
            .unstarted
            .drain(..)
            .chain(self.buffer.drain(..))
            .map(|j| (j.id, j.lease_token))
            .collect();
        let mut unit = db::unit(&self.worker.pool).await?;
        let released = release(&mut *unit, &jobs).await?;
        unit.commit().await?;
        self.summary.released += released.len() as u64;
        self.summary.fenced += (jobs.len() - released.len()) as u64;
        Ok(())
    }
}
