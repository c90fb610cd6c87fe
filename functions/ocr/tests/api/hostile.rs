//! Every hostile input gets its 4xx problem+json, never a 5xx, and the process
//! keeps serving afterwards.

use axum::body::Body;
use folio_testing::samples::{self, PageKind};

use super::*;

struct Case {
    name: &'static str,
    query: &'static str,
    body: Vec<u8>,
    status: u16,
    slug: &'static str,
    /// A word the problem's detail must contain.
    detail: &'static str,
}

fn case(name: &'static str, body: Vec<u8>, status: u16, slug: &'static str) -> Case {
    Case {
        name,
        query: "",
        body,
        status,
        slug,
        detail: "",
    }
}

fn cases() -> Vec<Case> {
    let text_pdf = samples::pdf(&[(samples::paragraph(31), PageKind::Text)]).expect("pdf");
    let jpeg = samples::jpeg(&scan_of(&samples::paragraph(32)), 85).expect("jpeg");
    let mut garbage_pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\n".to_vec();
    garbage_pdf.extend((0..20_000_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    garbage_pdf.extend_from_slice(b"\n%%EOF\n");
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0word/document.xml".to_vec();
    vec![
        case("empty body", Vec::new(), 400, "bad-request"),
        Case {
            detail: "truncated",
            ..case(
                "truncated PDF",
                text_pdf[..text_pdf.len() * 2 / 3].to_vec(),
                422,
                "broken-pdf",
            )
        },
        case("garbage PDF", garbage_pdf, 422, "broken-pdf"),
        case(
            "encrypted PDF",
            samples::encrypt_pdf(&text_pdf, "hunter2").expect("qpdf"),
            422,
            "encrypted-pdf",
        ),
        Case {
            detail: "1000 pages",
            ..case(
                "1,000-page PDF",
                samples::blank_pdf(1000, 612.0, 792.0).expect("pdf"),
                422,
                "too-many-pages",
            )
        },
        Case {
            detail: "dpi",
            ..case(
                "PDF with one enormous page",
                samples::blank_pdf(1, 14_400.0, 14_400.0).expect("pdf"),
                422,
                "too-many-pixels",
            )
        },
        case(
            "20,000 × 20,000 PNG",
            samples::huge_png(20_000, 20_000).expect("png"),
            422,
            "too-many-pixels",
        ),
        case(
            "PNG whose header claims 60,000 × 60,000",
            samples::lying_png(60_000, 60_000).expect("png"),
            422,
            "too-many-pixels",
        ),
        case(
            "PNG whose header claims more pixels than it holds",
            samples::lying_png(3_000, 3_000).expect("png"),
            422,
            "broken-image",
        ),
        case(
            "truncated JPEG",
            jpeg[..jpeg.len() / 2].to_vec(),
            422,
            "broken-image",
        ),
        Case {
            detail: "HTML",
            ..case(
                "HTML",
                b"<!doctype html><html><body><p>hello</p></body></html>".to_vec(),
                415,
                "unsupported-media-type",
            )
        },
        Case {
            detail: "SVG",
            ..case(
                "SVG",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"><text>hi</text></svg>".to_vec(),
                415,
                "unsupported-media-type",
            )
        },
        Case {
            detail: "ZIP",
            ..case("ZIP", zip, 415, "unsupported-media-type")
        },
        Case {
            detail: "plain text",
            ..case(
                "plain text",
                b"Dear reader, this is text.\n".to_vec(),
                415,
                "unsupported-media-type",
            )
        },
        Case {
            query: "lang=eng+klingon",
            detail: "installed: eng",
            ..case(
                "unknown language",
                text_pdf.clone(),
                422,
                "unknown-language",
            )
        },
        Case {
            query: "dpi=1200",
            ..case("dpi out of range", text_pdf.clone(), 400, "bad-request")
        },
        Case {
            query: "mode=later",
            ..case("unknown mode", text_pdf.clone(), 400, "bad-request")
        },
        Case {
            query: "force_ocr=perhaps",
            ..case("force_ocr not a boolean", text_pdf, 400, "bad-request")
        },
    ]
}

#[tokio::test]
async fn every_hostile_input_is_its_4xx_problem_and_the_process_keeps_serving() {
    // More requests than the per-user limit allows in a minute: the limit has
    // its own test (jobs.rs); here every input must reach the handler.
    let app = app(&[("RATE_LIMIT_OCR_PER_MIN", "0")]).await;
    let token = app.token("attacker");
    let mut failures = Vec::new();
    for case in cases() {
        let r = post_raw(
            &app,
            case.query,
            Some(&token),
            case.body,
            "application/octet-stream",
        )
        .await;
        let detail = r.json["detail"].as_str().unwrap_or_default();
        let ok = r.status.as_u16() == case.status
            && r.problem_slug() == Some(case.slug)
            && r.headers
                .get("content-type")
                .is_some_and(|v| v == "application/problem+json")
            && detail.contains(case.detail);
        if !ok {
            failures.push(format!("{}: {} {}", case.name, r.status, r.json));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Still serving, and nothing was stored on the way.
    let text = samples::paragraph(33);
    let pdf = samples::pdf(&[(text.clone(), PageKind::Text)]).expect("pdf");
    let r = post_raw(&app, "", Some(&token), pdf, "application/pdf").await;
    assert_cer_below(&text, &page_texts(&r)[0], 0.001);
    let stored: i64 = shared::db::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(&app.sql)
        .await
        .expect("count");
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_is_413_without_being_buffered_whole() {
    let app = app(&[("OCR_MAX_BYTES", "1048576")]).await;
    let token = app.token("u");
    // No Content-Length: the limit trips while reading, after about 1 MiB of
    // a body that would go on for 64 MiB.
    let chunks =
        futures::stream::iter((0..1024).map(|_| Ok::<_, std::io::Error>(vec![b'%'; 64 * 1024])));
    let request = http::Request::post("/v1/ocr")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from_stream(chunks))
        .expect("request");
    app.call(request).await.assert_problem(413, "too-large");
    // A declared length over the limit is refused before reading.
    let request = http::Request::post("/v1/ocr")
        .header("authorization", format!("Bearer {token}"))
        .header("content-length", "2000000")
        .body(Body::from(vec![0_u8; 2_000_000]))
        .expect("request");
    app.call(request).await.assert_problem(413, "too-large");
    // The same in a multipart part.
    let big = vec![b'%'; 1_100_000];
    post_multipart(&app, "", &token, &[("file", &big)])
        .await
        .assert_problem(413, "too-large");
    // Exactly at the limit is fine (and then refused for what it is).
    post_raw(&app, "", Some(&token), vec![b'x'; 1_048_576], "text/plain")
        .await
        .assert_problem(415, "unsupported-media-type");
}

#[tokio::test]
async fn a_multipart_body_without_a_file_part_or_with_a_broken_boundary_is_400() {
    let app = app(&[]).await;
    let token = app.token("u");
    let r = post_multipart(&app, "", &token, &[("document", b"%PDF-1.7".as_slice())]).await;
    r.assert_problem(400, "bad-request");
    assert!(
        r.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("`file`"))
    );
    let request = http::Request::post("/v1/ocr")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "multipart/form-data; boundary=abc")
        .body(Body::from(
            "--abc\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n%PDF",
        ))
        .expect("request");
    app.call(request).await.assert_problem(400, "bad-request");
    let request = http::Request::post("/v1/ocr")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "multipart/form-data")
        .body(Body::from("no boundary at all"))
        .expect("request");
    app.call(request).await.assert_problem(400, "bad-request");
}
