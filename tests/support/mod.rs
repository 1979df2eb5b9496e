//! A real Kubernetes control plane for integration tests (DESIGN.md,
//! "Testing against a real control plane"): etcd, kube-apiserver with RBAC
//! and kube-controller-manager (garbage collector, namespace and
//! service-account controllers) on loopback, started by `hack/control-plane`.
//!
//! Include it with `mod support;` and call [`ControlPlane::shared`]. One
//! control plane serves every test of a test binary, and those tests run in
//! parallel: give each test its own namespace (and names) with
//! [`ControlPlane::unique_name`].
//!
//! The control plane is started once per test binary, as a child process
//! watching this process (`--parent`): it stops and removes its folder within
//! about a second of the test binary ending, however it ends (even `kill -9`).
//! Set `SUPPORT_OPERATOR_KEEP_CONTROL_PLANE=1` to keep the folder (etcd data,
//! kubeconfig, logs/) for a look afterwards.
#![allow(dead_code)] // each test binary uses a different part of it

pub mod held;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// How long `hack/control-plane up` may take once the binaries are built.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A running control plane; see the module documentation.
pub struct ControlPlane {
    dir: PathBuf,
    bin_dir: PathBuf,
    kubeconfig: PathBuf,
}

static SHARED: OnceLock<Result<ControlPlane, String>> = OnceLock::new();

impl ControlPlane {
    /// The control plane of this test binary, started on first use.
    ///
    /// Panics (in every test that asks, not only the first) if it could not
    /// be started, with the end of its logs.
    pub fn shared() -> &'static ControlPlane {
        match SHARED.get_or_init(ControlPlane::start) {
            Ok(control_plane) => control_plane,
            Err(message) => panic!("{message}"),
        }
    }

    fn start() -> Result<ControlPlane, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));

        // Building is slow only the first time on a machine (hack/test does
        // it up front); it has no time limit and shows progress on stderr.
        let build = Command::new(root.join("hack/control-plane-build"))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run hack/control-plane-build: {e}"))?;
        if !build.status.success() {
            return Err(format!("hack/control-plane-build failed: {}", build.status));
        }
        let bin_dir = PathBuf::from(String::from_utf8_lossy(&build.stdout).trim());

        let dir = std::env::temp_dir().join(format!("support-operator-cp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // The script's own output goes to a file, never to a pipe: a pipe
        // would break (and kill the script before it cleans up) when this
        // process dies.
        let log_path = dir.join("control-plane.log");
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;

        let mut command = Command::new(root.join("hack/control-plane"));
        command
            .arg("up")
            .arg(&dir)
            .arg("--parent")
            .arg(std::process::id().to_string());
        if std::env::var_os("SUPPORT_OPERATOR_KEEP_CONTROL_PLANE").is_none() {
            command.arg("--rm");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot run hack/control-plane: {e}"))?;

        let started = Instant::now();
        let ready = dir.join("ready");
        loop {
            if ready.exists() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "hack/control-plane exited ({status}) before it was ready\n{}",
                    log_tails(&dir)
                ));
            }
            if started.elapsed() > READY_TIMEOUT {
                stop(&mut child);
                return Err(format!(
                    "hack/control-plane was not ready after {READY_TIMEOUT:?}\n{}",
                    log_tails(&dir)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "control plane ready in {:.1}s: KUBECONFIG={}",
            started.elapsed().as_secs_f64(),
            dir.join("kubeconfig").display()
        );
        Ok(ControlPlane {
            kubeconfig: dir.join("kubeconfig"),
            bin_dir,
            dir,
        })
    }

    /// The admin kubeconfig (group `system:masters`; may impersonate).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// Where kube-apiserver, kube-controller-manager, kubectl, etcd and helm are.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The control plane's folder (etcd data, pki/, kubeconfig, logs/).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The admin's client configuration, to adjust before building a client.
    pub async fn config(&self) -> Config {
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.kubeconfig.display()));
        Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .unwrap_or_else(|e| panic!("loading {}: {e}", self.kubeconfig.display()))
    }

    /// A client acting as the admin.
    pub async fn client(&self) -> Client {
        Client::try_from(self.config().await).expect("building the admin client")
    }

    /// A client acting as `user` in `groups` (impersonated by the admin;
    /// the API server adds `system:authenticated`).
    pub async fn client_as(&self, user: &str, groups: &[&str]) -> Client {
        let mut config = self.config().await;
        config.auth_info.impersonate = Some(user.to_owned());
        config.auth_info.impersonate_groups =
            (!groups.is_empty()).then(|| groups.iter().map(|g| (*g).to_owned()).collect());
        Client::try_from(config).expect("building an impersonating client")
    }

    /// Runs kubectl with `KUBECONFIG` set to the admin kubeconfig.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(self.bin_dir.join("kubectl"))
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::null())
            .output()
            .expect("running kubectl")
    }

    /// Runs kubectl and returns its stdout; panics with its output if it fails.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A name no other test (of this or an earlier run) uses: `prefix-<n>-<random>`,
    /// a valid namespace/object name (lowercase, at most 63 characters).
    pub fn unique_name(prefix: &str) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static SALT: OnceLock<String> = OnceLock::new();
        let salt = SALT.get_or_init(|| {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            base36((nanos as u64) ^ (u64::from(std::process::id()) << 40))
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let prefix: String = prefix
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(40)
            .collect();
        format!(
            "{}-{n}-{}",
            prefix.trim_matches('-'),
            &salt[..salt.len().min(8)]
        )
    }

    /// The last lines of every log of the control plane, for failure messages.
    pub fn log_tails(&self) -> String {
        log_tails(&self.dir)
    }
}

fn base36(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).expect("ascii")
}

fn stop(child: &mut Child) {
    // SIGTERM lets the script stop what it started (Child::kill is SIGKILL).
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn log_tails(dir: &Path) -> String {
    let mut files = vec![dir.join("control-plane.log")];
    if let Ok(entries) = fs::read_dir(dir.join("logs")) {
        let mut logs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        logs.sort();
        files.extend(logs);
    }
    let mut out = String::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(30)..];
        out.push_str(&format!(
            "---- {} (last {} lines)\n",
            file.display(),
            tail.len()
        ));
        for line in tail {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A ticket status without what depends on when or how often it was written
/// (transition times, observed generations), for comparing the cluster's
/// status with `evaluate`'s.
pub fn strip_times(mut status: serde_json::Value) -> serde_json::Value {
    if let Some(conditions) = status
        .get_mut("conditions")
        .and_then(serde_json::Value::as_array_mut)
    {
        for c in conditions {
            if let Some(o) = c.as_object_mut() {
                o.remove("lastTransitionTime");
                o.remove("observedGeneration");
            }
        }
    }
    if let Some(o) = status.as_object_mut() {
        o.remove("observedGeneration");
    }
    status
}

/// The repository root (the crate's manifest folder).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl ControlPlane {
    /// Waits until every CRD the API server knows is Established.
    pub fn wait_crds_established(&self) {
        self.kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "crd",
            "--all",
            "--timeout=60s",
        ]);
    }

    /// The checked-in CRDs (Established when this returns) and the ticket
    /// roles of `deploy/cluster-roles.yaml`, as a user installs them.
    pub fn install_crds_and_roles(&self) {
        let root = repo_root();
        self.kubectl_ok(&["apply", "-f", root.join("crds").to_str().unwrap()]);
        self.wait_crds_established();
        self.kubectl_ok(&[
            "apply",
            "-f",
            root.join("deploy/cluster-roles.yaml").to_str().unwrap(),
        ]);
    }

    /// Applies a YAML document through kubectl, as a user would.
    pub fn apply_yaml(&self, yaml: &str) -> Output {
        let file = self
            .dir()
            .join(format!("{}.yaml", ControlPlane::unique_name("apply")));
        fs::write(&file, yaml).unwrap();
        self.kubectl(&["apply", "-f", file.to_str().unwrap()])
    }

    /// [`ControlPlane::apply_yaml`], which must succeed.
    pub fn apply_yaml_ok(&self, yaml: &str) {
        let out = self.apply_yaml(yaml);
        assert!(
            out.status.success(),
            "apply failed: {}\n{yaml}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Waits (up to 30 s) until namespace `ns` exists: the operator makes a
/// workspace's namespace.
pub async fn wait_namespace(cp: &ControlPlane, ns: &str) {
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(cp.client().await);
    eventually(
        Duration::from_secs(30),
        &format!("namespace {ns}"),
        async || api.get_opt(ns).await.ok().flatten().map(|_| ()),
    )
    .await;
}

/// Applies examples/ as a user would, to a running operator: policies,
/// tiers, workspaces and publishers, then (once the operator has made the
/// workspaces' namespaces) the tickets.
pub async fn apply_examples(cp: &ControlPlane) {
    let examples = repo_root().join("examples");
    for file in [
        "policies.yaml",
        "tiers.yaml",
        "workspaces.yaml",
        "publishers.yaml",
    ] {
        cp.kubectl_ok(&["apply", "-f", examples.join(file).to_str().unwrap()]);
    }
    for ns in ["finance-support", "marketing-support", "support-default"] {
        wait_namespace(cp, ns).await;
    }
    cp.kubectl_ok(&[
        "apply",
        "-f",
        examples.join("tickets.yaml").to_str().unwrap(),
    ]);
}

/// Waits (up to 60 s) until every ticket of `manifests` holds, times aside
/// ([`strip_times`]), the status `evaluate` gives at the same instant
/// (retried: a phase may turn between the two reads); that evaluation. On
/// failure, the differences and `log()` (what the operator logged).
pub async fn statuses_as_evaluated(
    client: &Client,
    manifests: &support_operator::manifests::Manifests,
    operator_namespace: &str,
    log: impl Fn() -> String,
) -> support_operator::evaluate::Evaluated {
    use support_operator::api::Ticket;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = jiff::Timestamp::now();
        let expected =
            support_operator::evaluate::evaluate_manifests(manifests, now, operator_namespace);
        let mut diffs = Vec::new();
        for report in &expected.report.tickets {
            let api: kube::Api<Ticket> = kube::Api::namespaced(client.clone(), &report.namespace);
            let got = api
                .get_opt(&report.name)
                .await
                .ok()
                .flatten()
                .and_then(|t| serde_json::to_value(t.status?).ok())
                .map(strip_times);
            let want = strip_times(serde_json::to_value(&report.status).unwrap());
            if got.as_ref() != Some(&want) {
                diffs.push(format!(
                    "{}/{}:\n  cluster:  {}\n  evaluate: {}",
                    report.namespace,
                    report.name,
                    got.unwrap_or(serde_json::Value::Null),
                    want
                ));
            }
        }
        if diffs.is_empty() {
            return expected;
        }
        assert!(
            Instant::now() < deadline,
            "statuses differ from evaluate:\n{}\noperator log:\n{}",
            diffs.join("\n"),
            log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits (up to 30 s) until the workspace slice of `namespace` (ConfigMap
/// support-policy) holds the data `evaluate` gave for it in `expected`.
pub async fn slice_as_evaluated(
    client: &Client,
    expected: &support_operator::evaluate::Evaluated,
    namespace: &str,
) {
    let want = expected
        .report
        .config_maps
        .iter()
        .find(|c| c.metadata.namespace.as_deref() == Some(namespace))
        .and_then(|c| c.data.clone())
        .unwrap_or_else(|| panic!("evaluate gave no slice for {namespace}"));
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client.clone(), namespace);
    eventually(
        Duration::from_secs(30),
        &format!("{namespace}/support-policy"),
        async || {
            let cm = api.get_opt("support-policy").await.ok().flatten()?;
            (cm.data.as_ref() == Some(&want)).then_some(())
        },
    )
    .await;
}

/// A request that must be refused by authorization: a 403, whose message it
/// gives, printed with the API server's words (an escalation refusal lists
/// every rule not held: the first few say enough).
pub fn forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) -> String {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {
            let lines: Vec<&str> = status.message.lines().collect();
            let shown = lines[..lines.len().min(4)].join("\n              ");
            let more = match lines.len().saturating_sub(4) {
                0 => String::new(),
                n => format!("\n              ... and {n} more rules not held"),
            };
            eprintln!(
                "  refused   {what}\n            HTTP 403 {}: {shown}{more}",
                status.reason
            );
            status.message.clone()
        }
        other => panic!("{what}: expected 403 Forbidden, got {other:?}"),
    }
}

/// The identity holding the Lease `name` of `leases`, if any.
pub async fn lease_holder(
    leases: &kube::Api<k8s_openapi::api::coordination::v1::Lease>,
    name: &str,
) -> Option<String> {
    leases.get_opt(name).await.ok()??.spec?.holder_identity
}

/// Polls `check` every 200 ms until it gives a value, or `None` once
/// `timeout` has passed.
pub async fn poll<T>(timeout: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Polls `check` until it gives a value; panics naming `what` (with the
/// end of the control plane's logs) once `timeout` has passed.
pub async fn eventually<T>(
    timeout: Duration,
    what: &str,
    check: impl AsyncFnMut() -> Option<T>,
) -> T {
    match poll(timeout, check).await {
        Some(v) => v,
        None => panic!("timed out after {timeout:?} waiting for {what}"),
    }
}

/// Output bytes as text, for messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl ControlPlane {
    /// Runs the helm of the control plane's bin folder, with its own cache,
    /// config and data folders (nothing of the user's) and the admin
    /// kubeconfig, from the repository root.
    pub fn helm(&self, args: &[&str]) -> Output {
        let home = self.dir().join("helm-home");
        Command::new(self.bin_dir().join("helm"))
            .args(args)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("KUBECONFIG", self.kubeconfig_path())
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .output()
            .expect("running helm")
    }

    /// [`ControlPlane::helm`], which must succeed; its standard output.
    pub fn helm_ok(&self, args: &[&str]) -> String {
        let out = self.helm(args);
        assert!(
            out.status.success(),
            "helm {args:?} failed:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// A kubeconfig (written to `file` in the control plane's folder) that
    /// reaches this API server with its CA as `user`, by bearer `token`.
    pub fn token_kubeconfig(
        &self,
        file: &str,
        user: &str,
        token: &str,
        namespace: Option<&str>,
    ) -> PathBuf {
        let admin = Kubeconfig::read_from(self.kubeconfig_path()).unwrap();
        let cluster = admin.clusters[0].cluster.as_ref().unwrap();
        let server = cluster.server.as_ref().unwrap();
        let ca = cluster.certificate_authority_data.as_ref().unwrap();
        let namespace = namespace.map_or(String::new(), |ns| format!("    namespace: {ns}\n"));
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
             users:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: token\n  context:\n    cluster: test\n    user: {user}\n{namespace}\
             current-context: token\n"
        );
        let path = self.dir().join(file);
        fs::write(&path, kubeconfig).unwrap();
        path
    }
}

/// A client from a kubeconfig file.
pub async fn client_from(kubeconfig: &Path) -> Client {
    let config = Config::from_custom_kubeconfig(
        Kubeconfig::read_from(kubeconfig).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    Client::try_from(config).unwrap()
}
