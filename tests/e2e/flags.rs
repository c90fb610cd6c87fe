//! Feature flags across processes: two running `folio-local` instances, a flag
//! changed through one of them, and the other changing behaviour within
//! seconds, without a restart.

use std::time::{Duration, Instant};

use folio_e2e::{Running, free_port};
use folio_testing::TEST_JWT_SECRET;
use serde_json::json;

use crate::World;

/// Longest a change may take to reach another instance (`FLAGS_REFRESH` is
/// 2 s by default; the rest is slack for a loaded machine).
const REACH: Duration = Duration::from_secs(8);

async fn put_flag(client: &reqwest::Client, on: &Running, token: &str, name: &str, enabled: bool) {
    let r = client
        .put(on.url(&format!("/v1/admin/flags/{name}")))
        .bearer_auth(token)
        .json(&json!({"enabled": enabled}))
        .send()
        .await
        .expect("PUT flag");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

/// `GET /v1/ocr/documents/{unknown}/pdf`: 404 while the searchable PDF is on
/// (no such document), 422 `feature-disabled` while it is off.
async fn pdf_status(client: &reqwest::Client, on: &Running, token: &str) -> (u16, String) {
    let r = client
        .get(on.url(&format!("/v1/ocr/documents/{}/pdf", uuid::Uuid::now_v7())))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET pdf");
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    (status, body["type"].as_str().unwrap_or_default().to_owned())
}

/// Polls `on` until the searchable PDF answers `want`; returns how long it took.
async fn until(client: &reqwest::Client, on: &Running, token: &str, want: u16) -> Duration {
    let started = Instant::now();
    loop {
        let (status, slug) = pdf_status(client, on, token).await;
        if status == want {
            if want == 422 {
                assert!(slug.ends_with("/feature-disabled"), "{slug}");
            }
            return started.elapsed();
        }
        assert!(
            started.elapsed() < REACH,
            "still {status} {slug} after {:?}; log:\n{}",
            started.elapsed(),
            on.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_changed_through_one_instance_changes_another_within_seconds_without_restart() {
    let world = World::new().await;
    let vars = world.vars(&[("FOLIO_LOCAL_TICK_EVERY", "60s")]);
    let mut a = Running::start("folio-local", free_port(), &vars, &[]);
    let mut b = Running::start("folio-local", free_port(), &vars, &[]);
    a.wait_ready().await;
    b.wait_ready().await;
    let client = reqwest::Client::new();
    let admin = shared::auth::mint_hs256_with_roles(
        TEST_JWT_SECRET,
        "root",
        &["admin"],
        Duration::from_secs(600),
    )
    .expect("admin token");
    let user = shared::auth::mint_hs256(TEST_JWT_SECRET, "reader", Duration::from_secs(600))
        .expect("token");

    // Both instances have read the flags (on by default) before the change.
    assert_eq!(pdf_status(&client, &a, &user).await.0, 404);
    assert_eq!(pdf_status(&client, &b, &user).await.0, 404);

    put_flag(&client, &a, &admin, "searchable_pdf", false).await;
    let reached_b = until(&client, &b, &user, 422).await;
    assert_eq!(
        pdf_status(&client, &a, &user).await.0,
        422,
        "the writer at once"
    );

    put_flag(&client, &b, &admin, "searchable_pdf", true).await;
    let reached_a = until(&client, &a, &user, 404).await;
    eprintln!("a flag change reached the other instance in {reached_b:?} and {reached_a:?}");

    // Async OCR behind its flag, on a live instance: mode=async is refused.
    put_flag(&client, &a, &admin, "async_ocr", false).await;
    let started = Instant::now();
    loop {
        let r = client
            .post(b.url("/v1/ocr?mode=async"))
            .bearer_auth(&user)
            .header("content-type", "application/pdf")
            .body(b"%PDF-1.4\n%%EOF\n".to_vec())
            .send()
            .await
            .expect("POST ocr");
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        if status == 422
            && body["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("/feature-disabled"))
        {
            break;
        }
        assert!(started.elapsed() < REACH, "still {status} {body}");
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
}
