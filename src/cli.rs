//! The command line: `evaluate` and `crds` (and, with the controllers, `run`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::deadline::plan::Plan;
use crate::evaluate::{Evaluated, GateOptions, StreamedReport, evaluate_with};
use crate::manifests::{Finding, Manifests, Severity};

#[derive(Parser, Debug)]
#[command(
    name = "support-operator",
    version = crate::version::LONG,
    about = "Support tiers, SLA policies and workspaces as live cluster state",
    // A flag given twice takes its last value, so the Helm chart's
    // `extraArgs` (placed after the chart's own) override them.
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the operator: controllers, health and metrics server, leader election.
    Run(RunArgs),
    /// Apply the deadline rules offline to manifest files or folders and print
    /// every Ticket's status and the ConfigMaps the operator would write; a
    /// pre-merge gate: every object is checked as the API server checks it.
    ///
    /// Exit codes: 0 no error; 1 findings (the cluster would refuse an
    /// object, a reference dangles, an object would not be Ready; output
    /// still printed); 2 usage error or unreadable input (nothing printed).
    Evaluate(EvaluateArgs),
    /// Print the CustomResourceDefinitions as YAML (or write one file each).
    Crds(CrdsArgs),
}

#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// Manifest files or folders (YAML or JSON, multi-document; folders
    /// recursively); `-` reads standard input (`kustomize build | evaluate -f -`).
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Refuse objects of other kinds (Namespaces, ConfigMaps, ...) instead of
    /// skipping them.
    #[arg(long)]
    pub strict_kinds: bool,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub warnings_as_errors: bool,
    /// The manifests before the change (files, folders or `-`): print, per
    /// ticket, what the change from these to `-f` does, and a summary.
    #[arg(long, num_args = 1..)]
    pub baseline: Vec<PathBuf>,
    /// The instant to evaluate at (RFC 3339); default: the current time.
    #[arg(long, value_parser = parse_now)]
    pub now: Option<Timestamp>,
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Namespace the operator runs in (where `support-routing` lives).
    #[arg(long, default_value = "support-operator")]
    pub operator_namespace: String,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Namespace the operator runs in: `support-routing` and the leader lease live here.
    #[arg(long, env = "POD_NAMESPACE", default_value = "support-operator")]
    pub namespace: String,
    /// Address of `/healthz`, `/readyz` and `/metrics`.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub health_addr: std::net::SocketAddr,
    /// Elect a leader among replicas (off: this process always leads).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_election: bool,
    #[arg(long, default_value = "support-operator")]
    pub lease_name: String,
    /// This replica's identity in the lease and in Events; default: the host name.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Name of the workspace kept in existence; empty to keep none.
    #[arg(long, default_value = "default")]
    pub default_workspace: String,
    #[arg(long, default_value = "support-default")]
    pub default_workspace_namespace: String,
    #[arg(long, default_value = "productivity")]
    pub default_workspace_tier: String,
    /// E-mail domains of personal (consumer) accounts.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "outlook.com,hotmail.com,live.com,gmail.com,yahoo.com"
    )]
    pub personal_domains: Vec<String>,
    /// Quiet time before a change is compiled into the routing table: a Go
    /// duration such as 500ms, 1.5s or 1m30s (api::pattern::FLAG_DURATION).
    #[arg(long, default_value = "500ms", value_parser = parse_flag_duration)]
    pub routing_debounce: std::time::Duration,
    /// Seconds a leader's lease lasts: a standby takes over at most this
    /// long after the leader stops renewing.
    #[arg(long, default_value_t = crate::controller::leader::LEASE_SECONDS, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub lease_duration_seconds: u64,
    /// Seconds before the lease ends at which the leader renews it; less
    /// than --lease-duration-seconds.
    #[arg(long, default_value_t = crate::controller::leader::GRACE_SECONDS, value_parser = clap::value_parser!(u64).range(1..=3599))]
    pub lease_renew_grace_seconds: u64,
    /// Tickets reconciled at once.
    #[arg(long, default_value_t = 8)]
    pub ticket_concurrency: u16,
    #[arg(long, value_enum, default_value_t = crate::telemetry::LogFormat::Text, env = "LOG_FORMAT")]
    pub log_format: crate::telemetry::LogFormat,
    /// The `workspace` label of the ticket metrics: `full` (one series per
    /// workspace) or `none` (empty: totals by severity and phase, for
    /// thousands of workspaces).
    #[arg(long, value_enum, default_value_t = crate::metrics::WorkspaceLabel::Full)]
    pub metrics_workspace_label: crate::metrics::WorkspaceLabel,
}

fn parse_flag_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::api::quantity::parse_flag_duration(text).map_err(|e| e.to_string())
}

#[derive(clap::Args, Debug)]
pub struct CrdsArgs {
    /// Write `<plural>.<group>.yaml` files into this folder instead of printing.
    #[arg(long, conflicts_with = "markdown")]
    pub out_dir: Option<PathBuf>,
    /// Print the field reference as Markdown (between the markers of docs/field-reference.md).
    #[arg(long)]
    pub markdown: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
    Table,
    /// SARIF 2.1.0: the findings, for code-scanning annotations.
    Sarif,
}

fn parse_now(text: &str) -> Result<Timestamp, String> {
    text.parse::<Timestamp>().map_err(|e| {
        format!("{text:?} is not an RFC 3339 instant such as 2026-11-23T08:00:00Z: {e}")
    })
}

/// Runs the command line; errors are printed, never panicked.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run_operator(args),
        Command::Crds(args) if args.markdown => print_out(&crate::api::reference::markdown()),
        Command::Crds(args) => match &args.out_dir {
            None => match crate::api::crds_yaml() {
                Ok(yaml) => print_out(&yaml),
                Err(e) => fail(&format!("cannot render the CRDs: {e}")),
            },
            Some(dir) => write_crds(dir),
        },
        Command::Evaluate(args) => run_evaluate(&args),
    }
}

fn write_crds(dir: &std::path::Path) -> ExitCode {
    for crd in crate::api::crds() {
        let path = dir.join(crate::api::crd_file_name(&crd));
        let yaml = match serde_saphyr::to_string(&crd) {
            Ok(y) => y,
            Err(e) => return fail(&format!("cannot render the CRDs: {e}")),
        };
        if let Err(e) = std::fs::write(&path, yaml) {
            return fail(&format!("{}: cannot write: {e}", path.display()));
        }
    }
    ExitCode::SUCCESS
}

fn run_operator(args: RunArgs) -> ExitCode {
    crate::telemetry::init(args.log_format);
    if args.lease_renew_grace_seconds >= args.lease_duration_seconds {
        return fail(&format!(
            "--lease-renew-grace-seconds ({}) must be less than --lease-duration-seconds ({})",
            args.lease_renew_grace_seconds, args.lease_duration_seconds
        ));
    }
    let identity = args.identity.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| format!("support-operator-{}", std::process::id()))
    });
    let settings = crate::controller::Settings {
        namespace: args.namespace,
        health_addr: args.health_addr,
        leader_election: args.leader_election,
        lease_name: args.lease_name,
        lease_duration_seconds: args.lease_duration_seconds,
        lease_renew_grace_seconds: args.lease_renew_grace_seconds,
        identity,
        default_workspace: (!args.default_workspace.is_empty()).then_some({
            crate::controller::DefaultWorkspace {
                name: args.default_workspace,
                namespace: args.default_workspace_namespace,
                tier: args.default_workspace_tier,
            }
        }),
        personal_domains: args.personal_domains,
        routing_debounce: args.routing_debounce,
        ticket_concurrency: args.ticket_concurrency.max(1),
        metrics_workspace_label: args.metrics_workspace_label,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(crate::controller::run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "operator stopped");
            fail(&e.to_string())
        }
    }
}

fn print_out(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&format!("cannot write output: {e}")),
    }
}

/// Writes `value` as pretty JSON and a newline to stdout, buffered, without
/// building the whole text first; a closed pipe is not an error.
fn print_json(value: &impl Serialize) -> ExitCode {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&format!("cannot write output: {e}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

/// `evaluate`'s exit codes (see [`Command::Evaluate`]).
const EXIT_FINDINGS: u8 = 1;
const EXIT_UNREADABLE: u8 = 2;

/// Input that cannot be read, or output that cannot be written: exit 2.
fn unreadable(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_UNREADABLE)
}

/// `evaluate -o json`: streamed, see [`StreamedReport`].
fn evaluate_json(manifests: &Manifests, now: Timestamp, args: &EvaluateArgs) -> ExitCode {
    let catalog = manifests.catalog();
    let report = StreamedReport::new(
        manifests,
        &catalog,
        now,
        &args.operator_namespace,
        gate(args),
    );
    let code = print_json(&report);
    if code != ExitCode::SUCCESS {
        return code;
    }
    findings_exit(&report.findings, manifests, args)
}

fn gate(args: &EvaluateArgs) -> GateOptions {
    GateOptions {
        strict_kinds: args.strict_kinds,
    }
}

/// Prints findings and a summary to stderr: exit 1 if any is an error (or
/// a warning, with `--warnings-as-errors`).
fn findings_exit(findings: &[Finding], manifests: &Manifests, args: &EvaluateArgs) -> ExitCode {
    use std::io::Write;
    let mut errors = 0;
    let mut warnings = 0;
    // Buffered: a hundred thousand tickets may carry tens of thousands of
    // warnings, and standard error writes each line on its own otherwise.
    // A closed standard error (`2>&-`) loses the lines, not the exit code.
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    for finding in findings {
        let _ = match finding.severity {
            Severity::Error => {
                errors += 1;
                writeln!(err, "error: {finding}")
            }
            Severity::Warning => {
                warnings += 1;
                writeln!(err, "warning: {finding}")
            }
        };
    }
    let skipped = manifests.skipped.len();
    if errors + warnings > 0 || (skipped > 0 && !args.strict_kinds) {
        let mut line = format!("{errors} errors, {warnings} warnings");
        if skipped > 0 && !args.strict_kinds {
            line.push_str(&format!("; {skipped} objects of other kinds skipped"));
        }
        let _ = writeln!(err, "{line}");
    }
    let _ = err.flush();
    if errors > 0 || (args.warnings_as_errors && warnings > 0) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    }
}

/// Standard input, read whole when `-f -` asks for it.
fn read_stdin(args: &EvaluateArgs) -> Result<Option<String>, String> {
    if !args
        .paths
        .iter()
        .any(|p| p.as_os_str() == crate::manifests::STDIN)
    {
        return Ok(None);
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
        .map_err(|e| format!("-: cannot read standard input: {e}"))?;
    Ok(Some(text))
}

fn run_evaluate(args: &EvaluateArgs) -> ExitCode {
    let stdin = match read_stdin(args) {
        Ok(text) => text,
        Err(e) => return unreadable(&e),
    };
    let manifests = match Manifests::load_with_stdin(&args.paths, stdin.as_deref()) {
        Ok(m) => m,
        Err(e) => return unreadable(&e.to_string()),
    };
    let now = args.now.unwrap_or_else(Timestamp::now);
    if !args.baseline.is_empty() {
        let baseline = match Manifests::load_with_stdin(&args.baseline, stdin.as_deref()) {
            Ok(m) => m,
            Err(e) => return unreadable(&e.to_string()),
        };
        let code = run_impact(&baseline, &manifests, now, args);
        std::mem::forget(baseline);
        std::mem::forget(manifests);
        return code;
    }
    if args.output == Output::Json {
        let code = evaluate_json(&manifests, now, args);
        // The process ends right after this: freeing every ticket and
        // string one by one took ~13% of the run at 100,000 tickets, and the
        // system reclaims the memory at exit anyway.
        std::mem::forget(manifests);
        return code;
    }
    let evaluated = evaluate_with(&manifests, now, &args.operator_namespace, gate(args));
    let text = match args.output {
        Output::Yaml => match serde_saphyr::to_string(&evaluated.report) {
            Ok(s) => s,
            Err(e) => return unreadable(&format!("cannot render YAML: {e}")),
        },
        Output::Sarif => {
            match serde_json::to_string_pretty(&crate::evaluate::sarif::log(&evaluated.findings)) {
                Ok(s) => s + "\n",
                Err(e) => return unreadable(&format!("cannot render SARIF: {e}")),
            }
        }
        _ => table(&evaluated, now),
    };
    let code = print_out(&text);
    if code != ExitCode::SUCCESS {
        return code;
    }
    let code = findings_exit(&evaluated.findings, &manifests, args);
    std::mem::forget(evaluated);
    std::mem::forget(manifests);
    code
}

/// `evaluate --baseline OLD -f NEW`: what the change does to every ticket,
/// judged by the same core on both sides; the new side's findings as usual.
fn run_impact(
    baseline: &Manifests,
    manifests: &Manifests,
    now: Timestamp,
    args: &EvaluateArgs,
) -> ExitCode {
    use crate::evaluate::impact;
    let (old_catalog, new_catalog) = (baseline.catalog(), manifests.catalog());
    let before = impact::statuses(baseline, &old_catalog, now);
    let after = impact::statuses(manifests, &new_catalog, now);
    let result = impact::compare(&before, &after);
    let findings = crate::evaluate::findings_of(
        manifests,
        &new_catalog,
        &args.operator_namespace,
        now,
        gate(args),
    );
    let code = match args.output {
        Output::Json => print_json(&serde_json::json!({
            "summary": result.summary,
            "tickets": result.tickets,
            "findings": findings,
        })),
        Output::Yaml => match serde_saphyr::to_string(&result) {
            Ok(s) => print_out(&s),
            Err(e) => return unreadable(&format!("cannot render YAML: {e}")),
        },
        Output::Sarif => print_json(&crate::evaluate::sarif::log(&findings)),
        Output::Table => print_out(&impact_table(&result, now)),
    };
    if code != ExitCode::SUCCESS {
        return code;
    }
    findings_exit(&findings, manifests, args)
}

/// One line per ticket that changes, then the summary line.
pub fn impact_table(result: &crate::evaluate::impact::Impact, now: Timestamp) -> String {
    use crate::evaluate::impact::{Change, DueChange, moved};
    let at = |t: &Option<Timestamp>| {
        t.map_or("-".to_string(), |t| {
            t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        })
    };
    let due = |d: &Option<DueChange>| match d {
        None => "=".to_string(),
        Some(d) => match d.moved_seconds {
            Some(s) => format!("{} → {} ({})", at(&d.before), at(&d.after), moved(s)),
            None => format!("{} → {}", at(&d.before), at(&d.after)),
        },
    };
    let change = |c: &Option<Change<String>>| match c {
        None => "=".to_string(),
        Some(c) => format!(
            "{} → {}",
            c.before.as_deref().unwrap_or("-"),
            c.after.as_deref().unwrap_or("-")
        ),
    };
    let mut rows: Vec<[String; 8]> = vec![[
        "TICKET".into(),
        "CHANGE".into(),
        "DUE (UTC)".into(),
        "RESOLUTION DUE (UTC)".into(),
        "PHASE".into(),
        "SEVERITY".into(),
        "COVERAGE".into(),
        "ESCALATION".into(),
    ]];
    for t in &result.tickets {
        rows.push([
            format!("{}/{}", t.namespace, t.name),
            t.change.to_string(),
            due(&t.response_due),
            due(&t.resolution_due),
            change(&t.phase),
            change(&t.severity),
            change(&t.coverage),
            change(&t.escalation),
        ]);
    }
    let mut out = aligned(&rows);
    out.push_str(&format!(
        "\nat {}: {}\n",
        now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        result.summary.line()
    ));
    out
}

/// Rows as columns padded to their widest cell, two spaces apart.
fn aligned<const N: usize>(rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

const COLUMNS: usize = 9;

/// The NEXT column: where a redirected ticket goes (and how to reach it),
/// else the next step after the effort cap, else `-`.
fn next_of(s: &crate::api::TicketStatus) -> String {
    if let Some(r) = &s.redirect {
        let how = r.contact.as_ref().and_then(|c| {
            c.url
                .as_ref()
                .or(c.email.as_ref())
                .or(c.phone.as_ref())
                .cloned()
        });
        return match how {
            Some(how) => format!("{:?} {} {how}", r.to, r.name),
            None => format!("{:?} {}", r.to, r.name),
        };
    }
    s.next_step.map_or("-".into(), |n| n.as_str().to_string())
}

/// A person's view: one line per ticket, due time in local and UTC, the
/// resolution due time, and what comes next (where a redirected ticket
/// goes, or the next step once the effort cap is reached).
pub fn table(evaluated: &Evaluated, now: Timestamp) -> String {
    let mut rows: Vec<[String; COLUMNS]> = vec![[
        "TICKET".into(),
        "WORKSPACE".into(),
        "SEVERITY".into(),
        "PHASE".into(),
        "ESCALATION".into(),
        "DUE (LOCAL)".into(),
        "DUE (UTC)".into(),
        "RESOLUTION DUE (UTC)".into(),
        "NEXT".into(),
    ]];
    for (report, eval) in evaluated.report.tickets.iter().zip(&evaluated.evaluations) {
        let s = &report.status;
        let severity = match (&s.severity, &s.downgrade) {
            (Some(sev), Some(d)) => format!("{sev} (from {})", d.from),
            (Some(sev), None) => sev.clone(),
            (None, _) => "-".into(),
        };
        let phase = match s.phase {
            Some(p @ (crate::api::Phase::Rejected | crate::api::Phase::Redirected)) => {
                let reason = s
                    .conditions
                    .iter()
                    .find(|c| c.type_ == "Accepted")
                    .map(|c| c.reason.as_str());
                format!("{}: {}", p.as_str(), reason.unwrap_or("?"))
            }
            Some(p) => p.as_str().to_string(),
            None => "-".into(),
        };
        let escalation = s
            .escalation
            .as_ref()
            .map_or("-".into(), |e| format!("{} {:?}", e.level, e.support_type));
        let (local, utc) = match (&s.response_due_at, &eval.plan) {
            (Some(due), Plan::Accepted(a)) => {
                let sla = a.sla.as_ref();
                let zone = sla
                    .and_then(|s| TimeZone::get(&s.zone).ok())
                    .unwrap_or(TimeZone::UTC);
                let local = due.0.to_zoned(zone);
                (
                    format!(
                        "{} {}",
                        local.strftime("%a %Y-%m-%d %H:%M %Z"),
                        sla.map_or("", |s| s.calendar.as_str())
                    ),
                    due.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                )
            }
            // An open pause, or a calendar that reaches the target only
            // beyond the 100-year horizon.
            (None, Plan::Accepted(a)) if a.sla.is_some() => {
                let why = if s.phase == Some(crate::api::Phase::Paused) {
                    "never (paused)"
                } else {
                    "never"
                };
                (why.into(), "-".into())
            }
            _ => ("-".into(), "-".into()),
        };
        let resolution = s.resolution_due_at.as_ref().map_or("-".into(), |d| {
            d.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        });
        rows.push([
            format!("{}/{}", report.namespace, report.name),
            s.workspace.clone().unwrap_or_else(|| "-".into()),
            severity,
            phase,
            escalation,
            local,
            utc,
            resolution,
            next_of(s),
        ]);
    }
    let mut out = aligned(&rows);
    let maps: Vec<String> = evaluated
        .report
        .config_maps
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c.metadata.namespace.as_deref().unwrap_or_default(),
                c.metadata.name.as_deref().unwrap_or_default()
            )
        })
        .collect();
    out.push_str(&format!(
        "\n{} tickets at {}; ConfigMaps: {}\n",
        evaluated.report.tickets.len(),
        now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        maps.join(", ")
    ));
    if !evaluated.report.skipped.is_empty() {
        let kinds: Vec<String> = evaluated
            .report
            .skipped
            .iter()
            .map(|(kind, n)| format!("{kind} ×{n}"))
            .collect();
        out.push_str(&format!(
            "skipped {} objects of other kinds: {}\n",
            evaluated.report.skipped.values().sum::<usize>(),
            kinds.join(", ")
        ));
    }
    out
}
