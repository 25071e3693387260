//! Certificate problems, named as such. rustls says why it refused a server's certificate in its
//! error text (`invalid peer certificate: UnknownIssuer`, `certificate expired: …`, `certificate
//! not valid for name …`); an operator needs the kind and what to do, not the type's name.

/// What is wrong with the server's certificate, and what to do about it, when `error` (the whole
/// error text, sources included) says a TLS handshake failed; `ca_key` names the setting of the
/// CA file (`redis.ca_file`).
pub fn certificate_problem(error: &str, ca_key: &str) -> Option<(String, String)> {
    let text = error.to_ascii_lowercase();
    let (what, hint) = if text.contains("unknownissuer") || text.contains("unknown issuer") {
        (
            "its certificate is not signed by a CA ifctl trusts (unknown issuer)".to_string(),
            format!(
                "set {ca_key} to the CA certificate that signed it (PEM), or install that CA in the system's roots"
            ),
        )
    } else if text.contains("expired") && text.contains("certificate") {
        (
            "its certificate has expired".to_string(),
            "renew the server's certificate (check the server's clock too)".to_string(),
        )
    } else if text.contains("notvalidforname") || text.contains("not valid for name") {
        (
            "its certificate is not valid for the name in the URL (name mismatch)".to_string(),
            "connect by a name the certificate lists (its subject alternative names), or reissue it with this one"
                .to_string(),
        )
    } else if text.contains("notyetvalid") || text.contains("not valid yet") {
        ("its certificate is not valid yet".to_string(), "check the clocks of this host and the server".to_string())
    } else if text.contains("invalid peer certificate") || text.contains("certificate verify failed") {
        ("its certificate was refused".to_string(), format!("check the server's certificate and {ca_key}"))
    } else if text.contains("corrupt message")
        || text.contains("invalidcontenttype")
        || text.contains("invalid content type")
        || text.contains("wrong version number")
    {
        (
            "it does not speak TLS on that port (or speaks something else)".to_string(),
            "use the server's TLS port, or a plain URL if it has no TLS".to_string(),
        )
    } else if text.contains("certificaterequired") || text.contains("certificate required") {
        (
            "it requires a client certificate".to_string(),
            "set the client certificate and key (client_cert_file, client_key_file)".to_string(),
        )
    } else {
        return None;
    };
    Some((format!("TLS: {what}"), hint))
}

/// A CA file must hold at least one PEM certificate: anything else is a misconfiguration
/// (otherwise it would only show later, as an "unknown issuer" that points back at this file).
pub fn check_pem_certificate(pem: &[u8], key: &str, path: &std::path::Path) -> Result<(), String> {
    let text = String::from_utf8_lossy(pem);
    let begin = text.find("-----BEGIN CERTIFICATE-----");
    let end = text.find("-----END CERTIFICATE-----");
    match (begin, end) {
        (Some(b), Some(e)) if e > b + 27 => Ok(()),
        _ => Err(format!("{key} `{}` holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::certificate_problem;

    #[test]
    fn rustls_refusals_are_named_by_kind() {
        let cases = [
            ("invalid peer certificate: UnknownIssuer", "unknown issuer"),
            (
                "invalid peer certificate: certificate expired: verification time 1764112100 (UNIX), but certificate is not valid after 1764025700 (86400 seconds ago)",
                "expired",
            ),
            (
                "invalid peer certificate: certificate not valid for name \"127.0.0.1\"; certificate is only valid for DnsName(\"other.example\")",
                "name mismatch",
            ),
            ("received corrupt message of type InvalidContentType", "does not speak TLS"),
        ];
        for (error, named) in cases {
            let (what, hint) = certificate_problem(error, "redis.ca_file").expect(error);
            assert!(what.starts_with("TLS: ") && what.contains(named), "{error} -> {what}");
            assert!(!hint.is_empty());
        }
        assert!(certificate_problem("Connection refused (os error 111)", "redis.ca_file").is_none());
    }
}
