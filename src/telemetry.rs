//! Logging: structured `tracing` events, as JSON for a cluster's log pipeline
//! or as text for a terminal. Logs go to standard error; colour codes only
//! when that is a terminal (a file or a log collector gets plain text).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// Installs the global subscriber; `RUST_LOG` overrides the default level.
///
/// kube-client's request trace (`kube_client::client::builder`) is off by
/// default: it logs every failed request at ERROR without saying what it
/// was for, and the operator logs each failure itself, with the watch or
/// object it concerns (with kube-apiserver down that halved the lines).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,kube_runtime=warn,kube_client=warn,kube_client::client::builder=off,tower=warn,hyper=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
