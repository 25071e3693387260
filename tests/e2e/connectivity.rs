//! Production connectivity against real servers: Redis over TLS (a test CA made with openssl;
//! certificates expired, for another name, unknown; client certificates; ACL users).

use crate::harness::{self, Env, TestPki};

fn redis_report(env: &Env) -> (i32, serde_json::Value) {
    let run = env.run(&["--output", "json", "health", "check", "--component", "redis"]);
    let json = run.json();
    let redis = json["components"].as_array().unwrap().iter().find(|c| c["component"] == "redis").unwrap().clone();
    (run.code, redis)
}

#[test]
fn redis_over_tls_is_healthy_with_its_ca_and_names_each_certificate_problem() {
    let pki = TestPki::new();
    let good = harness::redis_tls(&pki, "server", false);
    let expired = harness::redis_tls(&pki, "expired", false);
    let other = harness::redis_tls(&pki, "other", false);
    let mutual = harness::redis_tls(&pki, "server", true);
    let mut env = Env::new();
    env.unset("IFCTL_REDIS_URL"); // the config file's URL, not the harness's closed port
    let ca = pki.path("ca.crt");
    let config = |url: &str, extra: &str| format!("[redis]\nurl = \"{url}\"\nca_file = \"{}\"\n{extra}", ca.display());

    // The right CA: healthy, with the server's own figures.
    env.write_config(&config(&format!("rediss://127.0.0.1:{}", good.port), ""));
    let (code, redis) = redis_report(&env);
    assert_eq!((code, redis["status"].as_str()), (0, Some("healthy")), "{redis}");
    assert!(redis["details"]["version"].as_str().is_some_and(|v| v.starts_with('7')), "{redis}");

    // Each certificate problem is named, with a hint; never "unreachable".
    let cases = [
        (format!("rediss://127.0.0.1:{}", expired.port), "", "has expired"),
        (format!("rediss://127.0.0.1:{}", other.port), "", "name mismatch"),
        (format!("rediss://127.0.0.1:{}", mutual.port), "", "requires a client certificate"),
    ];
    for (url, extra, says) in &cases {
        env.write_config(&config(url, extra));
        let (code, redis) = redis_report(&env);
        assert_eq!(code, 2, "{redis}");
        assert_eq!((redis["status"].as_str(), redis["problem"].as_str()), (Some("unhealthy"), Some("tls")), "{redis}");
        assert!(redis["reason"].as_str().unwrap().contains(says), "{says}: {redis}");
        assert!(redis["hint"].as_str().is_some_and(|h| !h.is_empty()), "{redis}");
    }
    // Without the CA (system roots only): unknown issuer, and the hint names the setting.
    env.write_config(&format!("[redis]\nurl = \"rediss://127.0.0.1:{}\"\n", good.port));
    let (_, redis) = redis_report(&env);
    assert_eq!(redis["problem"], "tls", "{redis}");
    assert!(redis["reason"].as_str().unwrap().contains("unknown issuer"), "{redis}");
    assert!(redis["hint"].as_str().unwrap().contains("redis.ca_file"), "{redis}");

    // Mutual TLS with the client certificate; an ACL user with its password from the environment.
    let client = format!(
        "client_cert_file = \"{}\"\nclient_key_file = \"{}\"\n",
        pki.path("client.crt").display(),
        pki.path("client.key").display()
    );
    env.write_config(&config(&format!("rediss://127.0.0.1:{}", mutual.port), &client));
    let (code, redis) = redis_report(&env);
    assert_eq!((code, redis["status"].as_str()), (0, Some("healthy")), "{redis}");
    let ok =
        harness::redis_cli_tls(&pki, mutual.port, &["ACL", "SETUSER", "probe", "on", ">pr0be-pass", "+ping", "+info"]);
    assert_eq!(ok.trim(), "OK");
    env.write_config(&config(&format!("rediss://probe@127.0.0.1:{}", mutual.port), &client));
    env.set("IFCTL_REDIS_PASSWORD", "pr0be-pass");
    let (code, redis) = redis_report(&env);
    assert_eq!((code, redis["status"].as_str()), (0, Some("healthy")), "{redis}");
    env.set("IFCTL_REDIS_PASSWORD", "wrong");
    let (_, redis) = redis_report(&env);
    assert_eq!(redis["problem"], "auth", "{redis}");

    // A client certificate without its key, or TLS settings on a plain URL: misconfigured, said so.
    env.write_config(&format!(
        "[redis]\nurl = \"rediss://127.0.0.1:{}\"\nclient_cert_file = \"{}\"\n",
        mutual.port,
        pki.path("client.crt").display()
    ));
    let (_, redis) = redis_report(&env);
    assert_eq!((redis["status"].as_str(), redis["problem"].as_str()), (Some("unknown"), Some("misconfigured")));
    assert!(redis["reason"].as_str().unwrap().contains("client_key_file"), "{redis}");
    env.write_config(&config(&format!("redis://127.0.0.1:{}", good.port), ""));
    let (_, redis) = redis_report(&env);
    assert!(redis["reason"].as_str().unwrap().contains("use rediss://"), "{redis}");

    // rediss:// to a plain port: the handshake gets no answer — named as TLS, not as a hang; a
    // CA file without a certificate is a misconfiguration.
    let plain = harness::redis();
    env.write_config(&config(&format!("rediss://127.0.0.1:{}", plain.port), ""));
    let (_, redis) = redis_report(&env);
    assert_eq!(redis["problem"], "tls", "{redis}");
    assert!(redis["hint"].as_str().unwrap().contains("TLS port"), "{redis}");
    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "garbage").unwrap();
    env.write_config(&format!(
        "[redis]\nurl = \"rediss://127.0.0.1:{}\"\nca_file = \"{}\"\n",
        good.port,
        garbage.display()
    ));
    let (_, redis) = redis_report(&env);
    assert_eq!(
        (redis["status"].as_str(), redis["problem"].as_str()),
        (Some("unknown"), Some("misconfigured")),
        "{redis}"
    );
    assert!(redis["reason"].as_str().unwrap().contains("holds no PEM certificate"), "{redis}");
}

/// Chroma behind nginx over HTTPS (test CA) that wants a token: without it `auth` with a hint,
/// with it healthy — in either header — and snapshots go through the proxy; without the CA the
/// certificate is named; the token never appears in any output or the journal.
#[test]
fn chroma_behind_an_https_proxy_that_wants_a_token() {
    const TOKEN: &str = "ck-7f3a9e-never-printed";
    let pki = TestPki::new();
    let chroma = harness::chroma();
    crate::snapshot::make_collection(chroma.port, "proxied", "l2", 900, 16);
    let proxy = harness::token_proxy(&pki, chroma.port, TOKEN);
    let mut env = Env::new();
    env.unset("IFCTL_CHROMADB_URL");
    let base = format!(
        "[chromadb]\nurl = \"https://127.0.0.1:{}\"\nexpected_collections = [\"proxied\"]\nca_file = \"{}\"\n",
        proxy.port,
        pki.path("ca.crt").display()
    );
    env.write_config(&base);
    let chroma_report = |env: &Env| {
        let run = env.run(&["--output", "json", "health", "check", "--component", "chromadb"]);
        let json = run.json();
        (run, json["components"][0].clone())
    };
    let mut outputs = String::new();

    let (run, report) = chroma_report(&env);
    outputs += &(run.stdout.clone() + &run.stderr);
    assert_eq!((run.code, report["problem"].as_str()), (2, Some("auth")), "{report}");
    assert!(report["hint"].as_str().unwrap().contains("IFCTL_CHROMADB_TOKEN"), "{report}");
    env.set("IFCTL_CHROMADB_TOKEN", "wrong-token");
    let (_, report) = chroma_report(&env);
    assert_eq!(report["problem"], "auth", "{report}");

    env.set("IFCTL_CHROMADB_TOKEN", TOKEN);
    let (run, report) = chroma_report(&env);
    outputs += &(run.stdout.clone() + &run.stderr);
    assert_eq!((run.code, report["status"].as_str()), (0, Some("healthy")), "{report}");
    env.write_config(&format!("{base}token_header = \"x-chroma-token\"\n"));
    let (run, report) = chroma_report(&env);
    assert_eq!((run.code, report["status"].as_str()), (0, Some("healthy")), "{report}");

    // Without the CA: the certificate is named, with the setting to fix.
    env.write_config(&base.replace(&format!("ca_file = \"{}\"\n", pki.path("ca.crt").display()), ""));
    let (run, report) = chroma_report(&env);
    outputs += &(run.stdout.clone() + &run.stderr);
    assert_eq!((report["problem"].as_str(), run.code), (Some("tls"), 2), "{report}");
    assert!(report["reason"].as_str().unwrap().contains("unknown issuer"), "{report}");
    assert!(report["hint"].as_str().unwrap().contains("chromadb.ca_file"), "{report}");

    // Snapshots through the proxy: create, damage, restore.
    env.write_config(&base);
    let run = env.run(&["--output", "json", "snapshot", "create", "--name", "viaproxy"]);
    outputs += &(run.stdout.clone() + &run.stderr);
    run.expect_code(0);
    harness::http(
        chroma.port,
        "DELETE",
        "/api/v2/tenants/default_tenant/databases/default_database/collections/proxied",
        None,
        None,
    )
    .unwrap();
    let run = env.run(&["snapshot", "restore", "viaproxy", "--yes"]);
    outputs += &(run.stdout.clone() + &run.stderr);
    run.expect_code(0);
    assert_eq!(crate::snapshot::count(chroma.port, "proxied"), 900);
    // Without the token a snapshot is refused by the proxy, and says so.
    env.unset("IFCTL_CHROMADB_TOKEN");
    let run = env.run(&["snapshot", "create", "--name", "refused"]);
    outputs += &(run.stdout.clone() + &run.stderr);
    run.expect_code(3);
    assert!(run.stderr.contains("401") && run.stderr.contains("IFCTL_CHROMADB_TOKEN"), "{}", run.stderr);
    // A CA file that holds no certificate is a misconfiguration naming the key, not "unknown issuer".
    let garbage = pki.path("garbage.pem");
    std::fs::write(&garbage, "garbage").unwrap();
    env.write_config(&base.replace(&pki.path("ca.crt").display().to_string(), &garbage.display().to_string()));
    let (_, report) = chroma_report(&env);
    assert_eq!(
        (report["status"].as_str(), report["problem"].as_str()),
        (Some("unknown"), Some("misconfigured")),
        "{report}"
    );
    assert!(report["reason"].as_str().unwrap().contains("chromadb.ca_file"), "{report}");

    outputs += &harness::read(&env.journal());
    assert!(!outputs.contains(TOKEN), "the token leaked into an output or the journal");
}
