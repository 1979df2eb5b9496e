//! What this binary is: the crate version, the commit it was built from and
//! when (set by `build.rs`; `unknown` commit when built without git and
//! without `SUPPORT_OPERATOR_COMMIT`). Printed by `--version` and exported
//! as `support_operator_build_info`.

/// The crate version (Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit (12 hex digits) or `unknown`.
pub const COMMIT: &str = env!("SUPPORT_OPERATOR_COMMIT");
/// When it was built, RFC 3339 in UTC (or `SOURCE_DATE_EPOCH`).
pub const BUILD_DATE: &str = env!("SUPPORT_OPERATOR_BUILD_DATE");

/// `--version`: `0.1.0 (commit 0123456789ab, built 2026-12-02T01:30:00Z)`.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SUPPORT_OPERATOR_COMMIT"),
    ", built ",
    env!("SUPPORT_OPERATOR_BUILD_DATE"),
    ")"
);
