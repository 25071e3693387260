//! What every HTTP client here shares: one `reqwest::Client` and the classification of failures.

use std::time::Duration;

/// Why an HTTP call did not give the expected answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    /// Nothing listens there (connection refused, no route, DNS failure).
    #[error("cannot connect to {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The server accepted the connection but did not answer in time.
    #[error("no answer from {url} within {}", humantime::format_duration(*.after))]
    Timeout { url: String, after: Duration },
    /// Something answers, but it is not the service we expected.
    #[error("{url} is not {expected}: {detail}")]
    WrongService { url: String, expected: &'static str, detail: String },
    /// The service answered with an error status.
    #[error("{url} answered {status}: {message}")]
    Status { url: String, status: u16, kind: Option<String>, message: String },
    /// The answer could not be decoded.
    #[error("{url} sent an answer ifctl cannot read: {detail}")]
    Decode { url: String, detail: String },
    /// The data changed under a paged read faster than the read could follow.
    #[error("{detail}")]
    Changing { detail: String },
    /// The TLS handshake failed: the server's certificate was refused (named), or the port does
    /// not speak TLS.
    #[error("{url}: {what}")]
    Tls { url: String, what: String, detail: String },
    /// The configured access cannot be used (a CA or token file unreadable, a bad header).
    #[error("{detail}")]
    Setup { detail: String },
}

impl HttpError {
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The HTTP client of a probe: connection reuse across rounds, one deadline for connect and
/// answer, no proxy.
pub fn client(timeout: Duration) -> reqwest::Client {
    client_with(timeout, timeout)
}

/// A client for bulk work (snapshots): a short connect deadline, a long one per request.
pub fn client_with(connect: Duration, request: Duration) -> reqwest::Client {
    builder(connect, request).build().expect("the HTTP client configuration is static and valid")
}

fn builder(connect: Duration, request: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("ifctl/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect)
        .timeout(request)
        .pool_idle_timeout(Duration::from_secs(30))
}

/// Maps a transport error to the kind that matters to an operator.
pub fn transport_error(url: &str, err: &reqwest::Error, timeout: Duration) -> HttpError {
    if err.is_timeout() {
        return HttpError::Timeout { url: url.to_string(), after: timeout };
    }
    let mut detail = err.to_string();
    let mut whole = detail.clone();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        detail = inner.to_string();
        whole.push_str(": ");
        whole.push_str(&detail);
        source = inner.source();
    }
    if let Some((what, _)) = super::tls::certificate_problem(&whole, "ca_file") {
        return HttpError::Tls { url: url.to_string(), what, detail: whole };
    }
    if err.is_connect() {
        HttpError::Unreachable { url: url.to_string(), detail }
    } else {
        HttpError::Decode { url: url.to_string(), detail }
    }
}

/// How to reach a server beyond its URL: a CA to trust (for `https` with a private CA) and a
/// header carrying a credential (a token, an API key), whose value never prints.
#[derive(Clone, Default)]
pub struct Access {
    header: Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    ca: Option<reqwest::Certificate>,
    /// Why the configured access cannot be used; every request then fails with it.
    error: Option<String>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("header", &self.header.as_ref().map(|(name, _)| name))
            .field("ca", &self.ca.is_some())
            .field("error", &self.error)
            .finish()
    }
}

impl Access {
    /// `ca_file` (PEM) to trust besides the system's roots (`ca_key` names its setting), and a
    /// credential sent as `header: value` on every request.
    pub fn new(ca_file: Option<&std::path::Path>, ca_key: &str, credential: Option<(&str, String)>) -> Access {
        let mut access = Access::default();
        if let Some(path) = ca_file {
            let ca = std::fs::read(path)
                .map_err(|e| format!("cannot read {ca_key} `{}`: {e}", path.display()))
                .and_then(|pem| super::tls::check_pem_certificate(&pem, ca_key, path).map(|()| pem))
                .and_then(|pem| {
                    reqwest::Certificate::from_pem(&pem)
                        .map_err(|e| format!("{ca_key} `{}` is not a PEM certificate: {e}", path.display()))
                });
            match ca {
                Ok(ca) => access.ca = Some(ca),
                Err(e) => access.error = Some(e),
            }
        }
        if let Some((name, value)) = credential {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes());
            let value = reqwest::header::HeaderValue::from_str(&value);
            match (name, value) {
                (Ok(name), Ok(mut value)) => {
                    value.set_sensitive(true);
                    access.header = Some((name, value));
                }
                _ if access.error.is_some() => {}
                _ => {
                    access.error = Some(
                        "the configured token cannot be sent as an HTTP header (a newline or control character in it?)"
                            .into(),
                    )
                }
            }
        }
        access
    }

    /// Access that cannot be used, for this reason.
    pub fn failed(detail: String) -> Access {
        Access { error: Some(detail), ..Access::default() }
    }

    /// A client that trusts the CA (see [`client_with`]).
    pub fn client(&self, connect: Duration, request: Duration) -> reqwest::Client {
        let mut builder = builder(connect, request);
        if let Some(ca) = &self.ca {
            builder = builder.add_root_certificate(ca.clone());
        }
        builder.build().expect("the HTTP client configuration is valid")
    }

    /// The request with the credential, or why the access cannot be used.
    pub fn apply(&self, request: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, HttpError> {
        if let Some(detail) = &self.error {
            return Err(HttpError::Setup { detail: detail.clone() });
        }
        Ok(match &self.header {
            Some((name, value)) => request.header(name.clone(), value.clone()),
            None => request,
        })
    }
}

/// True when a body looks like an HTML page rather than an API answer.
pub fn looks_like_html(content_type: Option<&str>, body: &[u8]) -> bool {
    if content_type.is_some_and(|ct| ct.contains("text/html")) {
        return true;
    }
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).map_or(&body[..0], |i| &body[i..]);
    let head = String::from_utf8_lossy(&start[..start.len().min(64)]).to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// Largest Content-Length trusted for sizing the buffer up front (a liar gets a normal growing one).
const MAX_PRESIZE: u64 = 64 << 20;

/// A GET or POST answer read whole: status, content type and body.
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_html(&self) -> bool {
        looks_like_html(self.content_type.as_deref(), &self.body)
    }
}

/// Sends a request and reads the whole answer, classifying transport failures.
pub async fn send(request: reqwest::RequestBuilder, url: &str, timeout: Duration) -> Result<Answer, HttpError> {
    let response = request.send().await.map_err(|e| transport_error(url, &e, timeout))?;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(String::from);
    // Read into one buffer of the announced size: no doubling reallocations and no final copy,
    // so a page of records costs its size once (bulk reads hold several at a time).
    let mut response = response;
    let announced = response.content_length().unwrap_or(0).min(MAX_PRESIZE) as usize;
    let mut body = Vec::with_capacity(announced);
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(url, &e, timeout))? {
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, content_type, body })
}
