//! Bad input, table-driven (issue 7): every row must exit with status 2 and a first error line
//! naming the field and what is allowed, with no panic and before any work starts. A new
//! subcommand adds its rows to `ROWS` (simulate's are at the end).

use crate::util::run;

/// `(arguments, words the first error line must hold)`.
const ROWS: &[(&[&str], &[&str])] = &[
    // run: numbers out of range, negative, not numbers.
    (
        &["run", "cpu-threads", "--n", "-1"],
        &["n = -1", "0..=50000"],
    ),
    (
        &["run", "cpu-threads", "--n", "abc"],
        &["n = \"abc\"", "0..=50000"],
    ),
    (
        &["run", "cpu-threads", "--n", "50001"],
        &["n = 50001", "0..=50000"],
    ),
    (
        &["run", "cpu-threads", "--n", "1.5"],
        &["n = 1.5", "0..=50000"],
    ),
    (
        &["run", "cpu-threads", "--tasks", "0"],
        &["tasks = 0", "1..=256"],
    ),
    (
        &["run", "cpu-threads", "--tasks", "-3"],
        &["tasks = -3", "1..=256"],
    ),
    (
        &["run", "cpu-threads", "--tasks", "x"],
        &["tasks = \"x\"", "1..=256"],
    ),
    (
        &["run", "cpu-threads", "--tasks", "257"],
        &["tasks = 257", "1..=256"],
    ),
    (
        &["run", "cpu-threads", "--workers", "0"],
        &["workers = 0", "1..=64"],
    ),
    (
        &["run", "cpu-threads", "--workers", "-1"],
        &["workers = -1", "1..=64"],
    ),
    (
        &["run", "cpu-threads", "--workers", "65"],
        &["workers = 65", "1..=64"],
    ),
    (
        &["run", "cpu-threads", "--workers", "many"],
        &["workers = \"many\"", "1..=64"],
    ),
    (
        &["run", "cpu-threads", "--switch-interval-ms", "0"],
        &["switch-interval-ms = 0", "0.01..=1000"],
    ),
    (
        &["run", "cpu-threads", "--switch-interval-ms", "-5"],
        &["switch-interval-ms = -5", "0.01..=1000"],
    ),
    (
        &["run", "cpu-threads", "--switch-interval-ms", "abc"],
        &["switch-interval-ms", "0.01..=1000"],
    ),
    (
        &["run", "cpu-threads", "--switch-interval-ms", "1001"],
        &["switch-interval-ms = 1001", "0.01..=1000"],
    ),
    (
        &["run", "io-threads", "--latency-ms", "-1"],
        &["latency-ms = -1", "0..=10000"],
    ),
    (
        &["run", "io-threads", "--latency-ms", "10001"],
        &["latency-ms = 10001", "0..=10000"],
    ),
    (
        &["run", "io-threads", "--latency-ms", "slow"],
        &["latency-ms = \"slow\"", "0..=10000"],
    ),
    (
        &["run", "io-threads", "--bandwidth-kbps", "-1"],
        &["bandwidth-kbps = -1", "0..=10000000"],
    ),
    (
        &["run", "io-threads", "--bandwidth-kbps", "10000001"],
        &["bandwidth-kbps = 10000001", "0..=10000000"],
    ),
    (
        &["run", "io-threads", "--bandwidth-kbps", "fast"],
        &["bandwidth-kbps", "0..=10000000"],
    ),
    (
        &["run", "race", "--increments", "0"],
        &["increments = 0", "1..=50000000"],
    ),
    (
        &["run", "race", "--increments", "-10"],
        &["increments = -10", "1..=50000000"],
    ),
    (
        &["run", "race", "--increments", "50000001"],
        &["increments = 50000001", "1..=50000000"],
    ),
    (
        &["run", "cpu-pool", "--chunksize", "0"],
        &["chunksize = 0", "1..=256"],
    ),
    (
        &["run", "cpu-pool", "--chunksize", "-2"],
        &["chunksize = -2", "1..=256"],
    ),
    (
        &["run", "cpu-pool", "--chunksize", "257"],
        &["chunksize = 257", "1..=256"],
    ),
    (
        &["run", "io-sequential", "--timeout-s", "0"],
        &["timeout-s = 0", "1..=3600"],
    ),
    (
        &["run", "io-sequential", "--timeout-s", "-1"],
        &["timeout-s = -1", "1..=3600"],
    ),
    (
        &["run", "io-sequential", "--timeout-s", "3601"],
        &["timeout-s = 3601", "1..=3600"],
    ),
    (
        &["run", "io-sequential", "--max-bytes", "0"],
        &["max-bytes = 0", "1..=4294967296"],
    ),
    (
        &["run", "io-sequential", "--max-bytes", "-1"],
        &["max-bytes = -1", "1..=4294967296"],
    ),
    (
        &["run", "cpu-threads", "--width", "10"],
        &["width = 10", "40..=400"],
    ),
    (
        &["run", "cpu-threads", "--width", "-80"],
        &["width = -80", "40..=400"],
    ),
    (
        &["run", "io-sequential", "--url", "ftp://x/y"],
        &["url = ftp://x/y", "http://"],
    ),
    // run: parameters that would change nothing.
    (
        &["run", "cpu-processes", "--gil", "free"],
        &["gil does not apply to cpu-processes"],
    ),
    (
        &["run", "cpu-threads", "--url", "http://127.0.0.1/x"],
        &["url does not apply to cpu-threads"],
    ),
    (
        &["run", "cpu-threads-free", "--switch-interval-ms", "1"],
        &["switch-interval-ms does not apply", "no GIL"],
    ),
    (
        &["run", "cpu-sequential", "--workers", "2"],
        &["workers does not apply to cpu-sequential"],
    ),
    (
        &["run", "race", "--tasks", "3"],
        &["tasks does not apply to race"],
    ),
    (
        &["run", "cpu-threads", "--increments", "5"],
        &["increments does not apply"],
    ),
    (
        &["run", "cpu-threads", "--chunksize", "2"],
        &["chunksize does not apply"],
    ),
    (
        &["run", "cpu-threads", "--timeout-s", "5"],
        &["timeout-s does not apply to cpu-threads"],
    ),
    (
        &[
            "run",
            "io-threads",
            "--url",
            "http://127.0.0.1/x",
            "--latency-ms",
            "5",
        ],
        &["latency-ms does not apply"],
    ),
    (
        &["run", "cpu-processes", "--latency-ms", "5"],
        &["latency-ms does not apply"],
    ),
    (
        &["run", "cpu-quantum"],
        &["unknown scenario", "cpu-threads"],
    ),
    (
        &[
            "run",
            "cpu-threads",
            "--json",
            "/nonexistent-gil-lab/r.json",
        ],
        &["json = ", "does not exist"],
    ),
    (
        &[
            "run",
            "cpu-threads",
            "--trace",
            "/nonexistent-gil-lab/t.json",
        ],
        &["trace = ", "does not exist"],
    ),
    (
        &["run", "cpu-threads", "--svg", "/"],
        &["svg = /", "folder"],
    ),
    // bench
    (&["bench", "--n", "-1"], &["n = -1", "0..=50000"]),
    (&["bench", "--n", "60000"], &["n = 60000", "0..=50000"]),
    (&["bench", "--n", "abc"], &["n = \"abc\"", "0..=50000"]),
    (
        &["bench", "--latency-ms", "-1"],
        &["latency-ms = -1", "0..=10000"],
    ),
    (
        &["bench", "--bandwidth-kbps", "x"],
        &["bandwidth-kbps", "0..=10000000"],
    ),
    (
        &["bench", "--json", "/nonexistent-gil-lab/b.json"],
        &["json = ", "does not exist"],
    ),
    // images
    (&["images", "--port", "-1"], &["port = -1", "0..=65535"]),
    (
        &["images", "--port", "65536"],
        &["port = 65536", "0..=65535"],
    ),
    (
        &["images", "--port", "http"],
        &["port = \"http\"", "0..=65535"],
    ),
    (
        &["images", "--latency-ms", "-1"],
        &["latency-ms = -1", "0..=10000"],
    ),
    (
        &["images", "--bandwidth-kbps", "-1"],
        &["bandwidth-kbps = -1", "0..=10000000"],
    ),
    // serve
    (&["serve", "--port", "-1"], &["port = -1", "0..=65535"]),
    (
        &["serve", "--port", "99999"],
        &["port = 99999", "0..=65535"],
    ),
    (
        &["serve", "--bind", "999.1.1.1"],
        &["bind = \"999.1.1.1\"", "IP address"],
    ),
    (
        &["serve", "--root", "/nonexistent-gil-lab"],
        &["root = /nonexistent-gil-lab", "does not exist"],
    ),
    // simulate: the machine it models.
    (
        &["simulate", "cpu-pool", "--cores", "0"],
        &["cores = 0", "1..=256"],
    ),
    (
        &["simulate", "cpu-pool", "--cores", "257"],
        &["cores = 257", "1..=256"],
    ),
    (
        &["simulate", "cpu-pool", "--cores", "-1"],
        &["cores = -1", "1..=256"],
    ),
    (
        &["simulate", "cpu-pool", "--cores", "x"],
        &["cores = \"x\"", "1..=256"],
    ),
    (
        &["simulate", "cpu-threads", "--python", "2.7"],
        &[
            "python = 2.7",
            "3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.13t, 3.14t",
        ],
    ),
    (
        &["simulate", "cpu-processes", "--start-method", "thread"],
        &["start-method = thread", "fork, spawn or forkserver"],
    ),
    (
        &["simulate", "cpu-threads", "--seed", "-1"],
        &["seed = -1", "0..="],
    ),
    (
        &["simulate", "cpu-threads", "--pace", "fast"],
        &["pace = fast", "native or cpython"],
    ),
    (
        &["simulate", "cpu-threads", "--n", "-5"],
        &["n = -5", "0..=50000"],
    ),
    (
        &["simulate", "cpu-threads", "--width", "5"],
        &["width = 5", "40..=400"],
    ),
];

#[test]
fn every_bad_input_exits_2_naming_the_field() {
    assert!(ROWS.len() >= 40);
    // A folder without index.html is a bad --root too.
    let empty = tempfile::tempdir().expect("temp dir");
    let empty_root = empty.path().to_str().expect("utf-8").to_owned();
    let extra: Vec<Vec<&str>> = vec![vec!["serve", "--port", "0", "--root", &empty_root]];
    let mut failures = Vec::new();
    let rows = ROWS.iter().map(|(a, n)| (a.to_vec(), n.to_vec())).chain(
        extra
            .into_iter()
            .map(|a| (a, vec!["root = ", "index.html"])),
    );
    for (args, needles) in rows {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_default();
        if err.contains("panicked") {
            failures.push(format!("{args:?}: panicked: {err}"));
        } else if out.status.code() != Some(2) {
            failures.push(format!("{args:?}: exit {:?}: {err}", out.status.code()));
        } else if let Some(missing) = needles.iter().find(|n| !line.contains(*n)) {
            failures.push(format!("{args:?}: {missing:?} not in {line:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `-inf`, `-1e3` and friends are values, not flags (issue 11: `--n -inf` was read as the
/// flags `-i -n -f`): every numeric flag answers them with its own range message.
#[test]
fn values_starting_with_a_minus_reach_the_range_check() {
    let flags: &[(&[&str], &str)] = &[
        (&["run", "cpu-threads"], "n"),
        (&["run", "cpu-threads"], "tasks"),
        (&["run", "cpu-threads"], "workers"),
        (&["run", "cpu-threads"], "switch-interval-ms"),
        (&["run", "io-threads"], "latency-ms"),
        (&["run", "io-threads"], "bandwidth-kbps"),
        (&["run", "race"], "increments"),
        (&["run", "cpu-pool"], "chunksize"),
        (&["run", "io-threads"], "timeout-s"),
        (&["run", "io-threads"], "max-bytes"),
        (&["run", "cpu-threads"], "width"),
        (&["simulate", "cpu-threads"], "cores"),
        (&["simulate", "cpu-threads"], "seed"),
        (&["bench"], "n"),
        (&["images"], "port"),
        (&["serve"], "port"),
    ];
    let mut failures = Vec::new();
    for (cmd, field) in flags {
        for value in ["-inf", "-1e3", "-NaN", "-infinity"] {
            let flag = format!("--{field}");
            let mut args = cmd.to_vec();
            args.extend([flag.as_str(), value]);
            let out = run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            let line = err
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or_default();
            let named = format!("{field} = {value}");
            if out.status.code() != Some(2) || !line.contains(&named) || !line.contains("..=") {
                failures.push(format!("{args:?}: exit {:?}: {line}", out.status.code()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
