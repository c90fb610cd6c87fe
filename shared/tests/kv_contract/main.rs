//! The `Kv` contract, run against every transport users can configure: TCP
//! plaintext, TCP over TLS (a throwaway `redis-server --tls-port` with a CA the
//! test generates), and Upstash REST through the local emulator. Then what is
//! built on it: cache-aside, the rate limiter, counters and notices, and the
//! degraded answers when Redis dies mid-run.

mod breaker;
mod cache;
mod contract;
mod degraded;
mod limiter;
mod scripts;
mod support;
mod trust;
mod upstash;

/// Generates one test per contract function and transport: `tcp::…`,
/// `tls::…`, `rest::…`.
macro_rules! for_every_transport {
    ($($name:ident),* $(,)?) => {
        mod tcp {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let mut f = crate::support::Fixture::new(crate::support::Kind::Tcp).await;
                crate::contract::$name(&mut f).await;
            })*
        }
        mod tls {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let mut f = crate::support::Fixture::new(crate::support::Kind::Tls).await;
                crate::contract::$name(&mut f).await;
            })*
        }
        mod rest {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let mut f = crate::support::Fixture::new(crate::support::Kind::Rest).await;
                crate::contract::$name(&mut f).await;
            })*
        }
    };
}

for_every_transport!(
    binary_values_survive_and_keys_carry_the_prefix,
    missing_keys_read_as_nothing,
    ttls_are_kept_and_keys_expire,
    pipelines_answer_in_order_with_per_command_errors,
    atomic_batches_apply_together,
    scripts_run_by_sha_after_falling_back_to_eval,
    publish_reaches_a_subscriber_of_the_prefixed_channel,
    the_next_command_succeeds_after_the_server_drops_the_connection,
    counters_keep_totals_and_a_daily_hash_with_a_ttl,
    cache_aside_serves_typed_values_and_stores_them_with_a_ttl,
    concurrent_misses_on_one_key_run_the_loader_once,
    values_over_the_size_cap_are_served_but_not_stored,
    exactly_the_limit_is_allowed_across_two_instances_under_concurrency,
    a_refused_caller_is_refused_in_process_until_its_retry_moment,
    a_clock_running_ahead_gains_at_most_the_skew_in_requests,
    a_clock_far_ahead_costs_a_caller_at_most_one_period,
);
