//! One request to the API server, the way kubectl makes it: kube's client (its base-URI,
//! auth and header layers) over a rustls connector with kubectl's certificate check
//! ([`super::tls::Verifier`]), retried on 429, 5xx and broken connections, waiting as long as
//! `Retry-After` says when the server says it (client-go rest/request.go `checkWait`), never
//! past the run's deadline; the answer read with a size cap, so that no response makes memory
//! grow without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::BodyExt as _;
use kube::client::{Body, ClientBuilder, ConfigExt as _};
use tower::{BoxError, ServiceBuilder};

use super::error::Error;
use super::tls::Verifier;
use crate::redact::redact_url_userinfo;

/// Tries per request when the server answers 429 or 5xx or the connection fails.
pub const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// An error answer from the server (after retries), for one request.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub code: u16,
    pub reason: String,
    pub message: String,
    /// Requests made for this answer (retries included).
    pub attempts: u32,
}

/// What one request came back with.
#[derive(Debug)]
pub enum Reply {
    Body(Vec<u8>),
    Refused(Refusal),
    /// The answer was larger than the cap given; nothing of it was kept.
    TooLarge,
}

/// A client, where it points, and the count of requests it made.
pub struct Transport {
    client: kube::Client,
    pub server: String,
    default_namespace: String,
    requests: AtomicUsize,
    deadline: Instant,
}

impl Transport {
    /// Makes the client for `config`. No request is made.
    pub fn new(config: kube::Config, deadline: Instant) -> Result<Self, Error> {
        let server = redact_url_userinfo(config.cluster_url.to_string().trim_end_matches('/'));
        let client_error = |source| Error::Client {
            server: server.clone(),
            source,
        };
        let mut tls = config.rustls_client_config().map_err(client_error)?;
        if let Some(roots) = config
            .root_cert
            .as_ref()
            .filter(|_| !config.accept_invalid_certs)
        {
            let mut store = rustls::RootCertStore::empty();
            for der in roots {
                store
                    .add(rustls::pki_types::CertificateDer::from(der.clone()))
                    .map_err(|e| Error::Tls {
                        server: server.clone(),
                        message: format!("a certificate-authority certificate is unusable: {e}"),
                    })?;
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(store),
                provider,
            )
            .build()
            .map_err(|e| Error::Tls {
                server: server.clone(),
                message: e.to_string(),
            })?;
            tls.dangerous()
                .set_certificate_verifier(Arc::new(Verifier::new(inner, roots.clone())));
        }
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let https = match &config.tls_server_name {
            Some(name) => {
                let name = rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| {
                    Error::Tls {
                        server: server.clone(),
                        message: format!("tls-server-name {name:?}: {e}"),
                    }
                })?;
                builder
                    .with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
                    .enable_http1()
                    .wrap_connector(http)
            }
            None => builder.enable_http1().wrap_connector(http),
        };
        let hyper: hyper_util::client::legacy::Client<_, Body> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        let service = ServiceBuilder::new()
            .layer(config.base_uri_layer())
            .option_layer(config.auth_layer().map_err(client_error)?)
            .layer(config.extra_headers_layer().map_err(client_error)?)
            .map_err(BoxError::from)
            .service(hyper);
        let client = ClientBuilder::new(service, config.default_namespace.clone()).build();
        Ok(Self {
            client,
            server,
            default_namespace: config.default_namespace,
            requests: AtomicUsize::new(0),
            deadline,
        })
    }

    /// The context's namespace, where kubectl puts an object that names none.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// Requests made so far (each retry counts).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends the request `make` builds, with retries, and reads at most `cap` bytes of the
    /// answer. The outer error ends the run (the cluster cannot be reached); the reply is the
    /// server's answer about this request.
    pub async fn send(
        &self,
        what: &str,
        make: impl Fn() -> Result<http::Request<Vec<u8>>, String>,
        cap: usize,
    ) -> Result<Reply, Error> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let request = match make() {
                Ok(r) => r.map(Body::from),
                Err(e) => {
                    return Ok(Reply::Refused(Refusal {
                        code: 0,
                        reason: String::new(),
                        message: format!("cannot build the request: {e}"),
                        attempts: 0,
                    }));
                }
            };
            self.requests.fetch_add(1, Ordering::Relaxed);
            let failure = match self.client.send(request).await {
                Err(e) => Failure::Connection(e),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    match read_capped(response, cap).await {
                        Err(e) => Failure::Connection(e),
                        Ok(None) if status < 300 => return Ok(Reply::TooLarge),
                        // An error answer larger than the cap: its status says enough.
                        Ok(body) => {
                            let body = body.unwrap_or_default();
                            if status < 300 {
                                return Ok(Reply::Body(body));
                            }
                            let refusal = Refusal {
                                attempts: attempt,
                                ..refusal(status, &body)
                            };
                            if status != 429 && status < 500 {
                                return Ok(Reply::Refused(refusal));
                            }
                            Failure::Status(refusal, retry_after)
                        }
                    }
                }
            };
            if let Some(refusal) = failure
                .retry(self, what, &mut attempt, &mut backoff)
                .await?
            {
                return Ok(Reply::Refused(refusal));
            }
        }
    }
}

enum Failure {
    /// A retryable answer (429, 5xx) and its `Retry-After` in seconds.
    Status(Refusal, Option<u64>),
    Connection(kube::Error),
}

impl Failure {
    /// Waits before the next attempt (`Ok(None)`), or says why there is none: `Ok(Some)` is
    /// the server's last answer, `Err` a connection that cannot be made.
    async fn retry(
        self,
        t: &Transport,
        what: &str,
        attempt: &mut u32,
        backoff: &mut Duration,
    ) -> Result<Option<Refusal>, Error> {
        let wait = match &self {
            // client-go waits exactly as long as the server asks, on 429 and 5xx alike.
            Failure::Status(_, Some(secs)) => Duration::from_secs(*secs),
            _ => *backoff,
        };
        let tls = match &self {
            Failure::Connection(e) => tls_cause(e),
            Failure::Status(..) => None,
        };
        let remaining = t.deadline.saturating_duration_since(Instant::now());
        let exhausted = *attempt >= ATTEMPTS || tls.is_some();
        if !exhausted && wait < remaining {
            tokio::time::sleep(wait).await;
            *backoff *= 2;
            *attempt += 1;
            return Ok(None);
        }
        match self {
            Failure::Status(mut r, Some(secs)) if !exhausted => {
                r.message = format!(
                    "{}{}the server asked to retry after {secs} s, past the end of --timeout",
                    r.message,
                    if r.message.is_empty() { "" } else { "; " },
                );
                Ok(Some(r))
            }
            Failure::Status(r, _) => Ok(Some(r)),
            Failure::Connection(source) => Err(match tls {
                Some(message) => Error::Tls {
                    server: t.server.clone(),
                    message,
                },
                None => Error::Unreachable {
                    server: t.server.clone(),
                    request: what.to_owned(),
                    attempts: *attempt,
                    source,
                },
            }),
        }
    }
}

/// Reads the body, or None when it would pass `cap` (a `Content-Length` over it is refused
/// before anything is read).
async fn read_capped(
    response: http::Response<Body>,
    cap: usize,
) -> Result<Option<Vec<u8>>, kube::Error> {
    let declared = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Ok(None);
    }
    let mut body = response.into_body();
    let mut out = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > cap {
                return Ok(None);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Some(out))
}

/// The server's `Status` answer, or its status code and text when it sent something else
/// (the plain-text `404 page not found` of a group it does not serve).
fn refusal(code: u16, body: &[u8]) -> Refusal {
    #[derive(serde::Deserialize)]
    struct Status {
        #[serde(default)]
        reason: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Status>(body) {
        Ok(s) => Refusal {
            code,
            reason: s.reason,
            message: s.message,
            attempts: 1,
        },
        Err(_) => Refusal {
            code,
            reason: String::new(),
            message: String::from_utf8_lossy(&body[..body.len().min(200)])
                .trim()
                .to_owned(),
            attempts: 1,
        },
    }
}

/// The TLS failure behind a connection error, in rustls' words: retrying cannot fix it.
fn tls_cause(e: &kube::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(t) = c.downcast_ref::<rustls::Error>() {
            return Some(describe_tls(t));
        }
        // An `io::Error` wrapping another error reports that error's source, not the error:
        // its payload is the next link.
        cause = match c
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => c.source(),
        };
    }
    None
}

fn describe_tls(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(_) => format!(
            "the server's certificate is not trusted ({e}): check certificate-authority(-data) of the cluster in the kubeconfig"
        ),
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_the_servers_words() {
        let r = refusal(
            403,
            br#"{"kind":"Status","reason":"Forbidden","message":"nope","code":403}"#,
        );
        assert_eq!(
            (r.code, r.reason.as_str(), r.message.as_str()),
            (403, "Forbidden", "nope")
        );
        let r = refusal(404, b"404 page not found\n");
        assert_eq!(r.message, "404 page not found");
    }
}
