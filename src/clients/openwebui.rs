//! A thin client for the OpenWebUI endpoints ifctl uses: readiness, sign-in and the model list.
//!
//! OpenWebUI answers unknown paths with its web app's `index.html` and status 200, so every call
//! here treats an HTML answer as "this is not the endpoint you think".

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::http::{self, HttpError};
use crate::config::Secret;

const EXPECTED: &str = "OpenWebUI's API";

#[derive(Debug, Clone)]
pub struct OpenWebUiClient {
    http: reqwest::Client,
    /// A private CA (or why it cannot be used).
    access: std::sync::Arc<http::Access>,
    base: String,
    timeout: Duration,
}

/// The times of a streamed completion.
#[derive(Debug, Clone, Copy)]
pub struct StreamTiming {
    pub first_token: Duration,
    pub total: Duration,
    /// Chunks that carried text.
    pub tokens: usize,
}

/// What `/ready` (or `/health/db` on versions without it) said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready {
        endpoint: &'static str,
    },
    /// 503: still starting, or its database is unavailable.
    NotReady {
        endpoint: &'static str,
        detail: String,
    },
}

impl OpenWebUiClient {
    pub fn new(http: reqwest::Client, url: &str, timeout: Duration) -> OpenWebUiClient {
        OpenWebUiClient { http, access: Default::default(), base: url.trim_end_matches('/').to_string(), timeout }
    }

    /// A client for `openwebui.url` that trusts `openwebui.ca_file` besides the system's roots; a
    /// CA that cannot be used makes every request fail with why.
    pub fn configured(config: &crate::config::OpenWebUiConfig, timeout: Duration) -> OpenWebUiClient {
        let access = http::Access::new(config.ca_file.as_deref(), "openwebui.ca_file", None);
        OpenWebUiClient {
            access: std::sync::Arc::new(access.clone()),
            ..OpenWebUiClient::new(access.client(timeout, timeout), &config.url, timeout)
        }
    }

    /// Every request goes out here.
    async fn send(&self, request: reqwest::RequestBuilder, url: &str) -> Result<http::Answer, HttpError> {
        http::send(self.access.apply(request)?, url, self.timeout).await
    }

    fn wrong(&self, url: &str, detail: impl Into<String>) -> HttpError {
        HttpError::WrongService { url: url.to_string(), expected: EXPECTED, detail: detail.into() }
    }

    /// `GET /ready`, falling back to `/health/db` when `/ready` is not a route (HTML or 404).
    pub async fn readiness(&self) -> Result<Readiness, HttpError> {
        let mut last_detail = String::new();
        for endpoint in ["/ready", "/health/db"] {
            let url = format!("{}{endpoint}", self.base);
            let answer = self.send(self.http.get(&url), &url).await?;
            if answer.is_html() {
                last_detail = format!("`{endpoint}` answers with an HTML page");
                continue;
            }
            match answer.status {
                200 => {
                    let body: serde_json::Value = serde_json::from_slice(&answer.body)
                        .map_err(|_| self.wrong(&url, format!("`{endpoint}` does not answer JSON")))?;
                    if body.get("status").and_then(|s| s.as_bool()) == Some(true) {
                        return Ok(Readiness::Ready { endpoint });
                    }
                    return Err(self.wrong(&url, format!("`{endpoint}` answered {body}, not {{\"status\":true}}")));
                }
                503 => return Ok(Readiness::NotReady { endpoint, detail: detail_of(&answer.body) }),
                404 | 405 => last_detail = format!("`{endpoint}` answers {}", answer.status),
                status => {
                    return Err(HttpError::Status {
                        url,
                        status,
                        kind: None,
                        message: String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]).trim().to_string(),
                    });
                }
            }
        }
        Err(self.wrong(&self.base, last_detail))
    }

    /// `POST /api/v1/auths/signin`: a fresh session token.
    pub async fn sign_in(&self, email: &Secret, password: &Secret) -> Result<Secret, HttpError> {
        let url = format!("{}/api/v1/auths/signin", self.base);
        let body = json!({"email": email.expose(), "password": password.expose()});
        let answer = self.send(self.http.post(&url).json(&body), &url).await?;
        if answer.is_html() {
            return Err(self.wrong(&url, "sign-in answers with an HTML page"));
        }
        if answer.status != 200 {
            return Err(HttpError::Status { url, status: answer.status, kind: None, message: detail_of(&answer.body) });
        }
        #[derive(Deserialize)]
        struct SignIn {
            token: String,
        }
        let signed: SignIn = serde_json::from_slice(&answer.body)
            .map_err(|e| HttpError::Decode { url: url.clone(), detail: e.to_string() })?;
        Ok(Secret::new(signed.token))
    }

    /// `GET /api/models` with a bearer token: the ids of the models users can chat with.
    pub async fn models(&self, token: &Secret) -> Result<Vec<String>, HttpError> {
        let url = format!("{}/api/models", self.base);
        let request = self.http.get(&url).bearer_auth(token.expose());
        let answer = self.send(request, &url).await?;
        if answer.is_html() {
            return Err(self.wrong(&url, "`/api/models` answers with an HTML page"));
        }
        if answer.status != 200 {
            return Err(HttpError::Status { url, status: answer.status, kind: None, message: detail_of(&answer.body) });
        }
        #[derive(Deserialize)]
        struct Model {
            id: String,
        }
        #[derive(Deserialize)]
        struct Models {
            data: Vec<Model>,
        }
        let models: Models = serde_json::from_slice(&answer.body)
            .map_err(|e| HttpError::Decode { url: url.clone(), detail: e.to_string() })?;
        Ok(models.data.into_iter().map(|m| m.id).collect())
    }

    /// A streamed completion through OpenWebUI (`/api/chat/completions`, `"stream": true`), timed
    /// to its first non-empty token and to the end of the stream (`data: [DONE]`, or its close).
    pub async fn stream_timing(
        &self,
        token: &Secret,
        model: &str,
        prompt: &str,
        max_tokens: u32,
        timeout: Duration,
    ) -> Result<StreamTiming, HttpError> {
        let url = format!("{}/api/chat/completions", self.base);
        let body = json!({"model": model, "stream": true, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": prompt}]});
        // The client's deadline is a health check's; a model gets the probe's own.
        let request =
            self.access.apply(self.http.post(&url).bearer_auth(token.expose()).json(&body).timeout(timeout))?;
        let started = std::time::Instant::now();
        let mut response = request.send().await.map_err(|e| http::transport_error(&url, &e, timeout))?;
        let status = response.status().as_u16();
        if status != 200 {
            let text = response.text().await.unwrap_or_default();
            return Err(HttpError::Status {
                url,
                status,
                kind: None,
                message: text.chars().take(200).collect::<String>().trim().to_string(),
            });
        }
        let mut pending: Vec<u8> = Vec::new();
        let mut first_token = None;
        let mut tokens = 0usize;
        'stream: while let Some(chunk) = response.chunk().await.map_err(|e| http::transport_error(&url, &e, timeout))? {
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let Some(data) = line.trim().strip_prefix("data:").map(str::trim) else { continue };
                if data == "[DONE]" {
                    break 'stream;
                }
                let Ok(event) = serde_json::from_str::<serde_json::Value>(data) else { continue };
                if let Some(error) = event.get("error") {
                    return Err(HttpError::Status { url, status: 200, kind: None, message: error.to_string() });
                }
                let piece = event["choices"][0]["delta"]["content"].as_str().unwrap_or("");
                if !piece.is_empty() {
                    tokens += 1;
                    first_token.get_or_insert_with(|| started.elapsed());
                }
            }
        }
        let first_token = first_token
            .ok_or_else(|| HttpError::Decode { url, detail: "the stream ended without a single token".into() })?;
        Ok(StreamTiming { first_token, total: started.elapsed(), tokens })
    }

    /// A minimal completion through OpenWebUI (`/api/chat/completions`, one short message).
    pub async fn complete(&self, token: &Secret, model: &str) -> Result<(), HttpError> {
        let url = format!("{}/api/chat/completions", self.base);
        let body = json!({"model": model, "stream": false, "max_tokens": 8,
            "messages": [{"role": "user", "content": "Reply with one word: ping"}]});
        let answer = self.send(self.http.post(&url).bearer_auth(token.expose()).json(&body), &url).await?;
        if answer.status != 200 || answer.is_html() {
            return Err(HttpError::Status { url, status: answer.status, kind: None, message: detail_of(&answer.body) });
        }
        let value: serde_json::Value = serde_json::from_slice(&answer.body)
            .map_err(|e| HttpError::Decode { url: url.clone(), detail: e.to_string() })?;
        if value.get("choices").and_then(|c| c.as_array()).is_some_and(|c| !c.is_empty()) {
            Ok(())
        } else {
            Err(HttpError::Decode { url, detail: format!("no choices in the answer: {}", detail_of(&answer.body)) })
        }
    }

    /// The admin models configuration (`/api/v1/configs/models`): default models, order, pins.
    pub async fn models_config(&self, token: &Secret) -> Result<serde_json::Value, HttpError> {
        let url = format!("{}/api/v1/configs/models", self.base);
        let answer = self.send(self.http.get(&url).bearer_auth(token.expose()), &url).await?;
        if answer.status != 200 || answer.is_html() {
            return Err(HttpError::Status { url, status: answer.status, kind: None, message: detail_of(&answer.body) });
        }
        serde_json::from_slice(&answer.body).map_err(|e| HttpError::Decode { url, detail: e.to_string() })
    }

    /// Writes the admin models configuration back (needs an admin token).
    pub async fn set_models_config(&self, token: &Secret, config: &serde_json::Value) -> Result<(), HttpError> {
        let url = format!("{}/api/v1/configs/models", self.base);
        let answer = self.send(self.http.post(&url).bearer_auth(token.expose()).json(config), &url).await?;
        if answer.status != 200 || answer.is_html() {
            return Err(HttpError::Status { url, status: answer.status, kind: None, message: detail_of(&answer.body) });
        }
        Ok(())
    }
}

/// OpenWebUI errors are `{"detail": "..."}`.
fn detail_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(String::from))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string())
}
