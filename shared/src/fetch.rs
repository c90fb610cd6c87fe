//! Outbound HTTP on a caller's behalf (a document by URL, a webhook), behind
//! an SSRF guard: the URL's host is resolved here, every address checked
//! (`guard`), and the connection pinned to exactly the checked addresses, so
//! a DNS answer that changes between the check and the connect (rebinding)
//! reaches nothing new. No proxy; redirects are followed by hand, a bounded
//! number of times, each hop checked again. Plain `http://` and private
//! addresses only for hosts and networks in `FETCH_ALLOW`.

pub mod guard;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, LOCATION};
use url::{Host, Url};

use crate::Error;
use crate::config::FetchConfig;
use guard::Allow;

/// Why a fetch failed, in words safe to show the caller: a refused address
/// is "a private address", never which one.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the URL is not valid: {0}")]
    BadUrl(String),
    #[error("refused: only https URLs are fetched (http only for hosts in FETCH_ALLOW)")]
    Scheme,
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("the host `{0}` could not be resolved")]
    Dns(String),
    #[error("could not connect to `{0}`")]
    Connect(String),
    #[error("`{host}` did not answer within {} s", .after.as_secs_f32())]
    Timeout { host: String, after: Duration },
    #[error("`{host}` answered HTTP {status}")]
    Status { host: String, status: u16 },
    #[error("more than {0} redirects")]
    Redirects(u32),
    #[error("the document at the URL is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the connection to `{0}` failed while reading the answer")]
    Body(String),
}

impl FetchError {
    /// True when the failure is the URL's fault and no retry can help.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            FetchError::BadUrl(_)
                | FetchError::Scheme
                | FetchError::Refused(_)
                | FetchError::TooLarge { .. }
        )
    }
}

impl From<FetchError> for Error {
    fn from(e: FetchError) -> Error {
        let detail = e.to_string();
        let upstream = |slug, timed_out| Error::Upstream {
            slug,
            detail: detail.clone(),
            timed_out,
        };
        match e {
            FetchError::BadUrl(_) => Error::unprocessable("invalid-url", detail),
            FetchError::Scheme | FetchError::Refused(_) => {
                Error::unprocessable("url-refused", detail)
            }
            FetchError::TooLarge { limit } => Error::TooLarge { limit },
            FetchError::Dns(_) => upstream("fetch-dns", false),
            FetchError::Connect(_) => upstream("fetch-connect", false),
            FetchError::Timeout { .. } => upstream("fetch-timeout", true),
            FetchError::Status { .. } => upstream("fetch-status", false),
            FetchError::Redirects(_) => upstream("fetch-redirects", false),
            FetchError::Body(_) => upstream("fetch-failed", false),
        }
    }
}

const PRIVATE: &str = "private address";
const LOCAL_NAME: &str = "local or metadata host name";

/// A fetched document.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Bytes,
    /// What the server said; the document's type is still sniffed from its bytes.
    pub content_type: Option<String>,
}

/// Where one hop may connect: the checked addresses of a name, or nothing
/// to pin for an address literal.
struct Target {
    host: String,
    pin: Option<(String, Vec<SocketAddr>)>,
}

/// Fetches under the guard. Cheap to build; holds no connections.
#[derive(Debug, Clone)]
pub struct Fetcher {
    config: FetchConfig,
    allow: Allow,
}

impl Fetcher {
    pub fn new(config: &FetchConfig) -> Fetcher {
        Fetcher {
            config: config.clone(),
            allow: Allow::new(config.allow.clone()),
        }
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Parses `raw` and checks it as a fetch would (DNS included), connecting
    /// to nothing: for URLs kept for later (callbacks).
    pub async fn check(&self, raw: &str) -> Result<Url, FetchError> {
        let url = parse(raw)?;
        tokio::time::timeout(self.config.connect_timeout, self.vet(&url))
            .await
            .map_err(|_| FetchError::Timeout {
                host: host_of(&url),
                after: self.config.connect_timeout,
            })??;
        Ok(url)
    }

    /// GETs `raw`, following up to `FETCH_MAX_REDIRECTS` redirects, the body
    /// streamed and cut at `max` bytes, all within `FETCH_TIMEOUT_SECS`.
    pub async fn get(&self, raw: &str, max: usize) -> Result<Fetched, FetchError> {
        let url = parse(raw)?;
        let host = host_of(&url);
        let after = self.config.timeout;
        tokio::time::timeout(after, self.get_following(url, max))
            .await
            .map_err(|_| FetchError::Timeout { host, after })?
    }

    async fn get_following(&self, mut url: Url, max: usize) -> Result<Fetched, FetchError> {
        let mut hops = 0;
        loop {
            let target = self.vet(&url).await?;
            let client = self.client(&target)?;
            let mut response = client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| self.failed(&target.host, e))?;
            let status = response.status();
            if status.is_redirection() {
                if hops >= self.config.max_redirects {
                    return Err(FetchError::Redirects(self.config.max_redirects));
                }
                hops += 1;
                let next = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(FetchError::Status {
                        host: target.host.clone(),
                        status: status.as_u16(),
                    })?;
                url = url
                    .join(next)
                    .map_err(|e| FetchError::BadUrl(format!("redirect target: {e}")))?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status {
                    host: target.host,
                    status: status.as_u16(),
                });
            }
            let declared = response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if declared.is_some_and(|n| n > max as u64) {
                return Err(FetchError::TooLarge { limit: max });
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut bytes = BytesMut::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| self.failed(&target.host, e))?
            {
                if bytes.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge { limit: max });
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                bytes: bytes.freeze(),
                content_type,
            });
        }
    }

    /// POSTs `body` to `raw` without following redirects (a webhook), within
    /// `timeout`. Returns the receiver's status.
    pub async fn post(
        &self,
        raw: &str,
        headers: HeaderMap,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<u16, FetchError> {
        let url = parse(raw)?;
        let host = host_of(&url);
        let attempt = async {
            let target = self.vet(&url).await?;
            let client = self.client(&target)?;
            let response = client
                .post(url.clone())
                .headers(headers)
                .body(body)
                .send()
                .await
                .map_err(|e| self.failed(&target.host, e))?;
            Ok(response.status().as_u16())
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .map_err(|_| FetchError::Timeout {
                host,
                after: timeout,
            })?
    }

    /// The guard: scheme, name and every resolved address.
    async fn vet(&self, url: &Url) -> Result<Target, FetchError> {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(FetchError::Scheme),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| FetchError::BadUrl("no port".into()))?;
        let host_text = host_of(url);
        let (allowed, pin) = match url.host() {
            None => return Err(FetchError::BadUrl("the URL names no host".into())),
            Some(Host::Ipv4(v4)) => (self.checked_ip(IpAddr::V4(v4))?, None),
            Some(Host::Ipv6(v6)) => (self.checked_ip(IpAddr::V6(v6))?, None),
            Some(Host::Domain(name)) => {
                let name_allowed = self.allow.host(name);
                if !name_allowed && guard::refused_name(name) {
                    return Err(FetchError::Refused(LOCAL_NAME));
                }
                // No lookup for an http URL nothing could allow.
                if !https && !name_allowed && !self.allow.has_networks() {
                    return Err(FetchError::Scheme);
                }
                let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
                    .await
                    .map_err(|_| FetchError::Dns(name.to_owned()))?
                    .collect();
                if addrs.is_empty() {
                    return Err(FetchError::Dns(name.to_owned()));
                }
                let mut all_allowed = name_allowed;
                if !name_allowed {
                    all_allowed = true;
                    for addr in &addrs {
                        all_allowed &= self.checked_ip(addr.ip())?;
                    }
                }
                (all_allowed, Some((name.to_owned(), addrs)))
            }
        };
        if !https && !allowed {
            return Err(FetchError::Scheme);
        }
        Ok(Target {
            host: host_text,
            pin,
        })
    }

    /// Ok(true) when `FETCH_ALLOW` covers `ip`, Ok(false) when it is public,
    /// Err when it is refused.
    fn checked_ip(&self, ip: IpAddr) -> Result<bool, FetchError> {
        if self.allow.ip(ip) {
            return Ok(true);
        }
        match guard::refused(guard::canonical(ip)).or(guard::refused(ip)) {
            Some(_) => Err(FetchError::Refused(PRIVATE)),
            None => Ok(false),
        }
    }

    /// A client for one hop: no proxy, no redirects, its name pinned to the
    /// checked addresses.
    fn client(&self, target: &Target) -> Result<reqwest::Client, FetchError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.config.connect_timeout)
            .user_agent(concat!("folio/", env!("CARGO_PKG_VERSION")));
        if let Some((name, addrs)) = &target.pin {
            builder = builder.resolve_to_addrs(name, addrs);
        }
        builder.build().map_err(|e| {
            tracing::error!(error = %e, "fetch: the HTTP client could not be built");
            FetchError::Connect(target.host.clone())
        })
    }

    fn failed(&self, host: &str, e: reqwest::Error) -> FetchError {
        tracing::info!(error = %e, host, "fetch failed");
        if e.is_timeout() {
            FetchError::Timeout {
                host: host.to_owned(),
                after: self.config.connect_timeout,
            }
        } else if e.is_connect() {
            FetchError::Connect(host.to_owned())
        } else {
            FetchError::Body(host.to_owned())
        }
    }
}

fn parse(raw: &str) -> Result<Url, FetchError> {
    let raw = raw.trim();
    if raw.len() > 8192 {
        return Err(FetchError::BadUrl("longer than 8192 characters".into()));
    }
    Url::parse(raw).map_err(|e| FetchError::BadUrl(e.to_string()))
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_owned()
}
