//! The view's behaviour as a whole: golden pictures, the lesson-scale rule (every thread's row
//! shows its running share), GIL tracks, windows, and the words for every kind of report.

use std::path::{Path, PathBuf};

use super::frame::TRACK_H;
use super::*;
use crate::trace::{Convoy, CpuSource, GilStats, RunReport, Simulation, Source, Span, SpanState};

/// A reference picture: the report it is drawn from, the window it shows, and the SVG (and
/// terminal text) it must give.
struct Golden {
    name: &'static str,
    /// The checked-in report, for fixtures small enough to keep as JSON; the others are drawn
    /// from the fixture itself.
    json: Option<&'static str>,
    svg: &'static str,
    /// The terminal rendering (100 cells, no colour), where it is fixed too.
    txt: Option<&'static str>,
    window: Option<(u64, u64)>,
    build: fn() -> RunReport,
}

/// The lesson run's window a learner zooms into: 20 ms at 2.345 s, four 5 ms turns.
const ZOOM: (u64, u64) = (2_345_000, 2_365_000);

const GOLDENS: [Golden; 5] = [
    Golden {
        name: "cpu-threads",
        json: Some(include_str!(
            "../../../tests/golden/cpu-threads.report.json"
        )),
        svg: include_str!("../../../tests/golden/cpu-threads.svg"),
        txt: None,
        window: None,
        build: fixtures::cpu_threads,
    },
    Golden {
        name: "race",
        json: Some(include_str!("../../../tests/golden/race.report.json")),
        svg: include_str!("../../../tests/golden/race.svg"),
        txt: None,
        window: None,
        build: fixtures::race,
    },
    Golden {
        name: "io-threads",
        json: Some(include_str!("../../../tests/golden/io-threads.report.json")),
        svg: include_str!("../../../tests/golden/io-threads.svg"),
        txt: None,
        window: None,
        build: fixtures::io_threads,
    },
    Golden {
        name: "cpu-threads-lesson",
        json: None,
        svg: include_str!("../../../tests/golden/cpu-threads-lesson.svg"),
        txt: Some(include_str!("../../../tests/golden/cpu-threads-lesson.txt")),
        window: None,
        build: fixtures::cpu_threads_lesson,
    },
    Golden {
        name: "cpu-threads-lesson-zoom",
        json: None,
        svg: include_str!("../../../tests/golden/cpu-threads-lesson-zoom.svg"),
        txt: Some(include_str!(
            "../../../tests/golden/cpu-threads-lesson-zoom.txt"
        )),
        window: Some(ZOOM),
        build: fixtures::cpu_threads_lesson,
    },
];

const BLESS: &str = "GIL_LAB_BLESS=1 cargo test -p gil-lab view::";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

/// Where a failing comparison leaves the actual pictures (and a side-by-side page).
fn actual_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("golden-actual")
}

fn draw(g: &Golden, report: &RunReport) -> (String, String) {
    let opts = LayoutOptions {
        window: g.window,
        span_us: None,
    };
    let svg = layout_with(report, &opts).to_svg();
    let txt = terminal_with(
        report,
        &TerminalOptions {
            width: 100,
            color: false,
            window: g.window,
        },
    );
    (svg, txt)
}

/// typst's habit: reference outputs checked in, regenerated only on purpose
/// (`GIL_LAB_BLESS=1`), and on a mismatch the actual output is written beside a page showing
/// both.
#[test]
fn golden_pictures() {
    let bless = std::env::var("GIL_LAB_BLESS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for g in &GOLDENS {
        let fresh = (g.build)();
        let fresh_json = fresh.to_json() + "\n";
        if bless {
            let dir = golden_dir();
            std::fs::create_dir_all(&dir).expect("create tests/golden");
            let (svg, txt) = draw(g, &fresh);
            if g.json.is_some() {
                std::fs::write(dir.join(format!("{}.report.json", g.name)), &fresh_json)
                    .expect("write golden report");
            }
            std::fs::write(dir.join(format!("{}.svg", g.name)), svg).expect("write golden svg");
            if g.txt.is_some() {
                std::fs::write(dir.join(format!("{}.txt", g.name)), txt)
                    .expect("write golden text");
            }
            continue;
        }
        // Draw from the checked-in JSON where there is one, as any other reader of the file
        // would.
        let report = match g.json {
            Some(json) => {
                if json != fresh_json {
                    failures.push(format!(
                        "{}.report.json differs from its fixture (fixture or report format changed)",
                        g.name
                    ));
                }
                RunReport::from_json(json).expect("golden report parses")
            }
            None => fresh,
        };
        let (svg, txt) = draw(g, &report);
        let dir = actual_dir();
        if svg != g.svg {
            std::fs::create_dir_all(&dir).expect("create golden-actual");
            let actual = dir.join(format!("{}.svg", g.name));
            std::fs::write(&actual, &svg).expect("write actual svg");
            let expected = golden_dir().join(format!("{}.svg", g.name));
            let page = format!(
                "<!DOCTYPE html><meta charset=\"utf-8\"><title>{0}</title>\
                 <h1>{0}: expected (top) and actual (bottom)</h1>\
                 <img src=\"file://{1}\"><hr><img src=\"{0}.svg\">",
                g.name,
                expected.display()
            );
            std::fs::write(dir.join(format!("{}.html", g.name)), page).expect("write diff page");
            failures.push(format!(
                "{}.svg differs; actual picture written to {}",
                g.name,
                actual.display()
            ));
        }
        if let Some(want) = g.txt
            && txt != want
        {
            std::fs::create_dir_all(&dir).expect("create golden-actual");
            let actual = dir.join(format!("{}.txt", g.name));
            std::fs::write(&actual, &txt).expect("write actual text");
            failures.push(format!(
                "{}.txt differs; actual text written to {}",
                g.name,
                actual.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden pictures differ:\n  {}\nIf the change is intended, regenerate them with `{BLESS}` and review the diff.",
        failures.join("\n  ")
    );
}

const BUILDS: [fn() -> RunReport; 4] = [
    fixtures::cpu_threads,
    fixtures::race,
    fixtures::io_threads,
    fixtures::cpu_threads_lesson,
];

#[test]
fn layout_is_deterministic() {
    for build in BUILDS {
        let r = build();
        assert_eq!(layout(&r), layout(&r));
        assert_eq!(layout(&r).to_svg(), layout(&r.clone()).to_svg());
    }
}

/// The lanes' rows of a terminal rendering: label and cells.
fn terminal_lanes(text: &str) -> Vec<(String, Vec<char>)> {
    text.lines()
        .filter(|l| l.starts_with("Thread-") || l.starts_with("Process-"))
        .filter_map(|l| {
            let (label, rest) = l.split_once('│')?;
            let cells: Vec<char> = rest.trim_end_matches('│').chars().collect();
            Some((label.trim().to_owned(), cells))
        })
        .collect()
}

/// The issue this guards: at the lesson's size (4 threads × `sum_powers(10000)`, ~6 s, 5 ms
/// turns) every turn is narrower than a cell, and the terminal showed each thread as nothing
/// but "waiting for the GIL" (1–3 % of cells running against a true 25 %). Each row must show
/// its running share: at least 12 % of its cells with a glyph that says it ran.
#[test]
fn every_lesson_thread_shows_its_running_share_in_the_terminal() {
    let r = fixtures::cpu_threads_lesson();
    for width in [60, 84, 100, 200] {
        let text = terminal(&r, width, false);
        let lanes = terminal_lanes(&text);
        assert_eq!(lanes.len(), 4, "{text}");
        for (label, cells) in &lanes {
            let ran = cells.iter().filter(|c| palette::BLOCKS.contains(c)).count();
            let share = ran as f64 / cells.len() as f64;
            assert!(
                share >= 0.12,
                "{label}: {:.0} % of {} cells show running\n{text}",
                share * 100.0,
                cells.len()
            );
        }
    }
}

/// The same rule for the SVG: running stripes cover at least 12 % of each lane's row over
/// the run (the true share is 25 %).
#[test]
fn every_lesson_thread_shows_its_running_share_in_the_svg() {
    let r = fixtures::cpu_threads_lesson();
    let scene = layout(&r);
    let run_px = scene.time.x(r.wall_us) - scene.time.x(0);
    let tracks: Vec<f64> = scene
        .shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Rect(t) if t.class == "track" => Some(t.y),
            _ => None,
        })
        .collect();
    assert_eq!(tracks.len(), 4);
    for y in tracks {
        let running: f64 = scene
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Rect(b)
                    if b.class.starts_with("bar running") && b.y >= y && b.y < y + TRACK_H =>
                {
                    Some(b.w)
                }
                _ => None,
            })
            .sum();
        let share = running / run_px;
        assert!(
            (0.12..0.40).contains(&share),
            "row at y = {y}: running covers {:.1} %",
            share * 100.0
        );
    }
}

#[test]
fn the_gil_track_shows_who_holds_it() {
    let r = fixtures::cpu_threads_lesson();
    let whole = layout(&r);
    assert_eq!(whole.count_class("gil-track"), 1);
    assert!(whole.count_class("gil-hold") > 100);
    // ~1200 hand-offs cannot be marked one by one on 770 px; the track's hover counts them.
    assert_eq!(whole.count_class("gil-handoff"), 0);
    let svg = whole.to_svg();
    assert!(svg.contains("zoom in to see each"), "marks explained");
    assert!(svg.contains("GIL held by thread 1, 2"), "legend entry");

    let zoom = layout_window(&r, ZOOM.0, ZOOM.1);
    let marks = zoom.count_class("gil-handoff");
    assert!(
        (3..=5).contains(&marks),
        "{marks} hand-offs in 20 ms of 5 ms turns"
    );
    assert!(zoom.count_class("gil-drop") >= 3);
    assert!(zoom.count_class("gil-number") >= 3, "holders numbered");
    let svg = zoom.to_svg();
    assert!(svg.contains("hand-off at 2.3"), "hand-offs have hover text");
    assert!(
        svg.contains("asked Thread-"),
        "drop requests say who asked whom"
    );

    // Without events (an older report), hand-offs come from the running spans.
    let small = layout(&fixtures::cpu_threads());
    assert!(small.count_class("gil-handoff") > 10);
    assert_eq!(small.count_class("gil-drop"), 0);
    // Processes have one GIL each: no track.
    let mut procs = fixtures::cpu_threads();
    procs.params.model = crate::scenario::Model::Processes { workers: 4 };
    for l in &mut procs.lanes {
        l.kind = crate::trace::LaneKind::Process;
    }
    assert_eq!(layout(&procs).count_class("gil-track"), 0);
    let text = terminal(&r, 100, false);
    let gil_row = text
        .lines()
        .find(|l| l.starts_with("GIL "))
        .expect("GIL row");
    assert!(gil_row.contains('1') && gil_row.contains('4'), "{gil_row}");
}

#[test]
fn a_window_shows_its_time_with_sensible_ticks() {
    let r = fixtures::cpu_threads_lesson();
    let scene = layout_window(&r, ZOOM.0, ZOOM.1);
    assert_eq!((scene.time.start_us, scene.time.end_us), ZOOM);
    let labels: Vec<&str> = scene
        .shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Text(t) if t.class == "tick-label" => Some(t.text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(labels.first(), Some(&"2.346"));
    assert_eq!(labels.len(), 10);
    // Every bar lies inside the plot; a 5 ms turn is drawn exactly, ~190 px wide.
    let (lo, hi) = (PLOT_X0 - 0.01, PLOT_X0 + PLOT_W + 0.01);
    let mut widest: f64 = 0.0;
    for s in &scene.shapes {
        if let Shape::Rect(b) = s
            && b.class.starts_with("bar")
        {
            assert!(b.x >= lo && b.x + b.w <= hi, "{b:?}");
            assert!(!b.class.contains("share"), "a zoomed turn is exact: {b:?}");
            if b.class == "bar running" {
                widest = widest.max(b.w);
            }
        }
    }
    assert!(widest > 150.0, "{widest}");
    let svg = scene.to_svg();
    assert!(
        svg.contains("showing 2.34500 s → 2.36500 s of"),
        "axis says what is shown"
    );
    // Hover text keeps lane, state, task, start and duration.
    assert!(
        svg.contains("Thread-") && svg.contains("running Python code · sum_powers(10000) · 2.3"),
        "hover titles"
    );
    // The time map turns a pointer position back into time.
    assert_eq!(scene.time.time_at(PLOT_X0), ZOOM.0);
    assert_eq!(scene.time.time_at(PLOT_X0 + PLOT_W), ZOOM.1);
}

#[test]
fn the_overview_is_a_thin_strip_on_the_same_scale() {
    let r = fixtures::cpu_threads_lesson();
    let strip = overview(&r);
    assert_eq!(strip.time, layout(&r).time);
    assert!(strip.height <= 60.0, "{}", strip.height);
    assert!(strip.count_class("overview-bar") > 100);
    assert!(strip.to_svg().len() < 400_000);
}

fn report_with(spans: &[(u32, SpanState, u64, u64)]) -> RunReport {
    let mut r = fixtures::cpu_threads();
    r.spans = spans
        .iter()
        .map(|&(lane, state, start_us, end_us)| Span {
            lane,
            task: None,
            state,
            start_us,
            end_us,
        })
        .collect();
    r
}

#[test]
fn max_concurrent_counts_half_open_overlaps() {
    use SpanState::{GilWait, Running};
    assert_eq!(max_concurrent(&report_with(&[]), Running), 0);
    // Touching spans do not overlap.
    let touching = report_with(&[(0, Running, 0, 10), (1, Running, 10, 20)]);
    assert_eq!(max_concurrent(&touching, Running), 1);
    let overlapping = report_with(&[
        (0, Running, 0, 10),
        (1, Running, 5, 20),
        (2, Running, 9, 12),
        (3, GilWait, 0, 30),
    ]);
    assert_eq!(max_concurrent(&overlapping, Running), 3);
    assert_eq!(max_concurrent(&overlapping, GilWait), 1);
    // Empty spans count for nothing.
    let empty = report_with(&[(0, Running, 0, 10), (1, Running, 5, 5)]);
    assert_eq!(max_concurrent(&empty, Running), 1);
    // The GIL's signature in the fixtures.
    assert_eq!(max_concurrent(&fixtures::cpu_threads(), Running), 1);
    assert_eq!(max_concurrent(&fixtures::io_threads(), Running), 1);
    assert_eq!(max_concurrent(&fixtures::cpu_threads_lesson(), Running), 1);
}

#[test]
fn summary_reads_like_percent_percent_time() {
    let s = text_summary(&fixtures::cpu_threads());
    assert!(s.starts_with("CPU times: user "), "{s}");
    assert!(s.contains("\nWall time: "), "{s}");
    assert!(s.contains("(about one core busy)"), "{s}");
    assert!(s.contains("Speed-up vs sequential: "), "{s}");
    assert!(s.contains("Thread-1: running "), "{s}");
    assert!(s.contains("At most 1 lane ran at a time"), "{s}");
    // A report with only the note (no `gil` counts) keeps it.
    assert!(
        s.contains("Notes:\n- The GIL changed hands 23 times"),
        "{s}"
    );
    let race = text_summary(&fixtures::race());
    assert!(race.contains("[threads, plain loop, GIL]"), "{race}");
    assert!(race.contains("200,000"), "{race}");
    let io = text_summary(&fixtures::io_threads());
    assert!(io.contains("failed: connection reset by peer"), "{io}");
}

#[test]
fn gil_counts_replace_the_note_that_repeats_them() {
    let r = fixtures::cpu_threads_lesson();
    let stats = r.gil.clone().expect("lesson fixture has GIL counts");
    let s = text_summary(&r);
    assert!(
        s.contains(&format!(
            "The GIL changed hands {} times; {} drop requests, each after a 5.00 ms wait",
            group_digits(stats.switches),
            group_digits(stats.drop_requests)
        )),
        "{s}"
    );
    assert!(!s.contains("Notes:"), "the note is not repeated: {s}");
    // Other notes stay.
    let mut other = r.clone();
    other.notes.push("Something else.".to_owned());
    assert!(text_summary(&other).contains("Notes:\n- Something else.\n"));
    // Counts without hand-offs (free-threaded) say nothing about hand-offs.
    let mut free = fixtures::cpu_threads();
    free.gil = Some(GilStats {
        switches: 0,
        drop_requests: 0,
        interval_us: 5_000,
    });
    assert!(!text_summary(&free).contains("changed hands 0"));
}

#[test]
fn estimated_and_simulated_numbers_say_so() {
    let mut est = fixtures::cpu_threads();
    est.cpu_source = CpuSource::Estimated;
    let s = text_summary(&est);
    assert!(
        s.starts_with("CPU times (estimated from running time): user "),
        "{s}"
    );
    assert!(layout(&est).to_svg().contains("(estimated)</text>"));

    let mut sim = fixtures::cpu_threads_lesson();
    sim.source = Source::Simulated;
    sim.cpu_source = CpuSource::Estimated;
    sim.machine.platform = "should not be shown".to_owned();
    sim.simulation = Some(Simulation {
        profile: "built-in".to_owned(),
        cores: 16,
        python: "3.13t".to_owned(),
        start_method: "spawn".to_owned(),
        pace: "cpython".to_owned(),
        seed: 7,
    });
    let s = text_summary(&sim);
    assert!(
        s.starts_with("Simulated, not measured: nothing ran. Modelled: 16 cores, Python 3.13t, start method spawn, cpython pace, profile built-in, seed 7.\nCPU times (simulated): "),
        "{s}"
    );
    assert!(s.contains("\nWall time (simulated): "), "{s}");
    assert!(title(&sim).ends_with(" · simulated"));
    let svg = layout(&sim).to_svg();
    assert!(svg.contains("simulated, nothing ran · modelled 16 cores · Python 3.13t"));
    assert!(!svg.contains("should not be shown"));
    let text = terminal(&sim, 80, false);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.ends_with("simulated"))
    );
    assert!(html_page(&sim).contains("<h1>GIL Lab · cpu-threads (simulated)</h1>"));
    // Without the modelled machine it still never reads as measured.
    sim.simulation = None;
    assert!(text_summary(&sim).starts_with("Simulated, not measured"));
}

#[test]
fn the_convoy_gets_one_line() {
    let mut r = fixtures::io_threads();
    r.convoy = Some(Convoy {
        alone_us: 1_090,
        beside_us: 6_300,
    });
    let s = text_summary(&r);
    assert!(
        s.contains(
            "A short blocking call took 1.09 ms alone and 6.30 ms beside the CPU-bound thread (5.8× longer)"
        ),
        "{s}"
    );
}

#[test]
fn waiting_for_a_core_is_drawn_and_listed_only_when_present() {
    let mut r = fixtures::cpu_threads_lesson();
    assert!(!layout(&r).to_svg().contains("waiting for a free core"));
    // The simulator's state: a thread that could run but found no free core.
    for s in r.spans.iter_mut().filter(|s| s.lane == 3).take(200) {
        if s.state == SpanState::GilWait {
            s.state = SpanState::CpuWait;
        }
    }
    let scene = layout(&r);
    assert!(scene.count_class("cpu_wait") > 0);
    assert!(scene.to_svg().contains("waiting for a free core"));
    let text = terminal(&r, 100, false);
    assert!(text.contains("~ waiting for a free core"), "{text}");
}

#[test]
fn terminal_has_one_row_per_lane() {
    for build in BUILDS {
        let r = build();
        for color in [false, true] {
            let text = terminal(&r, 60, color);
            assert_eq!(terminal_lanes(&text).len(), r.lanes.len(), "{text}");
            assert_eq!(text.contains('\x1b'), color);
        }
    }
    let plain = terminal(&fixtures::cpu_threads(), 60, false);
    assert!(plain.contains('█') && plain.contains('░'), "{plain}");
    assert!(plain.contains("core 1"), "{plain}");
    let race = terminal(&fixtures::race(), 60, false);
    assert!(race.contains("not measured"), "{race}");
}

#[test]
fn html_escapes_labels_and_embeds_the_report() {
    let mut r = fixtures::cpu_threads();
    r.lanes[0].label = "<script>alert(1)</script>".to_owned();
    let page = html_page(&r);
    let marker = "<script type=\"application/json\" id=\"report\">";
    let block = page.find(marker).expect("report block");
    assert!(
        !page[..block].contains("<script>alert"),
        "label not escaped"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The JSON block must not be closed early by a `</script>` inside a string.
    assert!(page[block..].contains("alert(1)<\\/script>"));
    let json_start = block + marker.len();
    let json_end = page[json_start..].find("</script>").expect("block end") + json_start;
    let back: RunReport = serde_json::from_str(&page[json_start..json_end]).expect("json");
    assert_eq!(back, r);
    assert!(page.contains("def sum_powers(n):"));
}

#[test]
fn dense_traces_stay_small_and_wide_spans_exact() {
    // 200 spans ~15 px wide: drawn span by span, each exactly.
    let moderate = fixtures::dense(200, 30_000);
    let scene = layout(&moderate);
    assert_eq!(scene.count_class("bar"), 200);
    let shared = scene
        .shapes
        .iter()
        .filter(|s| s.class().starts_with("bar") && s.class().ends_with("share"))
        .count();
    assert_eq!(shared, 0);
    // 10,000 spans of under a pixel: shares, within the rectangle budget.
    let big = layout(&fixtures::dense(10_000, 700));
    assert!(big.count_class("bar") <= bars::MAX_BARS);
    assert!(big.to_svg().len() < 1_000_000);
    // 64 busy threads: still bounded.
    let mut many = fixtures::dense(40_000, 300);
    many.lanes = (0..64)
        .map(|i| crate::trace::Lane {
            id: i,
            label: format!("Thread-{}", i + 1),
            kind: crate::trace::LaneKind::Thread,
            group: None,
        })
        .collect();
    for (k, s) in many.spans.iter_mut().enumerate() {
        s.lane = (k % 64) as u32;
    }
    let scene = layout(&many);
    let rects = scene.count_class("bar") + scene.count_class("gil-hold");
    assert!(rects <= bars::MAX_BARS + 64, "{rects}");
    assert!(scene.to_svg().len() < 1_500_000);
}

#[test]
fn core_chart_says_where_numbers_come_from() {
    let svg = layout(&fixtures::io_threads()).to_svg();
    assert!(svg.contains("estimated from worker activity"));
    let svg = layout(&fixtures::race()).to_svg();
    assert!(svg.contains("Per-core load was not measured"));
    let scene = layout(&fixtures::cpu_threads());
    assert_eq!(scene.count_class("core-area"), 2);
    assert!(serde_json::to_string(&scene).is_ok());
}

/// The lesson's two cores alternate every 12 ms; in the terminal (one cell ≈ 60 ms) each
/// core reads about half busy, adding up to the one core the GIL allows.
#[test]
fn alternating_core_samples_add_up_to_one_core_in_the_terminal() {
    let text = terminal(&fixtures::cpu_threads_lesson(), 100, false);
    for core in ["core 0", "core 1"] {
        let row = text
            .lines()
            .find(|l| l.starts_with(core))
            .expect("core row");
        let cells: Vec<char> = row.split('│').nth(1).expect("cells").chars().collect();
        let half = cells.iter().filter(|c| ['▃', '▄', '▅'].contains(c)).count();
        assert!(half * 10 >= cells.len() * 9, "{row}");
    }
}

/// Windows far narrower than the plot (µs-long, even shorter than the number of slices)
/// still draw, with distinct tick labels and nothing outside the plot.
#[test]
fn tiny_windows_draw_cleanly() {
    let r = fixtures::cpu_threads_lesson();
    for (from, to) in [
        (2_345_000, 2_345_050),
        (5_377, 5_383),
        (7_000_000, 7_000_001),
    ] {
        let scene = layout_window(&r, from, to);
        let labels: Vec<&str> = scene
            .shapes
            .iter()
            .filter_map(|s| match s {
                Shape::Text(t) if t.class == "tick-label" => Some(t.text.as_str()),
                _ => None,
            })
            .collect();
        let mut unique = labels.clone();
        unique.dedup();
        assert_eq!(unique, labels, "{from}..{to}");
        for s in &scene.shapes {
            if let Shape::Rect(b) = s
                && b.class.starts_with("bar")
            {
                assert!(b.x >= PLOT_X0 - 0.01 && b.x + b.w <= PLOT_X0 + PLOT_W + 0.01);
            }
        }
        let text = terminal_with(
            &r,
            &TerminalOptions {
                width: 40,
                color: false,
                window: Some((from, to)),
            },
        );
        assert_eq!(terminal_lanes(&text).len(), 4, "{text}");
    }
}

/// Every summary sentence is true for its scenario (issue 14): I/O-bound threads do not claim
/// the GIL's signature, and "0 drop requests" is said as such.
#[test]
fn summary_words_fit_what_happened() {
    let io = text_summary(&fixtures::io_threads());
    assert!(!io.contains("the GIL's signature"), "{io}");
    assert!(io.contains("blocked (on I/O or a lock"), "{io}");
    let cpu = text_summary(&fixtures::cpu_threads());
    assert!(cpu.contains("the GIL's signature"), "{cpu}");

    let mut r = fixtures::cpu_threads_lesson();
    let g = r.gil.as_mut().expect("GIL counts");
    g.drop_requests = 0;
    let s = text_summary(&r);
    assert!(!s.contains("0 drop requests"), "{s}");
    assert!(
        s.contains("no waiter had to ask for it with a drop request"),
        "{s}"
    );
    r.gil.as_mut().expect("GIL counts").drop_requests = 1;
    assert!(
        text_summary(&r).contains("; 1 drop request, each"),
        "singular"
    );
}

/// A stopped run's tasks: those that had begun were stopped, not "not run" (issue 14).
#[test]
fn tasks_cut_short_by_a_stop_are_not_called_not_run() {
    let mut r = fixtures::cpu_threads();
    let started = r.tasks[0].id;
    for t in &mut r.tasks {
        t.outcome = crate::workload::TaskOutcome::NotRun;
    }
    r.spans
        .retain(|s| s.task.is_none() || s.task == Some(started));
    let s = text_summary(&r);
    assert!(s.contains("1 stopped before the end"), "{s}");
    assert!(
        s.contains(&format!("{} never started", r.tasks.len() - 1)),
        "{s}"
    );
    assert!(!s.contains("not run"), "{s}");
}

/// Runs compared side by side share one time scale: the same axis, and the shorter run's
/// bars end part-way across it, as far as its length says.
#[test]
fn runs_on_one_time_scale_share_the_axis_and_a_shorter_run_ends_part_way() {
    let long = fixtures::cpu_threads_lesson();
    let short = fixtures::cpu_threads();
    assert!(
        short.wall_us * 2 < long.wall_us,
        "{} vs {}",
        short.wall_us,
        long.wall_us
    );
    let span = Some(long.wall_us.max(short.wall_us));
    let at = |r: &RunReport| {
        layout_with(
            r,
            &LayoutOptions {
                window: None,
                span_us: span,
            },
        )
    };
    let (a, b) = (at(&long), at(&short));
    assert_eq!(a.time, b.time, "one axis for both");
    assert_eq!(
        a.time,
        layout(&long).time,
        "the longer run is drawn as alone"
    );
    let right_edge = |s: &Scene| {
        s.shapes
            .iter()
            .filter_map(|sh| match sh {
                Shape::Rect(r) if r.class.starts_with("bar ") => Some(r.x + r.w),
                _ => None,
            })
            .fold(0.0, f64::max)
    };
    let share = (right_edge(&b) - a.time.x0) / (right_edge(&a) - a.time.x0);
    let want = short.wall_us as f64 / long.wall_us as f64;
    assert!(
        (share - want).abs() < 0.05,
        "the short run spans {share:.2} of the long one's width, want {want:.2}"
    );
    assert_eq!(overview_spanning(&short, span).time, overview(&long).time);
}
