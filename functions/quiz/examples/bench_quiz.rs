//! Quiz benchmarks (`scripts/bench-quiz.sh`; figures in docs/benchmarks.md):
//!
//! 1. Extractive generation time for a 5-page text (the five sample texts,
//!    2,320 words, pages joined by form feeds), per difficulty, 10 questions.
//!    Goal: p50 ≤ 50 ms.
//! 2. A repeated workload through the real router (real Postgres and Redis,
//!    the local LLM fake from the tests) showing the cache hit rate and the LLM
//!    calls saved. Targets: hit rate > 30 %, LLM calls −40 %.

#[path = "../tests/api/llm_fake.rs"]
#[expect(
    dead_code,
    reason = "the benchmark needs only the fake's valid answers"
)]
mod llm_fake;

use std::time::Instant;

use folio_testing::TestApp;
use serde_json::json;
use shared::config::Function;
use shared::quiz::{Difficulty, Language, QuestionCount, QuizOptions, cache, extractive};

const PAGES: [&str; 5] = [
    include_str!("../../../shared/testdata/quiz/photosynthesis.txt"),
    include_str!("../../../shared/testdata/quiz/rome.txt"),
    include_str!("../../../shared/testdata/quiz/water-cycle.txt"),
    include_str!("../../../shared/testdata/quiz/printing.txt"),
    include_str!("../../../shared/testdata/quiz/volcanoes.txt"),
];
const GOAL_P50_MS: f64 = 50.0;

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(101);
    extractive_timing(runs);
    workload("class (Zipf s=1.0 over 40 quizzes)", 300, 40, 1.0).await;
    workload("long tail (uniform over 300 quizzes)", 300, 300, 0.0).await;
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn extractive_timing(runs: usize) {
    let raw = PAGES.join("\u{c}");
    let words = raw.split_whitespace().count();
    println!(
        "## Extractive generation, 5-page text ({words} words, {} bytes), 10 questions, {runs} runs each",
        raw.len()
    );
    println!("| difficulty | p50 ms | p90 ms | max ms | p50 / goal (50 ms) |");
    println!("|---|---|---|---|---|");
    for difficulty in [Difficulty::Easy, Difficulty::Medium, Difficulty::Hard] {
        let options = QuizOptions {
            question_count: QuestionCount::parse(10).expect("count"),
            difficulty,
            language: Language::parse("en").expect("language"),
        };
        let mut times = Vec::with_capacity(runs);
        for i in 0..runs + 5 {
            let started = Instant::now();
            // What a request does: normalise, hash, generate.
            let text = cache::normalise_text(&raw);
            let sha = cache::sha256_hex(&text);
            let quiz = extractive::generate(&text, &sha, &options).expect("quiz");
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(quiz.questions.len(), 10);
            if i >= 5 {
                times.push(ms);
            }
        }
        times.sort_by(f64::total_cmp);
        let p50 = percentile(&times, 0.5);
        println!(
            "| {} | {p50:.2} | {:.2} | {:.2} | {:.3} |",
            difficulty.as_str(),
            percentile(&times, 0.9),
            times[times.len() - 1],
            p50 / GOAL_P50_MS
        );
    }
    println!();
}

/// A tiny seeded generator so every run draws the same workload.
struct Draw(u64);

impl Draw {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `requests` quiz requests by 30 users over `catalogue` distinct quizzes
/// (source × options), popularity Zipf(`s`) (s = 0: uniform).
async fn workload(name: &str, requests: usize, catalogue: usize, s: f64) {
    let fake = llm_fake::LlmFake::start(vec![], llm_fake::Reply::Valid(10)).await;
    let vars = fake.vars();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::spawn(Function::Quiz, &vars, folio_quiz::router).await;
    let topics = [
        "photosynthesis",
        "the water cycle",
        "volcanoes",
        "the Roman Republic",
        "the printing press",
        "plate tectonics",
        "the French Revolution",
        "cell division",
        "the solar system",
        "world war one",
    ];
    let difficulties = ["easy", "medium", "hard"];
    // Item k (k < 360, one-to-one): one of 15 sources (5 texts, 10 topics) ×
    // 3 difficulties × 8 question counts.
    let item = |k: usize| {
        let source = match k % 15 {
            s if s < PAGES.len() => json!({"text": PAGES[s]}),
            s => json!({"topic": topics[s - PAGES.len()]}),
        };
        json!({"source": source, "difficulty": difficulties[(k / 15) % 3], "question_count": 3 + (k / 45) % 8})
    };
    let weights: Vec<f64> = (1..=catalogue).map(|r| 1.0 / (r as f64).powf(s)).collect();
    let total: f64 = weights.iter().sum();
    let mut draw = Draw(0x9E37_79B9_7F4A_7C15);
    let mut distinct = std::collections::HashSet::new();
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let mut target = draw.unit() * total;
        let mut k = 0;
        while k + 1 < catalogue && target >= weights[k] {
            target -= weights[k];
            k += 1;
        }
        let user = format!("student-{}", (draw.unit() * 30.0) as usize);
        let body = item(k);
        distinct.insert(body.to_string());
        let started = Instant::now();
        let r = app
            .post_json("/v1/quizzes", Some(&app.token(&user)), &body)
            .await;
        times.push(started.elapsed());
        assert_eq!(r.status, 201, "{}", r.json);
    }
    let [hits, misses, llm_calls, saved] = cache::counters(app.kv()).await;
    let http_calls = fake.calls();
    let hit_rate = hits as f64 / (hits + misses) as f64;
    let calls_cut = 1.0 - http_calls as f64 / requests as f64;
    times.sort();
    let p50 = times[times.len() / 2];
    println!("## Workload: {name}");
    println!(
        "{requests} requests, {} distinct (source, options), 30 users, every request to the LLM generator",
        distinct.len()
    );
    println!("| measure | value | target | ratio to target |");
    println!("|---|---|---|---|");
    println!(
        "| cache hit rate | {:.1} % ({hits} hits, {misses} misses) | > 30 % | {:.2} |",
        hit_rate * 100.0,
        hit_rate / 0.30
    );
    println!(
        "| LLM calls | {http_calls} (counted by the fake; {llm_calls} generations, {saved} saved by the cache) vs {requests} uncached | −40 % | {:.2} (−{:.1} %) |",
        calls_cut / 0.40,
        calls_cut * 100.0
    );
    println!(
        "| request p50 (through the router) | {:.2} ms | | |",
        p50.as_secs_f64() * 1000.0
    );
    println!();
}
