//! Build metadata for `support-operator --version` and the
//! `support_operator_build_info` metric: the commit and the build date.
//!
//! * Commit: `SUPPORT_OPERATOR_COMMIT` when set (image builds have no `.git`:
//!   pass it as a build argument), else `git rev-parse --short=12 HEAD` when
//!   git and a repository are there, else `unknown`. Never fails the build.
//! * Build date: `SOURCE_DATE_EPOCH` (seconds, for reproducible builds) when
//!   set, else the time this script runs, in UTC.
//!
//! The script runs again when those variables change or HEAD moves (not on
//! every source change, so the date is that of the commit's first build).

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=SUPPORT_OPERATOR_COMMIT");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let commit = match std::env::var("SUPPORT_OPERATOR_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            // HEAD, the branch it names and packed-refs (where they exist:
            // a missing file would make Cargo run this script every build).
            for path in ["HEAD", "packed-refs"]
                .into_iter()
                .map(String::from)
                .chain(git(&["symbolic-ref", "-q", "HEAD"]))
            {
                if let Some(file) = git(&["rev-parse", "--git-path", &path])
                    && Path::new(&file).exists()
                {
                    println!("cargo:rerun-if-changed={file}");
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into())
        }
    };
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    println!("cargo:rustc-env=SUPPORT_OPERATOR_COMMIT={commit}");
    println!(
        "cargo:rustc-env=SUPPORT_OPERATOR_BUILD_DATE={}",
        utc(seconds)
    );
}

/// The crate's own day arithmetic (plain integers, no dependencies): a
/// build script cannot use the crate it builds, but it can include a file.
#[allow(dead_code)]
#[path = "src/calendar/civil.rs"]
mod civil;

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since 1970, without a time library in
/// the build script.
fn utc(seconds: u64) -> String {
    let (year, month, day) = civil::civil_from_days((seconds / 86_400) as i64);
    let rest = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
