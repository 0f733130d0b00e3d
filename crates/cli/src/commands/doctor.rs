//! `consailt doctor`: check what the product needs at run time and say how to fix what is
//! missing. Required checks fail the command; optional pieces are reported.

use std::path::Path;

use cluster_redis::{RedisConfig, RedisCounters, describe};
use storage::{PostgresConfig, PostgresStore, StorageConfig};

use crate::Failure;
use crate::config::{StorageArgs, load_file};

struct Report {
    failures: usize,
}

impl Report {
    fn ok(&self, what: &str, detail: &str) {
        println!("ok       {what}: {detail}");
    }
    fn fail(&mut self, what: &str, detail: &str, fix: &str) {
        self.failures += 1;
        println!("FAIL     {what}: {detail}\n         fix: {fix}");
    }
    fn optional(&self, what: &str, detail: &str) {
        println!("optional {what}: {detail}");
    }
}

pub async fn run(args: StorageArgs) -> Result<(), Failure> {
    let mut report = Report { failures: 0 };
    let file = match load_file(args.config.as_deref()) {
        Ok(file) => {
            report.ok("configuration", "file and environment parse");
            file
        }
        Err(error) => {
            report.fail("configuration", &error.to_string(), "correct the named key or line");
            return Err(Failure { message: "doctor found 1 problem".to_owned(), code: 1 });
        }
    };
    match args.resolve(&file) {
        Ok(settings) => {
            check_data_dir(&mut report, &settings.data_dir);
            match &settings.database {
                StorageConfig::Sqlite(config) => {
                    check_database(&mut report, &config.path).await;
                    report.ok("durability", &format!("{:?}", config.durability).to_lowercase());
                }
                StorageConfig::Postgres(config) => check_postgres(&mut report, config).await,
            }
        }
        Err(error) => report.fail("configuration", &error.to_string(), "fix the value"),
    }
    let redis_url = std::env::var("CONSAILT_REDIS_URL").ok().filter(|url| !url.is_empty()).or(file.redis_url);
    check_redis(&mut report, redis_url.as_deref()).await;
    if report.failures == 0 {
        println!("all required checks passed");
        Ok(())
    } else {
        Err(Failure { message: format!("doctor found {} problem(s)", report.failures), code: 1 })
    }
}

fn check_data_dir(report: &mut Report, dir: &Path) {
    if !dir.exists() {
        report.ok("data directory", &format!("{} will be created on first start", dir.display()));
        return;
    }
    let probe = dir.join(".consailt-doctor-probe");
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            report.ok("data directory", &format!("{} is writable", dir.display()));
        }
        Err(error) => report.fail(
            "data directory",
            &format!("{} is not writable: {error}", dir.display()),
            "choose another --data-dir or fix the directory's permissions",
        ),
    }
}

async fn check_postgres(report: &mut Report, config: &PostgresConfig) {
    match PostgresStore::inspect(config).await {
        Ok((0, _)) => {
            report.ok("database", "PostgreSQL answers; `consailt migrate` or `consailt serve` creates the schema")
        }
        Ok((applied, latest)) if applied == latest => {
            report.ok("database", &format!("PostgreSQL, schema version {applied} (current)"))
        }
        Ok((applied, latest)) if applied < latest => {
            report.ok("database", &format!("PostgreSQL, schema version {applied}; {latest} will be applied at start"))
        }
        Ok((applied, latest)) => report.fail(
            "database",
            &format!("PostgreSQL schema version {applied} is newer than this binary knows ({latest})"),
            "upgrade consailt",
        ),
        Err(error) => report.fail("database", &error.to_string(), "check the URL, the server and its credentials"),
    }
}

async fn check_redis(report: &mut Report, url: Option<&str>) {
    let Some(url) = url else {
        report.optional("redis", "not configured; rate limits are per instance (fine for one instance)");
        return;
    };
    match RedisCounters::new(RedisConfig::new(url)) {
        Ok(counters) => match counters.ping().await {
            Ok(()) => report.ok("redis", &format!("{} answers; rate limits hold for the cluster", describe(url))),
            Err(error) => report.optional(
                "redis",
                &format!("{} does not answer ({error}); instances count limits locally until it does", describe(url)),
            ),
        },
        Err(error) => report.fail("redis", &error, "set CONSAILT_REDIS_URL to redis://HOST:PORT"),
    }
}

async fn check_database(report: &mut Report, path: &Path) {
    if !path.exists() {
        report.ok("database", &format!("{} will be created by `consailt migrate` or `consailt serve`", path.display()));
        return;
    }
    match store_sqlite::SqliteStore::inspect(path).await {
        Ok((applied, latest)) if applied == latest => {
            report.ok("database", &format!("schema version {applied} (current)"))
        }
        Ok((applied, latest)) => {
            report.ok("database", &format!("schema version {applied}; {latest} will be applied at start"))
        }
        Err(error) => report.fail("database", &error.to_string(), "point --database-url at a Consailt database"),
    }
}
