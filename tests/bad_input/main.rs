//! Bad input (issue 6, item 3): every malformed or hostile manifest of
//! `tests/fixtures/bad-input/` is applied to a real kube-apiserver with the
//! operator running, and evaluated offline with `support-operator evaluate`;
//! both verdicts must be the ones the case's header states, nothing may
//! panic, and the operator must outlive the corpus (and a fresh one must
//! still start and serve tickets after it).
//!
//! Every case file starts with a comment header:
//!
//! ```text
//! # <what the case is, on one or more lines>
//! # expect: refused: <substring of kubectl's / the API server's message>
//! #       | accepted                      (not one of ours: nothing to wait for)
//! #       | accepted, Ready
//! #       | accepted, not Ready: <Reason> (condition Ready=False with that reason)
//! #       | accepted, ticket <Phase>[: <Reason>]  (status.phase; Accepted's reason)
//! # evaluate: exit <0|1|2>
//! # evaluate-says: <substring of evaluate's stderr>   (any number of them)
//! # evaluate-ticket: <Phase>[: <Reason>]   (ticket bi-<case> in evaluate's JSON)
//! # object: <Kind> <name>        (the object judged; default: every object in the file)
//! # needs-namespace: <ns>        (created before the case is applied)
//! # no-slice: <workspace> in <ns> (<ns>/support-policy must not be that workspace's)
//! # order: last                  (poison pills: applied once every other verdict is in)
//! # gap: <text>                  (a known gap, shown in the summary)
//! ```
//!
//! Each case is evaluated together with `base/` (a policy, two tiers and the
//! workspace whose namespace, `bi-base-tickets`, holds the corpus' tickets).
//! Bodies may hold generators, expanded at run time into a scratch folder so
//! that the corpus stays small: `@@REPEAT <text> <n>@@`, `@@HOLIDAYS <n>@@`,
//! `@@MEMBERS <n>@@`, `@@PAUSES <n>@@`, `@@NEST <n>@@`.
//!
//! Run with `--nocapture` to see one line per case: name, the verdict of the
//! API server (and operator), the verdict of `evaluate`, and known gaps.

#[path = "../e2e/operator.rs"]
mod operator;
#[path = "../support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, ListParams, PostParams};
use serde_json::{Value, json};
use support::{ControlPlane, poll, repo_root};
use support_operator::api::{API_VERSION, SlaPolicy, SupportTier, Ticket, Workspace};

use operator::Operator;

/// Where `support-routing` and nothing else of the corpus lives.
const OPERATOR_NS: &str = "bi-operator";
/// The namespace of the base workspace, where the corpus' tickets live.
const TICKETS_NS: &str = "bi-base-tickets";
/// Cases applied and evaluated at once (two cores: kubectl and evaluate are
/// mostly waiting on the API server or on process start-up).
const WORKERS: usize = 4;
/// How long the operator may take to give an accepted object its verdict.
const VERDICT_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest an `evaluate` run may take before it counts as hung.
const EVALUATE_TIMEOUT: Duration = Duration::from_secs(60);

fn corpus_dir() -> PathBuf {
    repo_root().join("tests/fixtures/bad-input")
}

// ---------------------------------------------------------------- the corpus

/// What the API server (and then the operator) is expected to say.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Refused(String),
    Accepted,
    Ready,
    NotReady(String),
    Ticket(String, Option<String>),
}

impl Expect {
    fn parse(text: &str) -> Option<Expect> {
        if let Some(message) = text.strip_prefix("refused: ") {
            return Some(Expect::Refused(message.to_string()));
        }
        match text {
            "accepted" => return Some(Expect::Accepted),
            "accepted, Ready" => return Some(Expect::Ready),
            _ => {}
        }
        if let Some(reason) = text.strip_prefix("accepted, not Ready: ") {
            return Some(Expect::NotReady(reason.to_string()));
        }
        let ticket = text.strip_prefix("accepted, ticket ")?;
        let (phase, reason) = phase_and_reason(ticket);
        Some(Expect::Ticket(phase, reason))
    }
}

/// `Phase` or `Phase: Reason`.
fn phase_and_reason(text: &str) -> (String, Option<String>) {
    match text.split_once(": ") {
        Some((phase, reason)) => (phase.to_string(), Some(reason.to_string())),
        None => (text.to_string(), None),
    }
}

fn show_ticket(phase: &str, reason: &Option<String>) -> String {
    match reason {
        Some(r) => format!("ticket {phase}: {r}"),
        None => format!("ticket {phase}"),
    }
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    /// The expanded copy, which both kubectl and evaluate read.
    file: PathBuf,
    text: String,
    api: Expect,
    exit: i32,
    says: Vec<String>,
    eval_ticket: Option<(String, Option<String>)>,
    object: Option<(String, String)>,
    needs_namespace: Option<String>,
    no_slice: Option<(String, String)>,
    last: bool,
    gaps: Vec<String>,
    /// The objects whose status is the verdict, `(kind, namespace, name)`,
    /// for cases the operator judges.
    judged: Vec<(String, String, String)>,
}

impl Case {
    /// Reads one case file's header; panics on a malformed header, so that a
    /// typo in the corpus cannot silently skip a check.
    fn parse(name: &str, raw: &str) -> Case {
        let mut api = None;
        let mut exit = None;
        let mut case = Case {
            name: name.to_string(),
            file: PathBuf::new(),
            text: String::new(),
            api: Expect::Accepted,
            exit: -1,
            says: Vec::new(),
            eval_ticket: None,
            object: None,
            needs_namespace: None,
            no_slice: None,
            last: false,
            gaps: Vec::new(),
            judged: Vec::new(),
        };
        let header = raw.lines().take_while(|l| l.starts_with('#'));
        for line in header {
            let line = line.trim_start_matches('#').trim();
            let Some((key, value)) = line.split_once(": ") else {
                continue;
            };
            let value = value.trim().to_string();
            match key {
                "expect" => {
                    let parsed = Expect::parse(&value)
                        .unwrap_or_else(|| panic!("{name}: cannot read `expect: {value}`"));
                    assert!(api.replace(parsed).is_none(), "{name}: two `expect:` lines");
                }
                "evaluate" => {
                    let code = value
                        .strip_prefix("exit ")
                        .and_then(|c| c.parse::<i32>().ok())
                        .filter(|c| (0..=2).contains(c))
                        .unwrap_or_else(|| panic!("{name}: cannot read `evaluate: {value}`"));
                    assert!(
                        exit.replace(code).is_none(),
                        "{name}: two `evaluate:` lines"
                    );
                }
                "evaluate-says" => case.says.push(value),
                "evaluate-ticket" => case.eval_ticket = Some(phase_and_reason(&value)),
                "object" => {
                    let (kind, object) = value
                        .split_once(' ')
                        .unwrap_or_else(|| panic!("{name}: `object: <Kind> <name>`"));
                    case.object = Some((kind.to_string(), object.to_string()));
                }
                "needs-namespace" => case.needs_namespace = Some(value),
                "no-slice" => {
                    let (ws, ns) = value
                        .split_once(" in ")
                        .unwrap_or_else(|| panic!("{name}: `no-slice: <workspace> in <ns>`"));
                    case.no_slice = Some((ws.to_string(), ns.to_string()));
                }
                "order" => {
                    assert_eq!(value, "last", "{name}: `order:` can only be `last`");
                    case.last = true;
                }
                "gap" => case.gaps.push(value),
                _ => {}
            }
        }
        case.api = api.unwrap_or_else(|| panic!("{name}: no `# expect:` line in the header"));
        case.exit = exit.unwrap_or_else(|| panic!("{name}: no `# evaluate:` line in the header"));
        // The same verdict offline: a ticket the operator judges is judged
        // the same way by evaluate, whenever evaluate gets that far.
        if let Expect::Ticket(phase, reason) = &case.api
            && case.exit != 1
        {
            assert_eq!(
                case.eval_ticket.as_ref(),
                Some(&(phase.clone(), reason.clone())),
                "{name}: `evaluate-ticket:` must repeat the ticket verdict of `expect:`"
            );
        }
        assert!(
            case.exit == 0 || !case.says.is_empty(),
            "{name}: an `evaluate: exit {}` case needs an `evaluate-says:` line",
            case.exit
        );
        case
    }

    /// The objects whose status is the verdict: `(kind, namespace, name)`.
    fn judged(&self) -> Vec<(String, String, String)> {
        let ticket_ns = |kind: &str, ns: Option<&str>| -> String {
            if kind == "Ticket" {
                ns.unwrap_or("default").to_string()
            } else {
                String::new()
            }
        };
        if let Some((kind, name)) = &self.object {
            let ns = (kind == "Ticket").then_some(TICKETS_NS);
            return vec![(kind.clone(), ticket_ns(kind, ns), name.clone())];
        }
        let docs: Vec<Value> = serde_saphyr::from_multiple(&self.text).unwrap_or_else(|e| {
            panic!(
                "{}: an accepted case must be readable YAML (or name its `object:`): {e}",
                self.name
            )
        });
        let mut out = Vec::new();
        let mut stack: Vec<Value> = docs;
        while let Some(doc) = stack.pop() {
            if doc["kind"] == "List" {
                stack.extend(doc["items"].as_array().cloned().unwrap_or_default());
                continue;
            }
            if doc["apiVersion"] != API_VERSION {
                continue;
            }
            let kind = doc["kind"].as_str().unwrap_or_default();
            let name = doc["metadata"]["name"].as_str().unwrap_or_default();
            let ns = doc["metadata"]["namespace"].as_str();
            out.push((kind.to_string(), ticket_ns(kind, ns), name.to_string()));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Expands the generators of a case body.
fn expand(name: &str, raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find("@@") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find("@@")
            .unwrap_or_else(|| panic!("{name}: unterminated @@ generator"));
        let words: Vec<&str> = after[..end].split(' ').collect();
        let count = |w: &str| -> usize {
            w.parse()
                .unwrap_or_else(|_| panic!("{name}: bad count {w:?} in a generator"))
        };
        match words.as_slice() {
            ["REPEAT", text, n] => out.push_str(&text.repeat(count(n))),
            ["NEST", n] => {
                out.push_str(&"[".repeat(count(n)));
                out.push_str(&"]".repeat(count(n)));
            }
            ["HOLIDAYS", n] => {
                let first = jiff::civil::date(2000, 1, 1);
                let items: Vec<String> = (0..count(n))
                    .map(|i| {
                        let day = first
                            .checked_add(jiff::Span::new().days(i as i64))
                            .expect("a date");
                        format!("{{date: \"{day}\", name: holiday-{i}}}")
                    })
                    .collect();
                out.push_str(&format!("[{}]", items.join(", ")));
            }
            ["MEMBERS", n] => {
                let items: Vec<String> = (0..count(n))
                    .map(|i| format!("{{kind: User, name: user-{i}@contoso.com}}"))
                    .collect();
                out.push_str(&format!("[{}]", items.join(", ")));
            }
            ["PAUSES", n] => {
                let first: Timestamp = "2026-11-23T09:00:00Z".parse().expect("an instant");
                let at = |minutes: usize| {
                    (first + jiff::SignedDuration::from_mins(minutes as i64))
                        .strftime("%Y-%m-%dT%H:%M:%SZ")
                        .to_string()
                };
                let items: Vec<String> = (0..count(n))
                    .map(|i| format!("{{from: \"{}\", to: \"{}\"}}", at(2 * i), at(2 * i + 1)))
                    .collect();
                out.push_str(&format!("[{}]", items.join(", ")));
            }
            other => panic!("{name}: unknown generator {other:?}"),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A folder of this test's own, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Reads the corpus and writes the expanded copies into `scratch`.
fn load_corpus(scratch: &Path) -> Vec<Case> {
    let mut files: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("tests/fixtures/bad-input")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let raw = fs::read_to_string(path).unwrap();
            let mut case = Case::parse(&name, &raw);
            case.text = expand(&name, &raw);
            if matches!(
                case.api,
                Expect::Ready | Expect::NotReady(_) | Expect::Ticket(..)
            ) {
                case.judged = case.judged();
                assert!(!case.judged.is_empty(), "{name}: no object to judge");
            }
            case.file = scratch.join(format!("{name}.yaml"));
            fs::write(&case.file, &case.text).unwrap();
            case
        })
        .collect()
}

// ---------------------------------------------------------------- running it

/// What kubectl said.
#[derive(Debug, Clone)]
struct Applied {
    ok: bool,
    message: String,
}

/// What evaluate did.
#[derive(Debug, Clone)]
struct Evaluated {
    /// `None`: killed by a signal (a crash) or by the timeout.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
}

fn apply(cp: &ControlPlane, file: &Path) -> Applied {
    let out = cp.kubectl(&["apply", "-f", file.to_str().unwrap()]);
    let mut message = String::from_utf8_lossy(&out.stderr).into_owned();
    if message.trim().is_empty() {
        message = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    Applied {
        ok: out.status.success(),
        message,
    }
}

fn evaluate(file: &Path, now: &str) -> Evaluated {
    let child = Command::new(env!("CARGO_BIN_EXE_support-operator"))
        .args(["evaluate", "--now", now, "-o", "json", "-f"])
        .arg(corpus_dir().join("base"))
        .arg("-f")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running evaluate");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let (output, timed_out) = match rx.recv_timeout(EVALUATE_TIMEOUT) {
        Ok(output) => (output, false),
        Err(_) => {
            // Only the process this function started, by its id.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            (rx.recv().expect("evaluate's waiter"), true)
        }
    };
    let output = output.expect("waiting for evaluate");
    Evaluated {
        code: if timed_out {
            None
        } else {
            output.status.code()
        },
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        timed_out,
    }
}

/// Applies and evaluates `cases` on a few threads; results in case order.
fn run_all(cp: &ControlPlane, cases: &[&Case]) -> Vec<(Applied, Evaluated)> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<(Applied, Evaluated)>>> =
        cases.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let applied = apply(cp, &case.file);
                    let now = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
                    let evaluated = evaluate(&case.file, &now);
                    *results[i].lock().unwrap() = Some((applied, evaluated));
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every case ran"))
        .collect()
}

/// Statuses of every support-operator object, keyed `(kind, namespace, name)`.
/// Read as dynamic objects: a typed list would fail on any object the
/// operator's types cannot hold (the poison pills of this corpus).
async fn statuses(client: &kube::Client) -> HashMap<(String, String, String), Value> {
    let mut out = HashMap::new();
    let kinds = [
        ApiResource::erase::<SlaPolicy>(&()),
        ApiResource::erase::<SupportTier>(&()),
        ApiResource::erase::<Workspace>(&()),
        ApiResource::erase::<Ticket>(&()),
    ];
    for resource in kinds {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let Ok(list) = api.list(&ListParams::default()).await else {
            continue;
        };
        for obj in list.items {
            let key = (
                resource.kind.clone(),
                obj.metadata.namespace.clone().unwrap_or_default(),
                obj.metadata.name.clone().unwrap_or_default(),
            );
            out.insert(key, obj.data.get("status").cloned().unwrap_or(Value::Null));
        }
    }
    out
}

fn condition<'a>(status: &'a Value, kind: &str) -> Option<&'a Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// The verdict an object's status shows, as `expect:` would write it.
fn observed(kind: &str, status: Option<&Value>) -> String {
    let Some(status) = status.filter(|s| !s.is_null()) else {
        return "accepted, no status".into();
    };
    if kind == "Ticket" {
        let phase = status["phase"].as_str().unwrap_or("-").to_string();
        let reason = condition(status, "Accepted")
            .filter(|c| c["status"] == "False")
            .and_then(|c| c["reason"].as_str())
            .map(String::from);
        return format!("accepted, {}", show_ticket(&phase, &reason));
    }
    match condition(status, "Ready") {
        Some(c) if c["status"] == "True" => "accepted, Ready".into(),
        Some(c) => format!(
            "accepted, not Ready: {}",
            c["reason"].as_str().unwrap_or("-")
        ),
        None => "accepted, no Ready condition".into(),
    }
}

fn verdict_matches(expected: &Expect, kind: &str, status: Option<&Value>) -> bool {
    let seen = observed(kind, status);
    match expected {
        Expect::Ready => seen == "accepted, Ready",
        Expect::NotReady(reason) => seen == format!("accepted, not Ready: {reason}"),
        Expect::Ticket(phase, None) => seen.starts_with(&format!("accepted, ticket {phase}")),
        Expect::Ticket(phase, reason) => {
            seen == format!("accepted, {}", show_ticket(phase, reason))
        }
        Expect::Accepted | Expect::Refused(_) => true,
    }
}

/// What the operator showed for one case: a line per object, and whether
/// every object showed the expected verdict.
struct Seen {
    text: String,
    matched: bool,
}

/// Waits until every accepted case's objects show their verdict, or the
/// timeout; gives what each case's objects showed last.
async fn wait_verdicts(
    client: &kube::Client,
    cases: &[&Case],
    applied: &[(Applied, Evaluated)],
) -> Vec<Option<Seen>> {
    let judged: Vec<Vec<(String, String, String)>> = cases
        .iter()
        .zip(applied)
        .map(|(case, (a, _))| {
            if a.ok {
                case.judged.clone()
            } else {
                Vec::new()
            }
        })
        .collect();
    let deadline = Instant::now() + VERDICT_TIMEOUT;
    loop {
        let all = statuses(client).await;
        let mut seen = Vec::with_capacity(cases.len());
        for (case, objects) in cases.iter().zip(&judged) {
            if objects.is_empty() {
                seen.push(None);
                continue;
            }
            let mut lines = Vec::new();
            let mut matched = true;
            for key in objects {
                let status = all.get(key);
                matched &= all.contains_key(key) && verdict_matches(&case.api, &key.0, status);
                let state = if all.contains_key(key) {
                    observed(&key.0, status)
                } else {
                    "not found".into()
                };
                lines.push(if objects.len() > 1 {
                    format!("{} {}: {state}", key.0, key.2)
                } else {
                    state
                });
            }
            seen.push(Some(Seen {
                text: lines.join("; "),
                matched,
            }));
        }
        let done = seen.iter().flatten().all(|s| s.matched);
        if done || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// One case's result line, and what did not match.
struct Outcome {
    api: String,
    evaluate: String,
    problems: Vec<String>,
}

fn judge(case: &Case, applied: &Applied, evaluated: &Evaluated, seen: Option<Seen>) -> Outcome {
    let mut problems = Vec::new();
    // The line of a message worth showing: the one with `want`, else the first.
    let folder = format!("{}/", case.file.parent().unwrap_or(Path::new("")).display());
    let line_of = |text: &str, want: Option<&str>| -> String {
        let text = text.replace(&folder, "");
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.clone().next().unwrap_or_default();
        let line = want
            .and_then(|w| lines.find(|l| l.contains(w)))
            .unwrap_or(first);
        // The file is the case's own: say what is in it.
        let line = line.trim_start_matches("error: ");
        let line = line
            .strip_prefix(&format!("{}.yaml: ", case.name))
            .unwrap_or(line);
        let short: String = line.chars().take(120).collect();
        if short.len() < line.len() {
            format!("{short}…")
        } else {
            short
        }
    };
    // Online.
    let matched = seen.as_ref().is_none_or(|s| s.matched);
    let api = match (applied.ok, seen) {
        (true, Some(seen)) => seen.text,
        (true, None) => "accepted".into(),
        (false, _) => {
            let want = match &case.api {
                Expect::Refused(w) => Some(w.as_str()),
                _ => None,
            };
            format!("refused: {}", line_of(&applied.message, want))
        }
    };
    match (&case.api, applied.ok) {
        (Expect::Refused(want), false) => {
            if !applied.message.contains(want.as_str()) {
                problems.push(format!(
                    "API: refused, but without {want:?}: {}",
                    applied.message.trim()
                ));
            }
        }
        (Expect::Refused(want), true) => {
            problems.push(format!("API: accepted, expected a refusal with {want:?}"));
        }
        (expected, false) => problems.push(format!(
            "API: refused, expected {expected:?}: {}",
            applied.message.trim()
        )),
        (expected, true) => {
            if !matched {
                problems.push(format!(
                    "operator: expected {expected:?}, got {api:?} after {VERDICT_TIMEOUT:?}"
                ));
            }
        }
    }
    // Offline.
    let mut evaluate = match evaluated.code {
        Some(code) => format!("exit {code}"),
        None if evaluated.timed_out => format!("hung > {EVALUATE_TIMEOUT:?}"),
        None => "killed by a signal".into(),
    };
    if evaluated.stderr.contains("panicked") || evaluated.code.is_none() {
        problems.push(format!(
            "evaluate crashed ({evaluate}): {}",
            evaluated.stderr.trim()
        ));
    } else if evaluated.code != Some(case.exit) {
        problems.push(format!(
            "evaluate: {evaluate}, expected exit {}: {}",
            case.exit,
            evaluated.stderr.trim()
        ));
    }
    for want in &case.says {
        if !evaluated.stderr.contains(want.as_str()) {
            problems.push(format!(
                "evaluate: stderr lacks {want:?}: {}",
                evaluated.stderr.trim()
            ));
        }
    }
    let file_name = format!("{}.yaml", case.name);
    if matches!(evaluated.code, Some(1 | 2)) && !evaluated.stderr.contains(&file_name) {
        problems.push(format!(
            "evaluate: the message does not name the file {file_name}: {}",
            evaluated.stderr.trim()
        ));
    }
    if evaluated.code == Some(1) && !evaluated.stdout.trim().is_empty() {
        problems.push("evaluate: exit 1 but something was printed".into());
    }
    if matches!(evaluated.code, Some(0 | 2)) {
        match serde_json::from_str::<Value>(&evaluated.stdout) {
            Err(e) => problems.push(format!("evaluate: output is not JSON: {e}")),
            Ok(doc) => {
                let name = format!("bi-{}", case.name);
                let ticket = doc["tickets"]
                    .as_array()
                    .and_then(|t| t.iter().find(|t| t["name"] == name.as_str()));
                if let Some(ticket) = ticket {
                    let seen = observed("Ticket", Some(&ticket["status"]));
                    evaluate = format!("{evaluate}, {}", seen.trim_start_matches("accepted, "));
                    if let Some((phase, reason)) = &case.eval_ticket {
                        let ok = match reason {
                            Some(_) => seen == format!("accepted, {}", show_ticket(phase, reason)),
                            None => seen.starts_with(&format!("accepted, ticket {phase}")),
                        };
                        if !ok {
                            problems.push(format!(
                                "evaluate: expected {}, got {seen:?}",
                                show_ticket(phase, reason)
                            ));
                        }
                    }
                } else if case.eval_ticket.is_some() {
                    problems.push(format!("evaluate: no ticket {name} in the output"));
                }
            }
        }
    }
    if evaluated.code == Some(1) || evaluated.code == Some(2) {
        let want = case.says.first().map(String::as_str);
        evaluate = format!("{evaluate}: {}", line_of(&evaluated.stderr, want));
    }
    Outcome {
        api,
        evaluate,
        problems,
    }
}

// ------------------------------------------------------ the operator process

/// Ticket reconciles a `/metrics` page reports.
fn ticket_reconciles(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with("support_operator_reconciles_total{controller=\"ticket\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The last warnings or errors of a log, each cut to a readable length.
fn short_tail(log: &Path) -> String {
    let text = operator::tail(log, 400);
    let lines: Vec<String> = text
        .lines()
        .filter(|l| l.contains("\"WARN\"") || l.contains("\"ERROR\""))
        .map(|l| l.chars().take(400).collect())
        .collect();
    lines[lines.len().saturating_sub(3)..].join("\n")
}

fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.to_string()))
        .is_some_and(|rest| !rest.starts_with('Z'))
}

// ------------------------------------------------------------------ the test

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_manifest_gets_the_same_clear_verdict_online_and_offline() {
    let started = Instant::now();
    let scratch = Scratch(
        std::env::temp_dir().join(format!("support-operator-bad-input-{}", std::process::id())),
    );
    let _ = fs::remove_dir_all(&scratch.0);
    fs::create_dir_all(&scratch.0).unwrap();
    let cases = load_corpus(&scratch.0);
    assert!(
        cases.len() >= 55,
        "the corpus has {} cases, fewer than 55",
        cases.len()
    );

    // The control plane, the CRDs, the roles, the operator and the base objects.
    let cp = ControlPlane::shared();
    cp.install_crds_and_roles();
    let client = cp.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut wanted: Vec<String> = vec![OPERATOR_NS.into(), "bi-restarted".into()];
    wanted.extend(cases.iter().filter_map(|c| c.needs_namespace.clone()));
    for ns in wanted {
        let object: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
        namespaces
            .create(&PostParams::default(), &object)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {ns}: {e}"));
    }
    let op = Operator::start(
        cp,
        "bad-input-operator",
        &[
            "--namespace",
            OPERATOR_NS,
            "--leader-election=false",
            "--routing-debounce",
            "200ms",
            "--default-workspace=",
        ],
    );
    let pid = op.pid().expect("the operator's pid");
    cp.kubectl_ok(&["apply", "-f", corpus_dir().join("base").to_str().unwrap()]);
    let base = [
        ("SlaPolicy", "bi-base-policy"),
        ("SupportTier", "bi-base-tier"),
        ("SupportTier", "bi-base-other"),
        ("Workspace", "bi-base-ws"),
    ];
    let ready = poll(Duration::from_secs(30), async || {
        let all = statuses(&client).await;
        let ns = namespaces.get_opt(TICKETS_NS).await.ok().flatten();
        (ns.is_some()
            && base.iter().all(|(kind, name)| {
                observed(
                    kind,
                    all.get(&(kind.to_string(), String::new(), name.to_string())),
                ) == "accepted, Ready"
            }))
        .then_some(())
    })
    .await;
    assert!(
        ready.is_some(),
        "the base objects are not Ready; operator log:\n{}",
        op.log_tail(40)
    );
    eprintln!(
        "bad input: {} cases; control plane, operator and base ready after {:.1}s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );

    // Every case but the poison pills, then those, each with its verdicts.
    let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
    for last in [false, true] {
        let (index, batch): (Vec<usize>, Vec<&Case>) = cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.last == last)
            .unzip();
        if batch.is_empty() {
            continue;
        }
        let phase = Instant::now();
        let ran = tokio::task::block_in_place(|| run_all(cp, &batch));
        let applied_in = phase.elapsed();
        let seen = wait_verdicts(&client, &batch, &ran).await;
        eprintln!(
            "bad input: {} {} applied and evaluated in {:.1}s, verdicts {:.1}s later",
            batch.len(),
            if last { "poison pills" } else { "cases" },
            applied_in.as_secs_f64(),
            (phase.elapsed() - applied_in).as_secs_f64()
        );
        for ((i, (applied, evaluated)), seen) in index.into_iter().zip(ran).zip(seen) {
            outcomes.push((i, judge(&cases[i], &applied, &evaluated, seen)));
        }
    }
    outcomes.sort_by_key(|(i, _)| *i);

    // Nothing published for a workspace that may not have its namespace.
    let mut extra: Vec<String> = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let Some((workspace, ns)) = &case.no_slice else {
            continue;
        };
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        let cm = maps.get_opt("support-policy").await.ok().flatten();
        let owned = cm.as_ref().is_some_and(|cm| {
            cm.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "Workspace" && &o.name == workspace)
        });
        if owned {
            outcomes[i].1.problems.push(format!(
                "operator: {ns}/support-policy is published for workspace {workspace}"
            ));
        }
    }

    // The operator lived through it all and still serves tickets.
    let canary = format!(
        "apiVersion: {API_VERSION}\nkind: Ticket\nmetadata: {{name: bi-canary, namespace: {TICKETS_NS}}}\nspec: {{title: canary, severity: A, openedAt: \"2020-01-06T08:00:00Z\"}}\n"
    );
    let canary_file = scratch.0.join("canary.yaml");
    fs::write(&canary_file, canary).unwrap();
    cp.kubectl_ok(&["apply", "-f", canary_file.to_str().unwrap()]);
    let key = (
        "Ticket".to_string(),
        TICKETS_NS.to_string(),
        "bi-canary".to_string(),
    );
    let canary_seen = poll(Duration::from_secs(15), async || {
        let all = statuses(&client).await;
        let seen = observed("Ticket", all.get(&key));
        (seen == "accepted, ticket Breached").then_some(seen)
    })
    .await;
    if canary_seen.is_none() {
        extra.push(
            "operator: a canary ticket applied after the corpus got no Breached status within 15s"
                .into(),
        );
    }
    if op.pid() != Some(pid) || !alive(pid) {
        extra.push(format!(
            "operator: process {pid} died or was replaced; log:\n{}",
            op.log_tail(40)
        ));
    }
    if op.get("/readyz").is_none_or(|b| b.trim() != "ok") {
        extra.push("operator: /readyz is not ok after the corpus".into());
    }
    let log = fs::read_to_string(&op.log).unwrap_or_default();
    if log.contains("panicked") {
        extra.push(format!(
            "operator: its log shows a panic:\n{}",
            op.log_tail(40)
        ));
    }

    // A restart after the corpus: a fresh operator must sync and serve tickets.
    // Not `Operator::start`: that one insists on becoming ready, and whether
    // it does is what is checked here.
    let fresh = Operator::spawn(
        cp,
        "bad-input-restarted",
        cp.kubeconfig_path(),
        &[
            "--namespace",
            "bi-restarted",
            "--leader-election=false",
            "--default-workspace=",
        ],
    );
    let fresh_ready = poll(Duration::from_secs(20), async || {
        fresh
            .get("/readyz")
            .filter(|b| b.trim() == "ok")
            .map(|_| ())
    })
    .await;
    let fresh_tickets = match fresh_ready {
        None => None,
        Some(()) => {
            poll(Duration::from_secs(15), async || {
                let n = ticket_reconciles(&fresh.get("/metrics").unwrap_or_default());
                (n > 0).then_some(n)
            })
            .await
        }
    };
    match (fresh_ready, fresh_tickets) {
        (None, _) => extra.push(format!(
            "restart: a fresh operator started after the corpus was not ready within 20s; log:\n{}",
            short_tail(&fresh.log)
        )),
        (Some(()), None) => extra.push(format!(
            "restart: a fresh operator started after the corpus reconciled no ticket within 15s; log:\n{}",
            short_tail(&fresh.log)
        )),
        _ => {}
    }
    if fs::read_to_string(&fresh.log)
        .unwrap_or_default()
        .contains("panicked")
    {
        extra.push("restart: the fresh operator's log shows a panic".into());
    }
    drop(fresh);

    // The table, then every mismatch at once.
    let width = cases.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut failures = Vec::new();
    eprintln!(
        "\n{:<width$}  {:<4}  API SERVER / OPERATOR  |  EVALUATE",
        "CASE", "OK"
    );
    for (i, outcome) in &outcomes {
        let case = &cases[*i];
        let ok = if outcome.problems.is_empty() {
            "ok"
        } else {
            "FAIL"
        };
        eprintln!(
            "{:<width$}  {ok:<4}  {}  |  {}",
            case.name, outcome.api, outcome.evaluate
        );
        for gap in &case.gaps {
            eprintln!("{:<width$}        gap: {gap}", "");
        }
        for problem in &outcome.problems {
            failures.push(format!("{}: {problem}", case.name));
        }
    }
    eprintln!(
        "{:<width$}  {:<4}  canary ticket {}; operator pid {pid} alive; fresh operator {}",
        "(operator)",
        if extra.is_empty() { "ok" } else { "FAIL" },
        canary_seen.as_deref().unwrap_or("without status"),
        match (fresh_ready, fresh_tickets) {
            (None, _) => "never ready".to_string(),
            (Some(()), None) => "ready, no ticket reconciled".to_string(),
            (Some(()), Some(n)) => format!("ready, {n} tickets reconciled"),
        }
    );
    failures.extend(extra);
    eprintln!(
        "\nbad input: {} cases, {} mismatches, {:.1}s",
        cases.len(),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of the bad-input checks failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
