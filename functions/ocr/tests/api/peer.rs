//! A real HTTP server on 127.0.0.1 for the URL-input and webhook tests: it
//! serves documents, redirects and failures, and records webhook deliveries
//! (failing the first few on purpose).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
}

#[derive(Clone)]
struct Peer {
    document: Arc<Vec<u8>>,
    received: Arc<Mutex<Vec<Received>>>,
    fail_first: usize,
}

pub struct Server {
    pub base: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

/// Serves `document` at `/doc.pdf` (also streamed without a length at
/// `/chunked.pdf`), redirects, failures and a receiver at `/hook` that
/// answers 500 to its first `fail_first` requests, then 204.
pub async fn start(document: Vec<u8>, fail_first: usize) -> Server {
    let received = Arc::new(Mutex::new(Vec::new()));
    let peer = Peer {
        document: Arc::new(document),
        received: received.clone(),
        fail_first,
    };
    let router = Router::new()
        .route("/doc.pdf", get(doc))
        .route("/chunked.pdf", get(chunked))
        .route("/hop/{n}", get(hop))
        .route("/loop", get(|| async { redirect("/loop") }))
        .route(
            "/to-metadata",
            get(|| async { redirect("http://169.254.169.254/latest/meta-data/") }),
        )
        .route(
            "/to-mapped",
            get(|| async { redirect("http://[::ffff:a9fe:a9fe]/computeMetadata/v1/") }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route("/hook", post(hook))
        .with_state(peer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    Server {
        base: format!("http://127.0.0.1:{}", addr.port()),
        received,
    }
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_owned())]).into_response()
}

async fn doc(State(peer): State<Peer>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/pdf")],
        peer.document.as_ref().clone(),
    )
        .into_response()
}

async fn chunked(State(peer): State<Peer>) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = peer
        .document
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    axum::body::Body::from_stream(futures::stream::iter(chunks)).into_response()
}

/// `/hop/3` → `/hop/2` → `/hop/1` → `/hop/0` → the document.
async fn hop(Path(n): Path<u32>) -> Response {
    if n == 0 {
        redirect("/doc.pdf")
    } else {
        redirect(&format!("/hop/{}", n - 1))
    }
}

async fn hook(State(peer): State<Peer>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut received = peer.received.lock().expect("lock");
    let status = if received.len() < peer.fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    received.push(Received {
        at: Instant::now(),
        headers,
        body: body.to_vec(),
        status: status.as_u16(),
    });
    status
}

/// Makes `pdf` at least `size` bytes long with an incremental update that
/// adds one unreferenced stream of random (incompressible) bytes: the pages
/// and their text are unchanged.
pub fn padded(pdf: &[u8], size: usize) -> Vec<u8> {
    use rand::RngCore;
    let text = String::from_utf8_lossy(pdf);
    let startxref = text.rfind("startxref").expect("startxref");
    let prev: usize = text[startxref + 9..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("xref offset");
    let trailer = &text[text.rfind("trailer").expect("a classic trailer")..startxref];
    let field = |name: &str| -> String {
        let at = trailer.find(name).expect(name) + name.len();
        trailer[at..]
            .trim_start()
            .split(['/', '>'])
            .next()
            .expect("value")
            .trim()
            .to_owned()
    };
    let objects: usize = field("/Size").parse().expect("size");
    let root = field("/Root");
    let mut out = pdf.to_vec();
    let fill = size.saturating_sub(pdf.len());
    let mut noise = vec![0u8; fill];
    rand::rng().fill_bytes(&mut noise);
    out.extend_from_slice(b"\n");
    let offset = out.len();
    out.extend_from_slice(format!("{objects} 0 obj\n<< /Length {fill} >>\nstream\n").as_bytes());
    out.extend_from_slice(&noise);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    let xref = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \n{objects} 1\n{offset:010} 00000 n \ntrailer\n<< /Size {} /Root {root} /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n",
            objects + 1
        )
        .as_bytes(),
    );
    out
}
