use std::time::Duration;

use folio_e2e::lambda_fake::{LambdaFake, http_api_event};
use folio_e2e::{Running, free_port};
use serde_json::json;

use crate::World;

#[tokio::test]
async fn the_health_binary_serves_api_gateway_events_through_the_lambda_runtime() {
    let world = World::new().await;
    let fake = LambdaFake::start().await;
    let mut vars = world.vars(&[]);
    vars.extend(fake.vars());
    // The port must not matter on Lambda: nothing may listen on it.
    let port = free_port();
    let mut function = Running::start("health", port, &vars, &[]);

    let ready = fake.push(http_api_event(
        "GET",
        "/health/ready",
        json!({"accept": "application/json"}),
        None,
    ));
    let answer = fake.answer(&ready, Duration::from_secs(15)).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let body: serde_json::Value =
        serde_json::from_str(answer["body"].as_str().expect("body")).expect("json body");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["checks"]["postgres"]["ok"], true);
    assert_eq!(body["checks"]["redis"]["ok"], true);
    assert!(
        answer["headers"]["x-request-id"].is_string(),
        "request id header: {answer}"
    );

    let missing = fake.push(http_api_event(
        "GET",
        "/nope",
        json!({"x-request-id": "lambda-42"}),
        None,
    ));
    let answer = fake.answer(&missing, Duration::from_secs(5)).await;
    assert_eq!(answer["statusCode"], 404);
    assert_eq!(
        answer["headers"]["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value =
        serde_json::from_str(answer["body"].as_str().expect("body")).expect("json body");
    assert_eq!(problem["request_id"], "lambda-42");

    assert!(fake.errors().is_empty(), "{:?}", fake.errors());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "on Lambda the binary must not open a port"
    );
    assert!(
        function.child.try_wait().expect("status").is_none(),
        "still polling for events"
    );
}

#[tokio::test]
async fn missing_lambda_variables_are_named_instead_of_panicking() {
    let world = World::new().await;
    let fake = LambdaFake::start().await;
    let mut vars = world.vars(&[]);
    vars.push(("AWS_LAMBDA_RUNTIME_API".to_owned(), fake.addr()));
    let (status, _, stderr_and_logs) = {
        let (status, out, err) = folio_e2e::run_to_end("health", &vars, &[]);
        (status, out.clone(), format!("{out}{err}"))
    };
    assert!(!status.success());
    assert!(
        stderr_and_logs.contains("AWS_LAMBDA_FUNCTION_NAME"),
        "{stderr_and_logs}"
    );
    assert!(!stderr_and_logs.contains("panicked"), "{stderr_and_logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ocr_binary_recognises_a_base64_image_sent_through_the_lambda_runtime() {
    use base64::Engine;
    use folio_testing::samples;

    let world = World::new().await;
    let fake = LambdaFake::start().await;
    let mut vars = world.vars(&[]);
    vars.extend(fake.vars());
    let _function = Running::start("ocr", free_port(), &vars, &[]);

    let text = samples::paragraph(51);
    let image = samples::render_text(&text, 150, samples::fitted_height(&text)).expect("render");
    let png = samples::png(&image).expect("png");
    let token = shared::auth::mint_hs256(
        folio_testing::TEST_JWT_SECRET,
        "lambda-user",
        Duration::from_secs(300),
    )
    .expect("token");
    let mut event = http_api_event(
        "POST",
        "/v1/ocr",
        json!({"authorization": format!("Bearer {token}"), "content-type": "image/png"}),
        Some(&base64::engine::general_purpose::STANDARD.encode(&png)),
    );
    event["isBase64Encoded"] = json!(true);
    let id = fake.push(event);
    let answer = fake.answer(&id, Duration::from_secs(60)).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let body: serde_json::Value =
        serde_json::from_str(answer["body"].as_str().expect("body")).expect("json body");
    assert_eq!(body["page_count"], 1);
    assert_eq!(body["pages"][0]["source"], "ocr");
    let recognised = body["text"].as_str().expect("text");
    let cer = shared::ocr::cer::cer(&text, recognised);
    assert!(cer < 0.02, "character error rate {cer}");
    assert_eq!(answer["headers"]["ratelimit-limit"], "10");
}
