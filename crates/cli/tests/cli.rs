//! The `consailt` binary as an operator meets it: bad input fails with one clear line and
//! modifies nothing; `serve` answers probes and shuts down cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn consailt(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consailt"))
        .args(args)
        .current_dir(dir)
        .env_remove("CONSAILT_DATA_DIR")
        .env_remove("CONSAILT_DATABASE_URL")
        .env_remove("CONSAILT_CONFIG")
        .env_remove("CONSAILT_LISTEN")
        .output()
        .expect("run consailt")
}

/// Runs one statement on a database behind the binary's back.
fn execute(db: &Path, sql: &str) {
    use sqlx::Connection;
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("connect");
        sqlx::query(sql).execute(&mut conn).await.expect("execute");
        conn.close().await.expect("close");
    });
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("notes.db");
    std::fs::write(&db, "just some text, not a database\n").expect("write file");
    let output = consailt(dir.path(), &["migrate", "--database-url", "sqlite://notes.db"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("notes.db") && message.contains("not a SQLite database"), "{message}");
    assert_eq!(std::fs::read_to_string(&db).expect("read back"), "just some text, not a database\n");
}

#[test]
fn a_data_directory_that_cannot_be_written_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("occupied"), "a file where the directory should be").expect("write file");
    let output = consailt(dir.path(), &["migrate", "--data-dir", "occupied/data"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("occupied") && message.contains("data directory"), "{message}");
}

#[test]
fn a_database_from_a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("temporary directory");
    assert!(consailt(dir.path(), &["migrate", "--data-dir", "data"]).status.success());
    let db = dir.path().join("data/consailt.db");
    execute(
        &db,
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (99, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    );
    let before = std::fs::read(&db).expect("read database");
    let output = consailt(dir.path(), &["migrate", "--data-dir", "data"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("consailt.db") && message.contains("schema version 99 is newer"), "{message}");
    assert_eq!(std::fs::read(&db).expect("read database again"), before, "the database was modified");
}

#[test]
fn configuration_errors_name_the_file_line_and_key() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("consailt.toml"), "data_dir = \"data\"\n\n[storage]\ndurabilty = \"full\"\n")
        .expect("write");
    let output = consailt(dir.path(), &["migrate"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("consailt.toml") && message.contains("line 4") && message.contains("durabilty"),
        "{message}"
    );

    std::fs::write(dir.path().join("broken.toml"), "listen = \"127.0.0.1:1\n").expect("write");
    let output = consailt(dir.path(), &["migrate", "--config", "broken.toml"]);
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("broken.toml") && message.contains("line 1"), "{message}");

    let output = consailt(dir.path(), &["migrate", "--config", "missing.toml"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("missing.toml"));
}

#[test]
fn the_file_beats_defaults_and_flags_beat_the_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("consailt.toml"), "data_dir = \"from-file\"\n").expect("write");
    assert!(consailt(dir.path(), &["migrate"]).status.success());
    assert!(dir.path().join("from-file/consailt.db").exists());
    assert!(consailt(dir.path(), &["migrate", "--data-dir", "from-flag"]).status.success());
    assert!(dir.path().join("from-flag/consailt.db").exists());
    let from_env = Command::new(env!("CARGO_BIN_EXE_consailt"))
        .arg("migrate")
        .current_dir(dir.path())
        .env("CONSAILT_DATA_DIR", "from-env")
        .output()
        .expect("run");
    assert!(from_env.status.success());
    assert!(dir.path().join("from-env/consailt.db").exists());
}

#[test]
fn audit_verify_reports_the_first_broken_link() {
    let dir = tempfile::tempdir().expect("temporary directory");
    assert!(consailt(dir.path(), &["migrate", "--data-dir", "data"]).status.success());
    let db = dir.path().join("data/consailt.db");
    // A row slipped into the log behind the store's back carries no valid link.
    let insert = "INSERT INTO events (position, stream_id, stream_version, event_type, schema_version, payload, metadata, \
                  org_id, recorded_at, hash) VALUES (1, 's-1', 1, 't', 1, '{}', '{}', NULL, 0, zeroblob(32));";
    execute(&db, insert);
    let output = consailt(dir.path(), &["audit", "verify", "--data-dir", "data"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("broken at position 1"), "{message}");
}

fn http_get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nX-Request-Id: test-123\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    response
}

/// A running `consailt serve` on a free port, its log, and where it listens.
struct Server {
    child: std::process::Child,
    log: std::io::Lines<BufReader<std::process::ChildStderr>>,
    address: String,
}

fn serve(dir: &Path, args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consailt"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data", "--no-semantic"])
        .args(args)
        .current_dir(dir)
        .env("CONSAILT_LOG", "info")
        .env_remove("CONSAILT_REDIS_URL")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start serve");
    let mut log = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let address = loop {
        assert!(Instant::now() < deadline, "serve did not report its address");
        let line = log.next().expect("serve exited early").expect("log line");
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    Server { child, log, address }
}

#[test]
fn serve_answers_probes_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let Server { mut child, log, address } = serve(dir.path(), &[]);

    let health = http_get(&address, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.to_lowercase().contains("x-request-id: test-123"), "{health}");
    let ready = http_get(&address, "/readyz");
    assert!(ready.starts_with("HTTP/1.1 200") && ready.contains("\"ready\""), "{ready}");
    let missing = http_get(&address, "/nope");
    assert!(missing.starts_with("HTTP/1.1 404") && missing.contains("\"NOT_FOUND\""), "{missing}");

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let status = child.wait().expect("wait for serve");
    assert!(status.success(), "serve exited with {status}");
    let rest: Vec<String> = log.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("SIGTERM received")), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("shutdown complete")), "{rest:?}");
}

#[test]
fn two_instances_sharing_redis_enforce_one_rate_limit() {
    let (redis, prefix) = (test_support::redis_url(), test_support::fresh_schema("test"));
    let dirs = [tempfile::tempdir().expect("temporary directory"), tempfile::tempdir().expect("temporary directory")];
    let mut instances: Vec<Server> = dirs
        .iter()
        .map(|dir| {
            std::fs::write(dir.path().join("consailt.toml"), "[http]\nrate_limit_per_ip = 6\n").expect("config");
            serve(dir.path(), &["--redis-url", &redis, "--redis-prefix", &prefix])
        })
        .collect();
    let statuses: Vec<String> =
        (0..10).map(|i| http_get(&instances[i % 2].address, "/healthz").chars().skip(9).take(3).collect()).collect();
    assert_eq!(statuses.iter().filter(|s| *s == "200").count(), 6, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "429").count(), 4, "{statuses:?}");
    for instance in &mut instances {
        instance.child.kill().expect("stop serve");
        instance.child.wait().expect("wait for serve");
    }
}
