//! Running the binary and reading its report.

use std::process::{Command, Output};

use gil_lab::trace::RunReport;

/// The `gil-lab` binary cargo built for these tests, or the one `GIL_LAB_TEST_BIN` names (an
/// older build: to see a new test fail before its fix).
pub fn bin() -> Command {
    let path = std::env::var_os("GIL_LAB_TEST_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_gil-lab").into());
    let mut c = Command::new(path);
    // Keep the sequential-baseline cache out of the developer's home.
    c.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("gil-lab-tests-cache"),
    );
    c
}

/// Runs `gil-lab <args>`.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("gil-lab starts")
}

/// Runs `gil-lab run <args> --json - --quiet` and parses the report from stdout.
pub fn report(args: &[&str]) -> RunReport {
    report_of("run", args)
}

/// The report `gil-lab COMMAND ARGS --json -` prints (`run`, `simulate`).
pub fn report_of(command: &str, args: &[&str]) -> RunReport {
    let mut all = vec![command];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "-", "--quiet"]);
    let out = run(&all);
    assert!(
        out.status.success(),
        "gil-lab {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    RunReport::from_json(&String::from_utf8_lossy(&out.stdout)).expect("stdout is a report")
}

/// Logical cores here.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A tag unique to this test process and call, for finding the processes a test started.
pub fn unique_tag(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The `gil-lab` binary with `GIL_LAB_TEST_TAG=tag` in its environment (children inherit it).
pub fn tagged(tag: &str) -> Command {
    let mut c = bin();
    c.env("GIL_LAB_TEST_TAG", tag);
    c
}

/// Live `gil-lab __worker` processes carrying `tag` (zombies not counted).
pub fn workers_with(tag: &str) -> usize {
    worker_pids(tag).len()
}

/// The pids of live `gil-lab __worker` processes carrying `tag`.
pub fn worker_pids(tag: &str) -> Vec<u32> {
    let needle = format!("GIL_LAB_TEST_TAG={tag}");
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            let p = e.path();
            let cmd = std::fs::read(p.join("cmdline")).unwrap_or_default();
            let env = std::fs::read(p.join("environ")).unwrap_or_default();
            let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
            !zombie
                && cmd.split(|&b| b == 0).any(|a| a == b"__worker")
                && env.split(|&b| b == 0).any(|v| v == needle.as_bytes())
        })
        .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
        .collect()
}

/// Waits up to `limit` for `cond`; whether it came true.
pub fn wait_for(limit: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    cond()
}

/// Waits up to `limit` for `child` to exit; its exit code (`None`: killed by a signal, or
/// still running, in which case it is killed).
pub fn wait_exit(child: &mut std::process::Child, limit: std::time::Duration) -> Option<i32> {
    let mut code = None;
    let exited = wait_for(limit, || match child.try_wait() {
        Ok(Some(s)) => {
            code = s.code();
            true
        }
        _ => false,
    });
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
        panic!("gil-lab did not exit within {limit:?}");
    }
    code
}

/// Sends `signal` to a whole process group, as a terminal's Ctrl-C does.
pub fn signal_group(pgid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), "--".into(), format!("-{pgid}")])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} -- -{pgid}");
}
