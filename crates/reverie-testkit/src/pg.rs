//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary folder, `postgres`
//! listening only on a private Unix socket, one fresh database per caller.
//!
//! The cluster starts on first use and lives as long as the test process. A small watchdog
//! process stops it and removes its folder when the test process ends — even when the process
//! is killed — since Rust never runs destructors of statics. `initdb` refuses to run as root,
//! so under root the cluster runs as the `postgres` user (through `setpriv`).
//!
//! By default the cluster trades durability for speed: it runs with `fsync=off`,
//! `synchronous_commit=off` and `full_page_writes=off`, which is right for tests (a lost cluster
//! is thrown away anyway) and wrong for measuring commit cost. Benchmarks ask for a durable
//! cluster — PostgreSQL's own defaults, a commit waits for its WAL to be fsynced — either with
//! [`fresh_durable_database`] or by setting `REVERIE_PG_DURABLE=1` in the environment, which
//! makes the process's cluster durable whichever function starts it. Durability is decided once,
//! when the cluster starts: asking for a durable database from a process whose cluster already
//! runs without fsync panics rather than measure the wrong thing.
//!
//! Set `REVERIE_TEST_DATABASE_URL` to use an existing server instead (each caller still gets
//! its own database; its durability is then that server's own settings), and
//! `REVERIE_PG_BINDIR` to choose the binaries (default: `pg_config --bindir`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running cluster.
#[derive(Debug)]
pub struct Cluster {
    socket_dir: PathBuf,
    port: u16,
    bindir: PathBuf,
    run_as: Option<String>,
    durable: bool,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

fn bindir() -> PathBuf {
    if let Ok(dir) = std::env::var("REVERIE_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let out = Command::new("pg_config").arg("--bindir").output().expect(
        "pg_config not found: install PostgreSQL 15 (postgresql-15) or set REVERIE_PG_BINDIR",
    );
    assert!(
        out.status.success(),
        "pg_config --bindir failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).expect("utf-8 path").trim())
}

/// Whether `REVERIE_PG_DURABLE` asks for a durable cluster (`1`, `true`, `yes` or `on`).
fn durable_from_env() -> bool {
    std::env::var("REVERIE_PG_DURABLE")
        .map(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        })
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// A command run as `user` when set, else as ourselves. `setpriv` execs the program in place
/// (unlike `runuser`, which stays as its parent), so a spawned child's pid is the program's own
/// and signals reach it.
fn command(run_as: &Option<String>, program: &Path) -> Command {
    match run_as {
        Some(user) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={user}"),
                &format!("--regid={user}"),
                "--init-groups",
                "--",
            ])
            .arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Cluster {
    /// Starts a cluster; `durable` keeps PostgreSQL's default fsync and commit settings.
    // `postgres` and its watchdog are meant to outlive this function, and the watchdog this
    // process: neither is waited for here (the watchdog stops postgres; init reaps both).
    #[allow(clippy::zombie_processes)]
    fn start(durable: bool) -> Cluster {
        let bindir = bindir();
        let run_as = is_root().then(|| "postgres".to_string());
        // A short path: Unix socket paths are limited to about 100 bytes.
        let root = tempfile::Builder::new()
            .prefix("reverie-pg-")
            .tempdir_in("/tmp")
            .expect("a temp dir in /tmp")
            .keep();
        let data = root.join("data");
        let socket_dir = root.join("sock");
        std::fs::create_dir_all(&socket_dir).expect("socket dir");
        if run_as.is_some() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&root);
                    c
                },
                "chown of the cluster folder to postgres",
            );
        }
        let mut init = command(&run_as, &bindir.join("initdb"));
        init.arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(init, "initdb");

        let port: u16 = 20_000 + (rand::random::<u16>() % 40_000);
        let mut pg = command(&run_as, &bindir.join("postgres"));
        pg.arg("-D").arg(&data).arg("-k").arg(&socket_dir).args([
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=",
            "-c",
            "max_connections=200",
        ]);
        if !durable {
            pg.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        pg.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.join("postgres.log")).expect("log file"));
        let child = pg.spawn().expect("cannot start postgres");

        // Stop the cluster and remove its folder when this process is gone, however it ends.
        let watchdog = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill -INT {pg} 2>/dev/null; \
             for i in $(seq 1 100); do kill -0 {pg} 2>/dev/null || break; sleep 0.1; done; \
             kill -KILL {pg} 2>/dev/null; rm -rf '{dir}'",
            me = std::process::id(),
            pg = child.id(),
            dir = root.display()
        );
        Command::new("sh")
            .args(["-c", &watchdog])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start the cluster watchdog");

        let cluster = Cluster {
            socket_dir,
            port,
            bindir,
            run_as,
            durable,
        };
        cluster.wait_ready(&root);
        cluster
    }

    fn wait_ready(&self, root: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = Command::new(self.bindir.join("pg_isready"))
                .arg("-h")
                .arg(&self.socket_dir)
                .args(["-p", &self.port.to_string(), "-q"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(root.join("postgres.log")).unwrap_or_default();
                panic!("postgres did not become ready within 60 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost/{database}?host={}&port={}",
            self.socket_dir.display(),
            self.port
        )
    }

    fn psql(&self, sql: &str) {
        let mut c = command(&self.run_as, &self.bindir.join("psql"));
        c.arg("-h").arg(&self.socket_dir).args([
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            sql,
        ]);
        run(c, "psql");
    }
}

/// The URL of a new, empty database on the test cluster (started on first use; durable only
/// when `REVERIE_PG_DURABLE` asks for it).
pub fn fresh_database() -> String {
    fresh(false)
}

/// The URL of a new, empty database on a durable cluster: `fsync`, `synchronous_commit` and
/// `full_page_writes` on, as PostgreSQL ships. For benchmarks. Panics if this process's cluster
/// already runs without fsync (started by [`fresh_database`] without `REVERIE_PG_DURABLE`).
pub fn fresh_durable_database() -> String {
    fresh(true)
}

fn fresh(durable: bool) -> String {
    let n = DATABASES.fetch_add(1, Ordering::SeqCst);
    let name = format!("reverie_test_{}_{n}", std::process::id());
    if let Ok(url) = std::env::var("REVERIE_TEST_DATABASE_URL") {
        create_database_at(&url, &name);
        let base = url.split('?').next().unwrap_or(&url);
        let (server, _) = base.rsplit_once('/').unwrap_or((base, ""));
        let query = url
            .split_once('?')
            .map(|(_, q)| format!("?{q}"))
            .unwrap_or_default();
        return format!("{server}/{name}{query}");
    }
    let cluster = CLUSTER.get_or_init(|| Cluster::start(durable || durable_from_env()));
    assert!(
        cluster.durable || !durable,
        "a durable database was asked for, but this process's PostgreSQL cluster already runs \
         with fsync off: set REVERIE_PG_DURABLE=1 or ask for the durable database first"
    );
    cluster.psql(&format!("CREATE DATABASE {name}"));
    cluster.url(&name)
}

fn create_database_at(url: &str, name: &str) {
    let out = Command::new("psql")
        .args([
            url,
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .expect("psql on PATH to use REVERIE_TEST_DATABASE_URL");
    assert!(
        out.status.success(),
        "cannot create {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
