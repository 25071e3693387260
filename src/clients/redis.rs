//! Redis connections as configured: `redis://` or `rediss://` (TLS), `redis://user@host` for an
//! ACL user, the password from its variable or file (never the URL text of the config), and for
//! TLS the CA that signed the server's certificate (`redis.ca_file`; else the system's roots)
//! and, for servers that ask for one, a client certificate and key.

use crate::config::{RedisConfig, Secret};

/// A client for `config`, or why the configuration cannot make one (a misconfiguration).
pub fn client(config: &RedisConfig, password: Option<&Secret>) -> Result<redis::Client, String> {
    use redis::IntoConnectionInfo;
    let url = &config.url;
    let mut info = url
        .as_str()
        .into_connection_info()
        .map_err(|e| format!("`{}` is not a Redis URL: {e}", crate::config::redact_userinfo(url)))?;
    if let Some(password) = password {
        let settings = info.redis_settings().clone().set_password(password.expose());
        info = info.set_redis_settings(settings);
    }
    let tls = url.starts_with("rediss://");
    let client_cert = match (&config.client_cert_file, &config.client_key_file) {
        (Some(cert), Some(key)) => Some((read(cert, "redis.client_cert_file")?, read(key, "redis.client_key_file")?)),
        (None, None) => None,
        _ => return Err("set both redis.client_cert_file and redis.client_key_file, or neither".into()),
    };
    if !tls {
        if config.ca_file.is_some() || client_cert.is_some() {
            return Err(format!(
                "redis.ca_file / client certificate are set but `{}` is plain redis://; use rediss:// for TLS",
                crate::config::redact_userinfo(url)
            ));
        }
        return redis::Client::open(info).map_err(|e| e.to_string());
    }
    let root_cert = config.ca_file.as_ref().map(|f| read(f, "redis.ca_file")).transpose()?;
    let certificates = redis::TlsCertificates {
        client_tls: client_cert.map(|(client_cert, client_key)| redis::ClientTlsConfig { client_cert, client_key }),
        root_cert,
    };
    redis::Client::build_with_tls(info, certificates).map_err(|e| e.to_string())
}

fn read(path: &std::path::Path, key: &str) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {key} `{}`: {e}", path.display()))?;
    if key.ends_with("key_file") {
        return Ok(pem);
    }
    super::tls::check_pem_certificate(&pem, key, path)?;
    Ok(pem)
}

/// A multiplexed connection within `deadline` for connecting (the TLS handshake included) and
/// for each answer — the probe's deadline, not the client library's default.
pub async fn connect(
    client: &redis::Client,
    deadline: std::time::Duration,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    // The connection (TLS handshake included) gets nine tenths of it: ending before the caller's
    // own deadline, a handshake nobody answers is named as such, not as a hang.
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(deadline.mul_f64(0.9)))
        .set_response_timeout(Some(deadline));
    client.get_multiplexed_async_connection_with_config(&config).await
}
