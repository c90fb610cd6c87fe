//! The four real binaries under cargo-lambda's emulator (not our own fake):
//! real HTTP through its Function URLs to `health`, `ocr` (a binary PNG
//! body) and `quiz`, and a scheduled EventBridge event sent with
//! `cargo lambda invoke` that makes `worker-tick` run a queued OCR job.

use std::time::{Duration, Instant};

use folio_e2e::cargo_lambda::{Emulator, available};
use folio_e2e::{Running, free_port};
use folio_testing::samples;
use serde_json::{Value, json};

use crate::World;

const SCHEDULED: &str = r#"{"version":"0","id":"1f6e4a50-7c1e-4c61-9f57-3f0c5f1e2b7a","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-12-01T12:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/folio-tick"],"detail":{}}"#;

/// A function started under its own emulator.
struct Emulated {
    emulator: Emulator,
    function: Running,
}

impl Emulated {
    fn start(name: &str, world: &World) -> Emulated {
        let emulator = Emulator::start();
        let mut vars = world.vars(&[]);
        vars.extend(emulator.vars());
        // Nothing may listen on PORT under Lambda; any free one will do.
        let function = Running::start(name, free_port(), &vars, &[]);
        Emulated { emulator, function }
    }

    fn url(&self, path: &str) -> String {
        self.emulator.function_url(path)
    }

    fn logs(&self) -> String {
        format!(
            "emulator:\n{}\nfunction:\n{}",
            self.emulator.output(),
            self.function.output()
        )
    }
}

fn png_of(seed: usize) -> (String, Vec<u8>) {
    let text = samples::paragraph(seed);
    let image = samples::render_text(&text, 150, samples::fitted_height(&text)).expect("render");
    (text, samples::png(&image).expect("png"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_functions_serve_function_urls_and_a_scheduled_tick_runs_ocr_under_cargo_lambda() {
    if !available("the cargo-lambda end-to-end test") {
        return;
    }
    let world = World::new().await;
    let health = Emulated::start("health", &world);
    let ocr = Emulated::start("ocr", &world);
    let quiz = Emulated::start("quiz", &world);
    let worker = Emulated::start("worker-tick", &world);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let token = shared::auth::mint_hs256(
        folio_testing::TEST_JWT_SECRET,
        "cargo-lambda-user",
        Duration::from_secs(600),
    )
    .expect("token");
    let bearer = format!("Bearer {token}");

    // health: liveness and readiness through the Function URL.
    let r = client.get(health.url("/health")).send().await;
    let r = r.unwrap_or_else(|e| panic!("{e}; {}", health.logs()));
    assert_eq!(r.status(), 200, "{}", health.logs());
    let ready: Value = client
        .get(health.url("/health/ready"))
        .send()
        .await
        .expect("ready")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["status"], "ok", "{ready}");

    // ocr: a binary PNG body, recognised.
    let (text, png) = png_of(61);
    let r = client
        .post(ocr.url("/v1/ocr"))
        .header("authorization", &bearer)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .expect("ocr");
    let status = r.status();
    let body: Value = r.json().await.expect("ocr json");
    assert_eq!(status, 200, "{body}; {}", ocr.logs());
    let recognised = body["text"].as_str().expect("text");
    let cer = shared::ocr::cer::cer(&text, recognised);
    assert!(cer < 0.02, "character error rate {cer}: {recognised}");

    // quiz: create from text, then read it back.
    let r = client
        .post(quiz.url("/v1/quizzes"))
        .header("authorization", &bearer)
        .json(&json!({"source": {"text": samples::paragraph(62).repeat(3)}, "question_count": 3}))
        .send()
        .await
        .expect("create quiz");
    let status = r.status();
    let created: Value = r.json().await.expect("quiz json");
    assert_eq!(status, 201, "{created}; {}", quiz.logs());
    let id = created["quiz_id"].as_str().expect("quiz id");
    let read: Value = client
        .get(quiz.url(&format!("/v1/quizzes/{id}")))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("read quiz")
        .json()
        .await
        .expect("json");
    assert_eq!(read["quiz_id"], id, "{read}");
    assert_eq!(read["questions"], created["questions"]);

    // An OCR job queued through the ocr function, run by a scheduled tick.
    // The emulator's invocations leave the tick REQUEST_TIMEOUT_SECS - 1 =
    // 29 s, less than the ocr kind's 45 s: the job must run all the same.
    let (text, png) = png_of(63);
    let r = client
        .post(ocr.url("/v1/ocr?mode=async"))
        .header("authorization", &bearer)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .expect("ocr async");
    assert_eq!(r.status(), 202);
    let job: Value = r.json().await.expect("job json");
    let status_url = job["status_url"].as_str().expect("status url").to_owned();

    let started = Instant::now();
    let answer = worker
        .emulator
        .invoke(&serde_json::from_str(SCHEDULED).expect("event"));
    let summary: Value = serde_json::from_str(answer.trim())
        .unwrap_or_else(|e| panic!("{e}: {answer}; {}", worker.logs()));
    assert_eq!(
        (&summary["claimed"], &summary["succeeded"], &summary["cut"]),
        (&json!(1), &json!(1), &json!(1)),
        "{summary}; {}",
        worker.logs()
    );
    assert_eq!(summary["stopped"], "drained", "{summary}");
    assert_eq!(summary["remaining_queued"], 0, "{summary}");
    assert_eq!(summary["unfit_kinds"], json!([]), "{summary}");
    assert!(started.elapsed() < Duration::from_secs(29));

    let done: Value = client
        .get(ocr.url(&status_url))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("job status")
        .json()
        .await
        .expect("json");
    assert_eq!(done["status"], "succeeded", "{done}");
    let recognised = done["result"]["text"].as_str().expect("result text");
    let cer = shared::ocr::cer::cer(&text, recognised);
    assert!(cer < 0.02, "character error rate {cer}: {recognised}");

    for f in [&health, &ocr, &quiz, &worker] {
        assert!(
            !f.function.output().contains("panicked"),
            "{}",
            f.function.output()
        );
    }
}
