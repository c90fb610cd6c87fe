//! Redis-layer benchmark (see `scripts/bench-redis.sh` and docs/benchmarks.md):
//! rate-limit checks/s and cache hits/s against a local Redis beside
//! `redis-benchmark -t get` on the same server in the same run (rounds
//! interleaved, medians reported), round trips per check, the REST backend's
//! per-command overhead over TCP through the emulator, and a 10-command
//! pipeline against 10 sequential commands on both transports.
//!
//! `cargo run --release -p folio-shared --example bench_redis -- [rounds] [seconds] [concurrency]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use folio_testing::upstash::UpstashEmulator;
use futures::future::BoxFuture;
use secrecy::SecretString;
use shared::config::{RateLimitConfig, RedisBackend, RedisConfig};
use shared::kv::{Cmd, Kv, KvError, Reply, RestTransport, TcpTransport, Transport};
use shared::limits::{Policy, RateLimiter};

const TOKEN: &str = "bench-token";

/// Counts round trips.
struct Counting {
    inner: Arc<dyn Transport>,
    calls: AtomicU64,
}

#[async_trait]
impl Transport for Counting {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn pipeline(
        &self,
        cmds: &[Cmd],
        atomic: bool,
    ) -> Result<Vec<Result<Reply, KvError>>, KvError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.pipeline(cmds, atomic).await
    }
}

type Op = Arc<dyn Fn(u64) -> BoxFuture<'static, ()> + Send + Sync>;

/// Operations per second with `concurrency` callers for `seconds`.
async fn throughput(concurrency: u64, seconds: f64, op: Op) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let tasks = (0..concurrency).map(|worker| {
        let op = op.clone();
        tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                op(worker * 1_000_000 + done).await;
                done += 1;
            }
            done
        })
    });
    let total: u64 = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap_or(0))
        .sum();
    total as f64 / started.elapsed().as_secs_f64()
}

async fn median_latency(reps: usize, op: Op) -> Duration {
    let mut times = Vec::with_capacity(reps);
    for i in 0..reps {
        let started = Instant::now();
        op(i as u64).await;
        times.push(started.elapsed());
    }
    median_duration(times)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

fn median_duration(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

/// `redis-benchmark -t get` requests/s on the same server.
fn redis_benchmark(port: u16, clients: u64, requests: u64) -> Option<f64> {
    let out = std::process::Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-t", "get", "--csv"])
        .args(["-c", &clients.to_string(), "-n", &requests.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("\"GET\""))?;
    line.split(',').nth(1)?.trim_matches('"').parse().ok()
}

fn redis_config(url: &str) -> RedisConfig {
    RedisConfig {
        backend: RedisBackend::Tcp {
            url: SecretString::from(url.to_owned()),
        },
        key_prefix: String::new(),
        connect_timeout: Duration::from_secs(2),
        response_timeout: Duration::from_secs(2),
        tls_ca_file: None,
        cache_max_value_bytes: shared::kv::DEFAULT_CACHE_MAX_VALUE_BYTES,
        breaker: shared::kv::BreakerConfig::default(),
    }
}

fn op<F, Fut>(f: F) -> Op
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    Arc::new(move |i| Box::pin(f(i)))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    shared::install_crypto_provider();
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let seconds: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let concurrency: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(50);
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let port: u16 = url::Url::parse(&url)?.port().unwrap_or(6379);
    let config = redis_config(&url);
    let RedisBackend::Tcp { url: secret } = &config.backend else {
        anyhow::bail!("tcp config");
    };
    let prefix = format!("bench:{}:", std::process::id());
    let tcp = Arc::new(Counting {
        inner: Arc::new(TcpTransport::new(secret, &config)?),
        calls: AtomicU64::new(0),
    });
    let kv = Kv::with_transport(tcp.clone(), &prefix);

    // The emulator runs on a runtime (thread) of its own, like a separate server.
    let (tx, rx) = std::sync::mpsc::channel();
    let upstream = url.clone();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            let emulator = UpstashEmulator::start(&upstream, TOKEN).await;
            let _ = tx.send(
                emulator
                    .as_ref()
                    .map(|e| e.url())
                    .map_err(|e| e.to_string()),
            );
            std::future::pending::<()>().await;
        });
    });
    let rest_url = rx.recv()?.map_err(anyhow::Error::msg)?;
    let rest = Kv::with_transport(
        Arc::new(RestTransport::new(
            &rest_url,
            &SecretString::from(TOKEN),
            &config,
        )?),
        &prefix,
    );

    let limiter = RateLimiter::new(
        kv.clone(),
        RateLimitConfig {
            ocr_per_min: 10,
            quiz_per_min: 5,
            fail_open: true,
        },
    );
    // High enough that no identifier is ever refused: every check asks Redis.
    let policy = Policy {
        name: "bench",
        limit: 1_000_000_000,
        period: Duration::from_secs(60),
    };
    kv.set("warm", b"0123456789abcdef", Some(Duration::from_secs(600)))
        .await?;
    let ttl = Duration::from_secs(600);
    kv.get_or_compute("cache", ttl, || async {
        Ok::<_, KvError>(vec!["a value".to_owned(); 4])
    })
    .await?;

    let mut rb = Vec::new();
    let mut gets = Vec::new();
    let mut checks = Vec::new();
    let mut hits = Vec::new();
    for round in 0..rounds {
        let k = kv.clone();
        gets.push(
            throughput(
                concurrency,
                seconds,
                op(move |_| {
                    let k = k.clone();
                    async move {
                        let _ = k.get("warm").await;
                    }
                }),
            )
            .await,
        );
        let l = limiter.clone();
        checks.push(
            throughput(
                concurrency,
                seconds,
                op(move |i| {
                    let l = l.clone();
                    async move {
                        let _ = l.check_policy(&policy, &format!("id{}", i % 10_000)).await;
                    }
                }),
            )
            .await,
        );
        let k = kv.clone();
        hits.push(
            throughput(
                concurrency,
                seconds,
                op(move |_| {
                    let k = k.clone();
                    async move {
                        let _ = k
                            .get_or_compute("cache", ttl, || async {
                                Ok::<_, KvError>(Vec::<String>::new())
                            })
                            .await;
                    }
                }),
            )
            .await,
        );
        let requests = (gets[round] * seconds).max(10_000.0) as u64;
        rb.push(redis_benchmark(port, concurrency, requests).unwrap_or(f64::NAN));
        eprintln!(
            "round {}: redis-benchmark GET {:.0}/s, kv GET {:.0}/s, rate-limit {:.0}/s, cache hit {:.0}/s",
            round + 1,
            rb[round],
            gets[round],
            checks[round],
            hits[round]
        );
    }

    let before = tcp.calls.load(Ordering::Relaxed);
    for i in 0..1000 {
        limiter.check_policy(&policy, &format!("rt{i}")).await;
    }
    let per_check = (tcp.calls.load(Ordering::Relaxed) - before) as f64 / 1000.0;

    let get_on = |kv: &Kv| {
        let kv = kv.clone();
        op(move |_| {
            let kv = kv.clone();
            async move {
                let _ = kv.get("warm").await;
            }
        })
    };
    let tcp_get = median_latency(2000, get_on(&kv)).await;
    let rest_get = median_latency(2000, get_on(&rest)).await;
    let ten = |kv: &Kv, pipelined: bool| {
        let kv = kv.clone();
        op(move |_| {
            let kv = kv.clone();
            async move {
                let cmds: Vec<Cmd> = (0..10)
                    .map(|i| Cmd::new("SET").arg(kv.key(&format!("p{i}"))).arg("v"))
                    .collect();
                if pipelined {
                    let _ = kv.pipeline(&cmds, false).await;
                } else {
                    for cmd in cmds {
                        let _ = kv.query(cmd).await;
                    }
                }
            }
        })
    };
    let tcp_pipe = median_latency(500, ten(&kv, true)).await;
    let tcp_seq = median_latency(500, ten(&kv, false)).await;
    let rest_pipe = median_latency(500, ten(&rest, true)).await;
    let rest_seq = median_latency(500, ten(&rest, false)).await;

    let (rb, gets, checks, hits) = (median(rb), median(gets), median(checks), median(hits));
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "Medians of {rounds} interleaved rounds, {seconds} s each, concurrency {concurrency}, bench runtime on 1 worker thread.\n"
    );
    println!("| measure | value | ratio |\n| --- | ---: | ---: |");
    println!("| `redis-benchmark -t get -c {concurrency}` | {rb:.0} req/s | 1.00 |");
    println!("| `Kv::get` (TCP) | {gets:.0} req/s | {:.2} |", gets / rb);
    println!(
        "| rate-limit check (TCP, EVALSHA) | {checks:.0} checks/s | {:.2} |",
        checks / rb
    );
    println!(
        "| cache-aside hit (TCP) | {hits:.0} hits/s | {:.2} |",
        hits / rb
    );
    println!("| round trips per rate-limit check | {per_check:.2} | |");
    println!(
        "| GET latency, TCP (sequential) | {:.0} µs | 1.00 |",
        us(tcp_get)
    );
    println!(
        "| GET latency, REST via emulator | {:.0} µs | {:.2} |",
        us(rest_get),
        us(rest_get) / us(tcp_get)
    );
    println!(
        "| REST overhead per command | {:.0} µs | |",
        us(rest_get) - us(tcp_get)
    );
    println!(
        "| 10 SETs, TCP pipeline / sequential | {:.0} / {:.0} µs | {:.2} |",
        us(tcp_pipe),
        us(tcp_seq),
        us(tcp_seq) / us(tcp_pipe)
    );
    println!(
        "| 10 SETs, REST `/pipeline` / sequential | {:.0} / {:.0} µs | {:.2} |",
        us(rest_pipe),
        us(rest_seq),
        us(rest_seq) / us(rest_pipe)
    );

    let mut keys: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    keys.extend(["warm".to_owned(), "cache".to_owned()]);
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    kv.del(&keys).await.ok();
    // The rest (rate-limit keys) by SCAN from here: no script touches keys it
    // was not given (see `kv::script`).
    let mut cursor = "0".to_owned();
    loop {
        let scan = Cmd::new("SCAN")
            .arg(&cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg("1000");
        let Some(mut page) = kv.query(scan).await?.into_array() else {
            break;
        };
        let found = page.pop().and_then(Reply::into_array).unwrap_or_default();
        let mut del = Cmd::new("DEL");
        for key in found.into_iter().filter_map(Reply::into_bytes) {
            del = del.arg(key);
        }
        if del.args.len() > 1 {
            kv.query(del).await?;
        }
        cursor = page
            .pop()
            .and_then(Reply::into_bytes)
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .unwrap_or_default();
        if cursor == "0" || cursor.is_empty() {
            break;
        }
    }
    Ok(())
}
