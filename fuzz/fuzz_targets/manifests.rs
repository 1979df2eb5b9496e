//! Any bytes as one manifest file: read, evaluated and rendered as
//! `evaluate -f` would, never panicking (checks: `harness::check_manifests`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use support_operator_fuzz::harness::check_manifests;

fuzz_target!(|data: &[u8]| {
    check_manifests(data);
});
