//! The operator binary as a process of the test: started with the control
//! plane's kubeconfig, watched by a shell that ends it when the test binary
//! ends (however it ends), and killed on demand.
#![allow(dead_code)] // each test binary uses a different part of it

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::support::ControlPlane;

pub struct Operator {
    watchdog: Child,
    pub pid_file: PathBuf,
    pub log: PathBuf,
    pub health: String,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Operator {
    /// Starts `support-operator run` with `args` and waits for `/readyz`.
    pub fn start(cp: &ControlPlane, name: &str, args: &[&str]) -> Operator {
        Operator::start_with_kubeconfig(cp, name, cp.kubeconfig_path(), args)
    }

    /// [`Operator::start`] with other credentials than the admin's (the chart
    /// test runs it with a token of the chart's ServiceAccount).
    pub fn start_with_kubeconfig(
        cp: &ControlPlane,
        name: &str,
        kubeconfig: &Path,
        args: &[&str],
    ) -> Operator {
        let op = Operator::spawn(cp, name, kubeconfig, args);
        op.wait_ready(Duration::from_secs(60));
        op
    }

    /// [`Operator::start_with_kubeconfig`] with `RUST_LOG` set to
    /// `rust_log`, or unset (the operator's default filter) for `None`.
    pub fn start_logging(
        cp: &ControlPlane,
        name: &str,
        kubeconfig: &Path,
        args: &[&str],
        rust_log: Option<&str>,
    ) -> Operator {
        let op = Operator::spawn_logging(cp, name, kubeconfig, args, rust_log);
        op.wait_ready(Duration::from_secs(60));
        op
    }

    /// Starts the operator without waiting for it to be ready: for a test
    /// that checks whether it becomes ready at all.
    pub fn spawn(cp: &ControlPlane, name: &str, kubeconfig: &Path, args: &[&str]) -> Operator {
        Operator::spawn_logging(
            cp,
            name,
            kubeconfig,
            args,
            Some("info,support_operator=debug"),
        )
    }

    fn spawn_logging(
        cp: &ControlPlane,
        name: &str,
        kubeconfig: &Path,
        args: &[&str],
        rust_log: Option<&str>,
    ) -> Operator {
        let port = free_port();
        let health = format!("127.0.0.1:{port}");
        let log = cp.dir().join(format!("{name}.log"));
        let pid_file = cp.dir().join(format!("{name}.pid"));
        let script = r#"parent=$1; pidfile=$2; log=$3; shift 3
"$@" >>"$log" 2>&1 &
child=$!
echo "$child" > "$pidfile"
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.3; done
kill -TERM "$child" 2>/dev/null
wait "$child""#;
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script)
            .arg("watchdog")
            .arg(std::process::id().to_string())
            .arg(&pid_file)
            .arg(&log)
            .arg(env!("CARGO_BIN_EXE_support-operator"))
            .arg("run")
            .arg("--health-addr")
            .arg(&health)
            .arg("--log-format")
            .arg("json")
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        let watchdog = cmd.spawn().expect("starting the operator");
        Operator {
            watchdog,
            pid_file,
            log,
            health,
        }
    }

    fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.get("/readyz").is_some_and(|b| b.trim() == "ok") {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "operator not ready in {timeout:?}; log:\n{}",
            self.log_tail(60)
        );
    }

    /// GET a path of the health server, `None` when it does not answer 200.
    pub fn get(&self, path: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.health).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.health
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 200").then(|| body.to_string())
    }

    pub fn pid(&self) -> Option<u32> {
        fs::read_to_string(&self.pid_file).ok()?.trim().parse().ok()
    }

    /// SIGKILL: no chance to release the lease or finish anything.
    pub fn kill_hard(&self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
        }
    }

    /// SIGTERM, then waits (up to `limit`) for the process to end: how long it took.
    pub fn terminate(&self, limit: Duration) -> Option<Duration> {
        let pid = self.pid()?;
        let started = Instant::now();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        while started.elapsed() < limit {
            let alive = Command::new("kill")
                .arg("-0")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            // A zombie still answers kill -0: its state in /proc says it ended.
            let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| {
                    s.rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
                .unwrap_or(true);
            if !alive || zombie {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

pub fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.watchdog.id().to_string())
            .status();
        let _ = self.watchdog.wait();
    }
}
