//! Webhooks: registration (`/v1/webhooks`, the secret shown once), per-job
//! `callback_url`, and delivery at least once through the queue, signed per
//! the Standard Webhooks specification, checked here by a verifier written
//! from the specification. A receiver that fails its first three tries gets
//! the webhook once accepted, with the same id, within the backoff schedule.

use std::time::{Duration, Instant};

use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use folio_testing::samples::{self, PageKind};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use super::by_url::tick;
use super::peer::{self, Received};
use super::*;

/// Standard Webhooks verification: the signed content is
/// `{webhook-id}.{webhook-timestamp}.{body}`, the key is the base64 after
/// `whsec_`, the header is a space-separated list of `v1,{base64 HMAC-SHA256}`
/// of which one must match (compared in constant time), and the timestamp
/// must be within five minutes of now.
fn verify(secret: &str, received: &Received) -> Result<Value, String> {
    let header = |name: &str| {
        received
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(format!("no {name} header"))
    };
    let id = header("webhook-id")?;
    let timestamp = header("webhook-timestamp")?;
    let signatures = header("webhook-signature")?;
    let ts: i64 = timestamp.parse().map_err(|_| "bad timestamp")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "clock")?
        .as_secs() as i64;
    if (now - ts).abs() > 300 {
        return Err(format!("timestamp {ts} is too far from now ({now})"));
    }
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").ok_or("secret prefix")?)
        .map_err(|_| "secret is not base64")?;
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(&received.body);
    let matched = signatures.split(' ').any(|entry| {
        let Some(("v1", sig)) = entry.split_once(',') else {
            return false;
        };
        let Ok(sig) = STANDARD.decode(sig) else {
            return false;
        };
        let mut mac = hmac::Hmac::<sha2_hmac::Sha256>::new_from_slice(&key).expect("key");
        mac.update(&signed);
        mac.verify_slice(&sig).is_ok()
    });
    if !matched {
        return Err("no signature matches".into());
    }
    serde_json::from_slice(&received.body).map_err(|e| format!("body is not JSON: {e}"))
}

async fn send(app: &TestApp, method: &str, token: &str, body: Option<Value>) -> TestResponse {
    let mut request = http::Request::builder()
        .method(method)
        .uri("/v1/webhooks")
        .header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(b) => {
            request = request.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&b).expect("json"))
        }
        None => Body::empty(),
    };
    app.call(request.body(body).expect("request")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_shows_the_secret_once_and_refuses_private_urls() {
    let app = app(&[
        ("FETCH_ALLOW", "127.0.0.1"),
        ("RATE_LIMIT_OCR_PER_MIN", "1000"),
    ])
    .await;
    let user = app.token("hooked");
    send(&app, "GET", &user, None)
        .await
        .assert_problem(404, "not-found");
    // A job may not name a callback before a secret exists to sign it.
    let r = post_raw(
        &app,
        "mode=async&callback_url=http://127.0.0.1:9/hook",
        Some(&user),
        samples::pdf(&[(samples::paragraph(54), PageKind::Text)]).expect("pdf"),
        "application/pdf",
    )
    .await;
    r.assert_problem(422, "webhook-not-registered");

    let created = send(
        &app,
        "PUT",
        &user,
        Some(json!({"url": "http://127.0.0.1:9/hook"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let secret = created.json["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(STANDARD.decode(&secret[6..]).expect("base64").len(), 32);
    let shown = send(&app, "GET", &user, None).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.json["url"], "http://127.0.0.1:9/hook");
    assert!(shown.json.get("secret").is_none(), "{}", shown.json);
    let again = send(&app, "PUT", &user, Some(json!({"url": null}))).await;
    assert_eq!(again.status, 200);
    assert!(again.json.get("secret").is_none(), "{}", again.json);
    assert_eq!(again.json["url"], Value::Null);
    // Now a job may name its own callback: as a multipart part (kept with
    // the job), but not with mode=sync, which makes no job.
    let pdf = samples::pdf(&[(samples::paragraph(57), PageKind::Text)]).expect("pdf");
    let callback = b"http://127.0.0.1:9/own".as_slice();
    let r = post_multipart(
        &app,
        "",
        &user,
        &[("file", &pdf), ("callback_url", callback)],
    )
    .await;
    assert_eq!(
        r.status, 202,
        "a callback makes a job even for one page: {}",
        r.json
    );
    let job_id = uuid::Uuid::parse_str(r.json["job_id"].as_str().expect("id")).expect("uuid");
    let kept: String =
        shared::db::query_scalar("SELECT url FROM webhook_callbacks WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(&app.sql)
            .await
            .expect("callback row");
    assert_eq!(kept, "http://127.0.0.1:9/own");
    post_multipart(
        &app,
        "mode=sync",
        &user,
        &[("file", &pdf), ("callback_url", callback)],
    )
    .await
    .assert_problem(400, "bad-request");
    post_multipart(
        &app,
        "",
        &user,
        &[
            ("file", &pdf),
            ("callback_url", b"https://169.254.169.254/".as_slice()),
        ],
    )
    .await
    .assert_problem(422, "url-refused");

    let rotated = send(&app, "PUT", &user, Some(json!({"rotate_secret": true}))).await;
    let new_secret = rotated.json["secret"].as_str().expect("rotated secret");
    assert_ne!(new_secret, secret);

    for url in [
        "https://169.254.169.254/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "http://93.184.215.14/hook",
        "https://metadata.google.internal/",
    ] {
        send(&app, "PUT", &user, Some(json!({"url": url})))
            .await
            .assert_problem(422, "url-refused");
    }
    send(&app, "PUT", &user, Some(json!({"uri": "x"})))
        .await
        .assert_problem(400, "bad-request");
    assert_eq!(send(&app, "DELETE", &user, None).await.status, 204);
    send(&app, "DELETE", &user, None)
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_failing_three_times_gets_one_accepted_delivery_with_the_same_id() {
    let pdf = samples::pdf(&[(samples::paragraph(55), PageKind::Text)]).expect("pdf");
    let server = peer::start(pdf, 3).await;
    let base = Duration::from_millis(500);
    let app = app(&[
        ("FETCH_ALLOW", "127.0.0.1"),
        ("WORKER_RETRY_BASE", "0.5"),
        ("RATE_LIMIT_OCR_PER_MIN", "1000"),
    ])
    .await;
    let user = app.token("hooked");
    // Only a secret is registered; the job names its own callback.
    let created = send(&app, "PUT", &user, Some(json!({}))).await;
    assert_eq!(created.status, 201, "{}", created.json);
    let secret = created.json["secret"].as_str().expect("secret").to_owned();

    // mode=auto, a one-page document: without a callback it would be a 200.
    let r = app
        .post_json(
            "/v1/ocr",
            Some(&user),
            &json!({"url": server.url("/doc.pdf"), "callback_url": server.url("/hook")}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let job_id = r.json["job_id"].as_str().expect("job id").to_owned();

    let started = Instant::now();
    let mut finished_at = None;
    while started.elapsed() < Duration::from_secs(30) {
        let summary = tick(&app).await;
        if finished_at.is_none() && summary.succeeded > 0 {
            finished_at = Some(Instant::now());
        }
        if server.received().iter().any(|d| d.status == 204) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let finished_at = finished_at.expect("the OCR job finished");
    let deliveries = server.received();
    assert_eq!(
        deliveries.iter().map(|d| d.status).collect::<Vec<_>>(),
        vec![500, 500, 500, 204],
        "three failures, then one accepted delivery"
    );
    let ids: Vec<&str> = deliveries
        .iter()
        .map(|d| d.headers["webhook-id"].to_str().expect("id"))
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(ids[0].starts_with("msg_"));
    let bodies: Vec<Value> = deliveries
        .iter()
        .map(|d| verify(&secret, d).expect("verified"))
        .collect();
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "same body every time"
    );
    let event = &bodies[0];
    assert_eq!(event["type"], "ocr.job.succeeded");
    assert_eq!(event["data"]["job_id"], job_id.as_str());
    assert_eq!(event["data"]["status"], "succeeded");
    // The data is the job's status document, as GET answers it.
    let status = app
        .get(&format!("/v1/ocr/jobs/{job_id}"), Some(&user))
        .await;
    assert_eq!(event["data"], status.json);
    // A wrong secret fails verification.
    let wrong = shared::webhooks::sign::generate_secret();
    assert!(verify(&wrong, &deliveries[0]).is_err());

    // Timing: the first try right after the job; after failed try n the
    // next waits the backoff, base · 2^(n-1) · [0.75, 1.25), plus tick slack.
    let mut previous = finished_at;
    let mut report = Vec::new();
    for (n, delivery) in deliveries.iter().enumerate() {
        let gap = delivery.at.saturating_duration_since(previous);
        report.push(format!("{:.0}ms", gap.as_secs_f64() * 1000.0));
        if n == 0 {
            assert!(gap < Duration::from_secs(2), "first try after {gap:?}");
        } else {
            let nominal = base * 2u32.pow(n as u32 - 1);
            let (low, high) = (nominal.mul_f64(0.75), nominal.mul_f64(1.25));
            assert!(
                gap >= low && gap < high + Duration::from_millis(700),
                "gap before try {} was {gap:?}, backoff [{low:?}, {high:?})",
                n + 1
            );
        }
        previous = delivery.at;
    }
    eprintln!(
        "webhook delivery gaps (job finished → try 1 → … → try 4): {}; total {:.0}ms",
        report.join(", "),
        deliveries[3].at.duration_since(finished_at).as_secs_f64() * 1000.0
    );
    // Delivered: no further tries.
    tick(&app).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    tick(&app).await;
    assert_eq!(server.received().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_fails_for_good_is_announced_to_the_registered_url() {
    let server = peer::start(Vec::new(), 0).await;
    let app = app(&[
        ("FETCH_ALLOW", "127.0.0.1"),
        ("RATE_LIMIT_OCR_PER_MIN", "1000"),
    ])
    .await;
    let user = app.token("hooked");
    let created = send(
        &app,
        "PUT",
        &user,
        Some(json!({"url": server.url("/hook")})),
    )
    .await;
    let secret = created.json["secret"].as_str().expect("secret").to_owned();
    // Another user's jobs are not announced to this endpoint.
    let other = app.token("other");
    let pdf = samples::pdf(&[(samples::paragraph(56), PageKind::Text)]).expect("pdf");
    let r = post_raw(
        &app,
        "mode=async",
        Some(&other),
        pdf.clone(),
        "application/pdf",
    )
    .await;
    assert_eq!(r.status, 202);

    let r = post_raw(&app, "mode=async", Some(&user), pdf, "application/pdf").await;
    assert_eq!(r.status, 202, "{}", r.json);
    let job_id = uuid::Uuid::parse_str(r.json["job_id"].as_str().expect("id")).expect("uuid");
    // Its upload vanishes: the job fails for good.
    shared::db::query("DELETE FROM uploads WHERE job_id = $1")
        .bind(job_id)
        .execute(&app.sql)
        .await
        .expect("delete upload");
    let first = tick(&app).await;
    assert_eq!(first.dead, 1, "{first:?}");
    if server.received().is_empty() {
        tick(&app).await;
    }
    let deliveries = server.received();
    assert_eq!(deliveries.len(), 1, "only the owner's job is announced");
    let event = verify(&secret, &deliveries[0]).expect("verified");
    assert_eq!(event["type"], "ocr.job.failed");
    assert_eq!(event["data"]["job_id"], job_id.to_string());
    assert!(
        event["data"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("expired")),
        "{event}"
    );
}
