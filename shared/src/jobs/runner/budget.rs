//! How much of a tick one attempt gets. A tick has a span (its deadline less
//! its start); a kind whose timeout fits that span runs under its own
//! timeout, started only while that much is left. A kind whose timeout is
//! longer than the whole span (a Lambda timeout shorter than the kind's, a
//! caller that waits less) would never find that much left, so instead of
//! starving it is *cut*: started while at least half the span is left and
//! given whatever is left. An attempt shorter than `MIN_ATTEMPT` (or the
//! kind's own timeout, if shorter) is not worth starting: a span below that
//! means the kind cannot fit at all, which the summary and readiness say.

use std::time::Duration;

use serde::Serialize;

use crate::jobs::Registry;

/// The shortest cut attempt worth starting.
pub const MIN_ATTEMPT: Duration = Duration::from_secs(1);

/// How a kind fits ticks of a given span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Its timeout fits: attempts run under it.
    Full,
    /// Its timeout is longer than the tick: attempts get what is left.
    Cut,
    /// Not even a minimal attempt fits: its jobs wait for a longer tick.
    Never,
}

/// One kind judged against a tick span (readiness shows these).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KindFit {
    pub kind: String,
    pub timeout_s: f64,
    pub fit: Fit,
    /// The longest attempt such a tick gives it (0 when it never fits).
    pub attempt_s: f64,
}

/// The attempt one job gets when started now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub limit: Duration,
    /// Shorter than the kind's timeout.
    pub cut: bool,
}

/// How a kind with `timeout` fits a tick of `span`.
pub fn fit(timeout: Duration, span: Duration) -> Fit {
    if timeout <= span {
        Fit::Full
    } else if timeout.min(MIN_ATTEMPT) <= span {
        Fit::Cut
    } else {
        Fit::Never
    }
}

/// The attempt a job of a kind with `timeout` gets in a tick of `span` with
/// `remaining` left, or `None` when it should wait for another tick.
pub fn attempt(timeout: Duration, span: Duration, remaining: Duration) -> Option<Attempt> {
    if timeout <= remaining {
        return Some(Attempt {
            limit: timeout,
            cut: false,
        });
    }
    match fit(timeout, span) {
        // It fits a tick like this one, just not what is left of it.
        Fit::Full | Fit::Never => None,
        Fit::Cut => {
            let least = (span / 2).max(timeout.min(MIN_ATTEMPT));
            (remaining >= least).then_some(Attempt {
                limit: remaining,
                cut: true,
            })
        }
    }
}

/// Every registered kind judged against ticks of `span`.
pub fn kinds(registry: &Registry, span: Duration) -> Vec<KindFit> {
    registry
        .kinds()
        .filter_map(|kind| {
            let timeout = registry.get(kind)?.timeout();
            let fit = fit(timeout, span);
            let attempt_s = match fit {
                Fit::Full => timeout.as_secs_f64(),
                Fit::Cut => span.as_secs_f64(),
                Fit::Never => 0.0,
            };
            Some(KindFit {
                kind: kind.to_owned(),
                timeout_s: timeout.as_secs_f64(),
                fit,
                attempt_s,
            })
        })
        .collect()
}

/// The kinds worth claiming with `remaining` left of a tick of `span`.
pub(super) fn claimable(registry: &Registry, span: Duration, remaining: Duration) -> Vec<String> {
    registry
        .kinds()
        .filter(|kind| {
            registry
                .get(kind)
                .is_some_and(|h| attempt(h.timeout(), span, remaining).is_some())
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn a_kind_that_fits_the_tick_runs_under_its_own_timeout_while_it_fits_what_is_left() {
        assert_eq!(fit(s(10), s(50)), Fit::Full);
        let full = Attempt {
            limit: s(10),
            cut: false,
        };
        assert_eq!(attempt(s(10), s(50), s(40)), Some(full));
        assert_eq!(attempt(s(10), s(50), s(10)), Some(full));
        // Late in the tick it waits for the next one instead of being cut.
        assert_eq!(attempt(s(10), s(50), s(9)), None);
    }

    #[test]
    fn a_kind_longer_than_the_whole_tick_is_cut_to_what_is_left_while_half_remains() {
        // The starvation case: OCR's 45 s attempts in ticks of 28 s.
        assert_eq!(fit(s(45), s(28)), Fit::Cut);
        assert_eq!(
            attempt(s(45), s(28), s(28)),
            Some(Attempt {
                limit: s(28),
                cut: true
            })
        );
        assert_eq!(
            attempt(s(45), s(28), s(14)),
            Some(Attempt {
                limit: s(14),
                cut: true
            })
        );
        assert_eq!(attempt(s(45), s(28), s(13)), None);
    }

    #[test]
    fn a_tick_shorter_than_a_minimal_attempt_fits_nothing_longer() {
        let short = Duration::from_millis(900);
        assert_eq!(fit(s(45), short), Fit::Never);
        assert_eq!(attempt(s(45), short, short), None);
        // A kind quicker than the minimum still fits by its own timeout.
        let quick = Duration::from_millis(200);
        assert_eq!(fit(quick, short), Fit::Full);
        assert_eq!(fit(Duration::from_millis(950), short), Fit::Never);
        assert_eq!(fit(s(2), s(1)), Fit::Cut);
    }
}
