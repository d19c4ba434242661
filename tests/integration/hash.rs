//! The hash demo (issue 12, part 3): C code that releases the GIL. Real SHA-256 digests, and
//! who runs when: under a classic GIL Python code never overlaps, C code may.

use gil_lab::trace::{RunReport, SpanState};
use gil_lab::view::max_concurrent;
use gil_lab::workload::TaskOutcome;

use crate::util::{cores, report};

/// `hashlib.sha256((bytes(range(251)) * k)[:n]).hexdigest()` in CPython 3.11, for n = 2 MiB
/// and 16 MiB: the buffer whose byte `i` is `i % 251`.
const SHA256_2_MIB: &str = "1e075c8d478ad21844e33e830a695ef03a4d2488b69ee275bd8947618bb1be1e";
const SHA256_16_MIB: &str = "287507f403176f1f5b22b9a4d9cb49f7d7f88ac19e406b5ae87ce109564846bd";

fn digests(r: &RunReport) -> Vec<String> {
    r.tasks
        .iter()
        .map(|t| match &t.outcome {
            TaskOutcome::Hashed { sha256 } => sha256.clone(),
            other => panic!("task {} has no digest: {other:?}", t.id),
        })
        .collect()
}

/// Whether two spans of `state_a` and `state_b` on different lanes overlap in time.
fn overlap(r: &RunReport, a: SpanState, b: SpanState) -> bool {
    r.spans.iter().filter(|s| s.state == a).any(|x| {
        r.spans
            .iter()
            .filter(|s| s.state == b && s.lane != x.lane)
            .any(|y| x.start_us < y.end_us && y.start_us < x.end_us)
    })
}

#[test]
fn digests_equal_cpython_however_the_updates_are_cut() {
    for chunk in ["1048576", "1000", "3000"] {
        let r = report(&["hash-sequential", "--mib", "2", "--chunk-bytes", chunk]);
        assert_eq!(digests(&r), vec![SHA256_2_MIB; 4], "chunk {chunk}");
    }
}

#[test]
fn big_updates_run_in_c_beside_the_gil_holder() {
    let r = report(&["hash-threads", "--mib", "16", "--chunk-bytes", "1048576"]);
    assert_eq!(digests(&r), vec![SHA256_16_MIB; 4]);
    assert_eq!(r.lanes.len(), 4);
    // Python code still takes turns under the classic GIL.
    assert_eq!(max_concurrent(&r, SpanState::Running), 1);
    assert!(r.spans.iter().any(|s| s.state == SpanState::CCode));
    if cores() >= 2 {
        // Four threads with 16 updates each on two or more cores: C code meets C code.
        assert!(overlap(&r, SpanState::CCode, SpanState::CCode));
    }
    // The report names the new state, and the summary says what it means.
    assert!(r.to_json().contains("\"c_code\""));
    assert!(gil_lab::view::text_summary(&r).contains("ran C code"));
}

#[test]
fn small_updates_hold_the_gil_throughout() {
    let r = report(&["hash-threads", "--mib", "2", "--chunk-bytes", "1024"]);
    assert_eq!(digests(&r), vec![SHA256_2_MIB; 4]);
    assert!(!r.spans.iter().any(|s| s.state == SpanState::CCode));
    assert_eq!(max_concurrent(&r, SpanState::Running), 1);
}

#[test]
fn hash_parameters_apply_only_to_the_hash_demo() {
    let out = crate::util::run(&["run", "cpu-threads", "--mib", "4", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::util::stderr(&out).contains("mib"),
        "{}",
        crate::util::stderr(&out)
    );
    let out = crate::util::run(&["run", "hash-threads", "--mib", "0", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
}
