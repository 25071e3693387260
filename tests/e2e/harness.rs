//! Real servers for end-to-end tests: each started on a free loopback port with its own temp
//! data dir, in its own process group, and killed when its handle drops (also on panic).

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// The venv made by `scripts/test-stack install`.
pub fn venv() -> PathBuf {
    let path = std::env::var_os("IFCTL_TEST_VENV").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"));
        cache.join("ifctl").join("test-venv")
    });
    assert!(
        path.join("bin").join("chroma").exists(),
        "no test venv at {} — run `scripts/test-stack install` first",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server process and its data dir.
pub struct Server {
    pub name: &'static str,
    pub port: u16,
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    stopped: bool,
}

impl Server {
    fn spawn(name: &'static str, mut cmd: Command, port: u16, dir: tempfile::TempDir) -> Server {
        let log = std::fs::File::create(dir.path().join(format!("{name}.log"))).unwrap();
        cmd.stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log).process_group(0);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Server { name, port, child: Some(child), dir, stopped: false }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().expect("running").id() as i32).unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{}.log", self.name))).unwrap_or_default()
    }

    /// SIGSTOP: the server keeps its socket (connections are accepted) but never answers.
    pub fn freeze(&mut self) {
        rustix::process::kill_process_group(self.pid(), Signal::STOP).unwrap();
        self.stopped = true;
    }

    pub fn thaw(&mut self) {
        rustix::process::kill_process_group(self.pid(), Signal::CONT).unwrap();
        self.stopped = false;
    }

    /// SIGKILL the whole process group and reap it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = Pid::from_raw(child.id() as i32).unwrap();
            let _ = rustix::process::kill_process_group(group, Signal::KILL);
            if self.stopped {
                let _ = rustix::process::kill_process_group(group, Signal::CONT);
            }
            let _ = child.wait();
        }
    }

    fn wait_until(&mut self, what: &str, limit: Duration, ready: impl FnMut() -> bool) {
        if let Err(why) = self.try_wait_until(what, limit, ready) {
            panic!("{why}");
        }
    }

    fn try_wait_until(&mut self, what: &str, limit: Duration, mut ready: impl FnMut() -> bool) -> Result<(), String> {
        let started = Instant::now();
        while !ready() {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                return Err(format!("{} exited ({status}) before {what}; log:\n{}", self.name, self.log()));
            }
            if started.elapsed() > limit {
                return Err(format!("{} not {what} after {limit:?}; log:\n{}", self.name, self.log()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn redis() -> Server {
    redis_with(&[])
}

/// A Redis with extra arguments, e.g. `["--requirepass", "pw"]`.
pub fn redis_with(extra: &[&str]) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(which("redis-server", "/usr/bin/redis-server"));
    cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir.path())
        .args(extra);
    let mut server = Server::spawn("redis", cmd, port, dir);
    // With a password PING answers -NOAUTH: any RESP answer means it is up.
    server.wait_until("answering PING", Duration::from_secs(10), || redis_ping(port));
    server
}

fn redis_ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    stream.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut buf = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut buf).is_ok() && (buf[0] == b'+' || buf[0] == b'-')
}

pub fn chroma() -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(venv().join("bin").join("chroma"));
    cmd.args(["run", "--host", "127.0.0.1", "--port", &port.to_string(), "--path"])
        .arg(dir.path().join("data"))
        .current_dir(dir.path());
    let mut server = Server::spawn("chroma", cmd, port, dir);
    server.wait_until("answering its heartbeat", Duration::from_secs(60), || {
        http_get(port, "/api/v2/heartbeat").is_some_and(|(status, _)| status == 200)
    });
    server
}

/// The OpenAI-compatible model provider of `llm_upstream.py` (models `primary`, `fallback`;
/// `failing` ones answer 503), for OpenWebUI to talk to.
pub fn llm_upstream(failing: &str) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/llm_upstream.py");
    let mut cmd = Command::new(venv().join("bin").join("python"));
    cmd.arg(script).arg(port.to_string()).arg(failing);
    let mut server = Server::spawn("llm", cmd, port, dir);
    server.wait_until("serving", Duration::from_secs(20), || http_get(port, "/v1/models").is_some());
    server
}

/// An OpenWebUI server (about a minute to start: database migrations), optionally using Redis and
/// an OpenAI-compatible model provider.
pub fn openwebui(redis_port: Option<u16>, llm_port: Option<u16>) -> Server {
    // It binds its port only after ~15 s of start-up; on a busy machine an outgoing connection
    // (same port range) can take the port `free_port` found meanwhile: then it starts again on
    // another.
    for attempt in 1.. {
        match try_openwebui(redis_port, llm_port) {
            Ok(server) => return server,
            Err(why) if attempt < 3 && why.contains("address already in use") => continue,
            Err(why) => panic!("{why}"),
        }
    }
    unreachable!()
}

fn try_openwebui(redis_port: Option<u16>, llm_port: Option<u16>) -> Result<Server, String> {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(venv().join("bin").join("open-webui"));
    cmd.args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
        .env("DATA_DIR", dir.path().join("data"))
        .env("OFFLINE_MODE", "true")
        .env("HF_HUB_OFFLINE", "1")
        .env("ENABLE_OLLAMA_API", "false")
        .env("ENABLE_OPENAI_API", "false")
        .env("WEBUI_SECRET_KEY", "ifctl-test-secret")
        .env("ENABLE_API_KEYS", "true")
        .current_dir(dir.path());
    if let Some(redis_port) = redis_port {
        cmd.env("REDIS_URL", format!("redis://127.0.0.1:{redis_port}/1"));
    }
    if let Some(llm_port) = llm_port {
        cmd.env("ENABLE_OPENAI_API", "true")
            .env("OPENAI_API_BASE_URL", format!("http://127.0.0.1:{llm_port}/v1"))
            .env("OPENAI_API_KEY", "test");
    }
    let mut server = Server::spawn("openwebui", cmd, port, dir);
    server.try_wait_until("ready", Duration::from_secs(300), || {
        http_get(port, "/ready").is_some_and(|(s, _)| s == 200)
    })?;
    Ok(server)
}

fn which(name: &str, fallback: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.exists()))
        .unwrap_or_else(|| PathBuf::from(fallback))
}

/// A minimal blocking HTTP/1.1 request over loopback, for test set-up only.
pub fn http(port: u16, method: &str, path: &str, body: Option<&str>, token: Option<&str>) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let body = body.unwrap_or("");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_string() };
    Some((status, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http(port, "GET", path, None, None)
}

/// Creates a collection with `n` 4-d records through Chroma's API.
pub fn seed_collection(chroma_port: u16, name: &str, n: usize) {
    let scope = "/api/v2/tenants/default_tenant/databases/default_database";
    let body = format!(r#"{{"name":"{name}","metadata":{{"owner":"ifctl-test"}}}}"#);
    let (status, created) = http(chroma_port, "POST", &format!("{scope}/collections"), Some(&body), None).unwrap();
    assert_eq!(status, 200, "{created}");
    let id = serde_json::from_str::<serde_json::Value>(&created).unwrap()["id"].as_str().unwrap().to_string();
    if n == 0 {
        return;
    }
    let ids: Vec<String> = (0..n).map(|i| format!("doc-{i}")).collect();
    let embeddings: Vec<[f32; 4]> = (0..n).map(|i| [1.0, i as f32, 0.5, -0.25]).collect();
    let docs: Vec<String> = (0..n).map(|i| format!("document {i}")).collect();
    let body = serde_json::json!({"ids": ids, "embeddings": embeddings, "documents": docs}).to_string();
    let (status, answer) =
        http(chroma_port, "POST", &format!("{scope}/collections/{id}/add"), Some(&body), None).unwrap();
    assert_eq!(status, 201, "{answer}");
}

/// A hermetic environment for running the real `ifctl` binary.
pub struct Env {
    pub home: tempfile::TempDir,
    vars: Vec<(String, String)>,
    /// The ports the default URLs point at, kept closed for the test's life.
    closed: Vec<ClosedPort>,
}

impl Env {
    pub fn new() -> Env {
        let home = tempfile::tempdir().unwrap();
        let mut env = Env { home, vars: Vec::new(), closed: (0..3).map(|_| closed_port()).collect() };
        let h = env.home.path().to_path_buf();
        env.set("HOME", h.display().to_string());
        env.set("XDG_CONFIG_HOME", h.join("config").display().to_string());
        env.set("XDG_STATE_HOME", h.join("state").display().to_string());
        env.set("NO_COLOR", "1");
        // A stack nobody runs: tests point each component where they want it.
        let ports: Vec<u16> = env.closed.iter().map(|c| c.port).collect();
        env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", ports[0]));
        env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", ports[1]));
        env.set("IFCTL_OPENWEBUI_URL", format!("http://127.0.0.1:{}", ports[2]));
        env
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Env {
        let value = value.into();
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value));
        self
    }

    pub fn unset(&mut self, key: &str) -> &mut Env {
        self.vars.retain(|(k, _)| k != key);
        self
    }

    pub fn state_dir(&self) -> PathBuf {
        self.home.path().join("state").join("ifctl")
    }

    pub fn journal(&self) -> PathBuf {
        self.state_dir().join("journal.jsonl")
    }

    pub fn write_config(&mut self, text: &str) -> PathBuf {
        let path = self.home.path().join("config").join("ifctl").join("ifctl.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `ifctl ARGS` in the background, output discarded, killed when the result is dropped.
    pub fn spawn_quiet(&self, args: &[&str]) -> Reaped {
        Reaped(self.command(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ifctl"));
        cmd.env_clear().args(args).stdin(Stdio::null());
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let output = self.command(args).output().unwrap();
        Run::new(args, output, started.elapsed())
    }

    /// A command line as ifctl printed it for the operator, pasted into `sh` with this
    /// environment (`ifctl` on the PATH is the binary under test).
    pub fn paste(&self, line: &str) -> Run {
        self.shell("sh", line, &[])
    }

    /// `script` run by `shell` (`sh -c`, `bash -c`) with this environment; on the PATH first the
    /// binary under test as `ifctl`, then `more_path`.
    pub fn shell(&self, shell: &str, script: &str, more_path: &[PathBuf]) -> Run {
        let bin = Path::new(env!("CARGO_BIN_EXE_ifctl")).parent().unwrap().to_path_buf();
        let system =
            std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
        let path = std::env::join_paths(std::iter::once(bin).chain(more_path.iter().cloned()).chain(system)).unwrap();
        let mut cmd = Command::new(shell);
        cmd.env_clear().args(["-c", script]).stdin(Stdio::null()).env("PATH", path);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let output = cmd.output().unwrap();
        Run::new(&[shell, "-c", script], output, started.elapsed())
    }
}

/// A loopback port that refuses connections for as long as this lives: its socket is bound (so
/// no server started meanwhile can take the port) but never listens.
pub struct ClosedPort {
    pub port: u16,
    _socket: rustix::fd::OwnedFd,
}

pub fn closed_port() -> ClosedPort {
    use rustix::net::{AddressFamily, SocketType};
    let socket = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
    let any = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
    rustix::net::bind(&socket, &any).unwrap();
    let bound = std::net::SocketAddr::try_from(rustix::net::getsockname(&socket).unwrap()).unwrap();
    ClosedPort { port: bound.port(), _socket: socket }
}

/// A child process killed (and reaped) when the test ends, even by a panic.
pub struct Reaped(pub std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The outcome of one `ifctl` run, with assertions that print everything on failure.
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    fn new(args: &[&str], output: Output, elapsed: Duration) -> Run {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed,
        }
    }

    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "ifctl {:?} exited {} (want {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout of {:?} is not JSON ({e}):\n{}\n--- stderr\n{}", self.args, self.stdout, self.stderr)
        })
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `python3 -m http.server` serving `dir`.
pub fn python_http_server(port: u16, dir: tempfile::TempDir) -> Server {
    let mut cmd = Command::new(venv().join("bin").join("python"));
    cmd.args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"]).arg(dir.path());
    let mut server = Server::spawn("http", cmd, port, dir);
    server.wait_until("serving", Duration::from_secs(20), || http_get(port, "/").is_some());
    server
}

/// Kills the daemon whose pid file this names when dropped — also when a test panics — for
/// servers a restart command started outside the harness.
pub struct PidFileGuard(pub PathBuf);

impl Drop for PidFileGuard {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(&self.0).ok().and_then(|p| p.trim().parse::<i32>().ok()) {
            if let Some(pid) = Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(pid, Signal::KILL);
            }
        }
    }
}

#[test]
fn closed_ports_refuse_connections_and_cannot_be_taken_while_held() {
    let closed = closed_port();
    let refused = std::net::TcpStream::connect(("127.0.0.1", closed.port)).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let taken = std::net::TcpListener::bind(("127.0.0.1", closed.port)).unwrap_err();
    assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse, "a server started meanwhile cannot take it");
}

/// moto's S3 server (`moto[server]` in the test venv): in memory, on a free loopback port. It
/// does not check credentials but refuses unsigned object requests, so clients sign with any key.
pub fn moto() -> Server {
    moto_on(free_port())
}

/// moto on a given port (a restart after a kill: its buckets are gone, as in-memory state is).
pub fn moto_on(port: u16) -> Server {
    moto_with(port, false)
}

/// moto that checks credentials (`INITIAL_NO_AUTH_ACTION_COUNT=0`): keys it never issued are
/// refused with 403 InvalidAccessKeyId.
pub fn moto_checking_keys() -> Server {
    moto_with(free_port(), true)
}

fn moto_with(port: u16, check_keys: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(venv().join("bin").join("moto_server"));
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]).current_dir(dir.path());
    if check_keys {
        cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
    }
    let mut server = Server::spawn("moto", cmd, port, dir);
    server.wait_until("answering", Duration::from_secs(30), || http_get(port, "/moto-api/").is_some());
    server
}

/// An S3 request to moto signed with the test key (curl's SigV4): `(status, body)`. `upload`
/// is a file to PUT; `out` a file to save the body in.
pub fn s3(port: u16, method: &str, path: &str, upload: Option<&Path>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-X",
        method,
        "--aws-sigv4",
        "aws:amz:us-east-1:s3",
        "--user",
        "test:test",
        "-w",
        "\n%{http_code}",
    ]);
    if let Some(file) = upload {
        cmd.arg("-T").arg(file);
    }
    cmd.arg(format!("http://127.0.0.1:{port}{path}"));
    let out = cmd.output().expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.trim().parse().unwrap_or(0), body.to_string())
}

/// Points every S3 repository of `env` at moto through the standard AWS variables (the
/// endpoint too, so repositories named in commands, as the runbooks write them, reach it), with a
/// test key; no request can leave the machine for an instance-metadata service.
pub fn use_moto(env: &mut Env, port: u16) {
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_ALLOW_HTTP", "true".to_string()),
    ] {
        env.set(k, v);
    }
}

/// Downloads an object from moto into `to`; returns the HTTP status.
pub fn s3_get_file(port: u16, path: &str, to: &Path) -> u16 {
    let out = Command::new("curl")
        .args(["-s", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "test:test", "-w", "%{http_code}", "-o"])
        .arg(to)
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

/// A test CA and certificates signed by it (EC P-256, X.509 v3), made with `openssl`:
/// `server` (for 127.0.0.1 and localhost), `expired` (same names, not valid after yesterday),
/// `other` (only for other.example) and `client` (client auth). Files are `<name>.crt`/`.key`.
pub struct TestPki {
    pub dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(d).output().expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &["-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", "/CN=ifctl test CA"],
            ]
            .concat(),
        );
        let server =
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        let other = "subjectAltName=DNS:other.example\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        let client = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
        for (name, ext, days) in
            [("server", server, "365"), ("expired", server, "-1"), ("other", other, "365"), ("client", client, "365")]
        {
            std::fs::write(d.join(format!("{name}.ext")), ext).unwrap();
            openssl(
                &[
                    &["req"][..],
                    &ec,
                    &[
                        "-keyout",
                        &format!("{name}.key"),
                        "-out",
                        &format!("{name}.csr"),
                        "-subj",
                        &format!("/CN={name}"),
                    ],
                ]
                .concat(),
            );
            openssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.crt"),
                "-days",
                days,
                "-extfile",
                &format!("{name}.ext"),
            ]);
        }
        TestPki { dir }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
}

/// Redis speaking only TLS, with certificate `<cert>.crt` of `pki`; `require_client_cert` asks
/// clients for a certificate signed by the test CA.
pub fn redis_tls(pki: &TestPki, cert: &str, require_client_cert: bool) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(which("redis-server", "/usr/bin/redis-server"));
    cmd.args([
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--tls-port",
        &port.to_string(),
        "--save",
        "",
        "--appendonly",
        "no",
    ])
    .arg("--tls-cert-file")
    .arg(pki.path(&format!("{cert}.crt")))
    .arg("--tls-key-file")
    .arg(pki.path(&format!("{cert}.key")))
    .arg("--tls-ca-cert-file")
    .arg(pki.path("ca.crt"))
    .args(["--tls-auth-clients", if require_client_cert { "yes" } else { "no" }])
    .arg("--dir")
    .arg(dir.path());
    let mut server = Server::spawn("redis-tls", cmd, port, dir);
    server.wait_until("listening", Duration::from_secs(10), || TcpStream::connect(("127.0.0.1", port)).is_ok());
    server
}

/// `redis-cli` over TLS to a [`redis_tls`] server (with the client certificate), e.g. to set up
/// ACL users.
pub fn redis_cli_tls(pki: &TestPki, port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["--tls", "-h", "127.0.0.1", "-p", &port.to_string()])
        .arg("--cacert")
        .arg(pki.path("ca.crt"))
        .arg("--cert")
        .arg(pki.path("client.crt"))
        .arg("--key")
        .arg(pki.path("client.key"))
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// nginx in front of `upstream` on loopback, speaking HTTPS with `pki`'s `server` certificate
/// and passing only requests that carry `token` — as `Authorization: Bearer <token>` or
/// `X-Chroma-Token: <token>` — answering 401 (an HTML page) to the rest: an authenticating
/// reverse proxy as production puts in front of Chroma.
pub fn token_proxy(pki: &TestPki, upstream: u16, token: &str) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("tmp")).unwrap();
    // As root the workers would drop to `nobody`, who cannot read a private temp dir.
    let user = if rustix::process::geteuid().is_root() { "user root;" } else { "" };
    let conf = format!(
        r#"{user}
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy; fastcgi_temp_path {d}/tmp/fcgi;
  uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;
  client_max_body_size 64m;
  map $http_authorization $by_bearer {{ "Bearer {token}" 1; default 0; }}
  map $http_x_chroma_token $by_header {{ "{token}" 1; default 0; }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
      set $allowed "$by_bearer$by_header";
      if ($allowed = "00") {{ return 401; }}
      proxy_pass http://127.0.0.1:{upstream};
      proxy_http_version 1.1;
      proxy_read_timeout 300s;
    }}
  }}
}}
"#,
        d = d.display(),
        cert = pki.path("server.crt").display(),
        key = pki.path("server.key").display(),
    );
    std::fs::write(d.join("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(which("nginx", "/usr/sbin/nginx"));
    cmd.arg("-c").arg(d.join("nginx.conf")).arg("-p").arg(d).arg("-e").arg(d.join("error.log"));
    let mut server = Server::spawn("nginx", cmd, port, dir);
    server.wait_until("listening", Duration::from_secs(10), || TcpStream::connect(("127.0.0.1", port)).is_ok());
    server
}
