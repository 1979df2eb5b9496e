//! Issue 15 §4: a 1.3 KB alias bomb costs `evaluate` at most 0.1 s and
//! 32 MiB before it is refused. Heap use is counted by this binary's
//! allocator (one test, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support_operator::manifests::Manifests;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1024 * 1024;

#[test]
fn an_alias_bomb_is_refused_quickly_and_cheaply() {
    let bomb = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/bad-input/stream-billion-laughs.yaml"),
    )
    .unwrap();
    assert!(bomb.len() < 1400, "{} bytes", bomb.len());
    // Warm up whatever is initialised once (tz database, thread locals).
    let _ = Manifests::default().add_str("warm.yaml", "");
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = Instant::now();
    let err = Manifests::default()
        .add_str("bomb.yaml", &bomb)
        .expect_err("the bomb is refused");
    let took = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    eprintln!(
        "refused in {:.1} ms, peak heap {:.1} MiB: {err}",
        took.as_secs_f64() * 1000.0,
        peak as f64 / MIB as f64
    );
    assert!(err.to_string().contains("budget"), "{err}");
    assert!(took < Duration::from_millis(100), "took {took:?}");
    assert!(peak < 32 * MIB, "peak heap {peak} bytes");
}
