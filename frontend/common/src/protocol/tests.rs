//! Every message survives its trip through JSON text unchanged.

use super::*;
use gil_lab::plan::build_tasks;
use gil_lab::scenario::{Overrides, find};
use gil_lab::workload::{CounterSpec, CounterStyle, DownloadOutput, Task};

fn round_trip<T>(v: &T)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let text = to_text(v);
    let back: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(&back, v, "{text}");
}

fn config() -> LaneConfig {
    LaneConfig {
        lane: 3,
        program: Program::Worker,
        gil: LaneGil::Own {
            mode: GilMode::Free,
        },
        counter: LaneCounter::Copy { value: 7 },
        report_counter: true,
        epoch_ms: Some(1.5e12),
        io: IoModel {
            latency_ms: 100,
            bandwidth_kbps: 0,
        },
        slice_us: 500,
    }
}

#[test]
fn page_messages_round_trip() {
    let sc = find("convoy").expect("scenario");
    let params = Overrides::default().apply(sc).expect("defaults");
    let tasks = build_tasks(&params, &[]);
    round_trip(&ToHost::Run(Box::new(RunRequest {
        scenario: sc.name.into(),
        params: params.clone(),
        tasks,
        path: EnginePath::Workers,
        images: vec!["img/photo-1.jpg".into()],
        cores: 2,
        browser: "Chromium 156".into(),
        isolated: false,
        pool_threads: 4,
    })));
    let span = Span {
        lane: 1,
        task: Some(2),
        state: SpanState::GilWait,
        start_us: 10,
        end_us: 20,
    };
    round_trip(&FromHost::Events {
        events: vec![
            LiveEvent::Span { span },
            LiveEvent::Open {
                lane: 1,
                task: None,
                state: SpanState::Running,
                since_us: 20,
            },
            LiveEvent::Progress {
                lane: Some(1),
                task: 2,
                done: 5,
                total: 10,
                at_us: 30,
            },
            LiveEvent::Outcome {
                id: 2,
                outcome: TaskOutcome::Slept { count: 3 },
            },
        ],
    });
    round_trip(&FromHost::Started { epoch_ms: 12.25 });
    round_trip(&FromHost::Error {
        message: "restart-needed".into(),
    });
    let report = RunReport::new("cpu-threads", params, crate::machine(2, "test", true));
    round_trip(&FromHost::Done {
        report: Box::new(report),
        pool: Some(6),
    });
}

#[test]
fn lane_messages_round_trip() {
    round_trip(&ToLane::Init { config: config() });
    round_trip(&ToLane::Start { epoch_ms: 3.5 });
    round_trip(&ToLane::Granted {
        at_us: 9,
        waited: true,
        drop_due_us: Some(5_009),
    });
    round_trip(&ToLane::Granted {
        at_us: 9,
        waited: false,
        drop_due_us: None,
    });
    round_trip(&ToLane::DropDue { at_us: None });
    round_trip(&ToLane::Work {
        tasks: vec![
            (0, Task::SumPowers { n: 3 }),
            (
                1,
                Task::Counter(CounterSpec {
                    increments: 4,
                    style: CounterStyle::ValueBare,
                    checks: Default::default(),
                }),
            ),
            (
                2,
                Task::Sleeps {
                    count: 2,
                    us: 1_000,
                },
            ),
        ],
    });
    for m in [
        FromLane::Ready { at_ms: 1.25 },
        FromLane::Take { at_us: 1 },
        FromLane::Release {
            at_us: 2,
            ending: true,
        },
        FromLane::Yield { at_us: 3 },
        FromLane::Next,
        FromLane::Open {
            task: Some(1),
            state: SpanState::IoWait,
            since_us: 4,
        },
        FromLane::Progress {
            task: 1,
            done: 2,
            total: 3,
            at_us: 5,
        },
        FromLane::TaskDone {
            id: 1,
            outcome: TaskOutcome::Downloaded(DownloadOutput {
                file: "opfs:gil-lab/a.jpg".into(),
                bytes: 10,
            }),
        },
        FromLane::Gil {
            event: GilEvent::Handoff {
                at_us: 6,
                from: None,
                to: 3,
            },
        },
        FromLane::Exited { at_us: 7 },
    ] {
        round_trip(&m);
    }
}

#[test]
fn driver_requests_round_trip() {
    for s in [
        LaneStep::Yield,
        LaneStep::Wait,
        LaneStep::Download {
            url: "img/photo-1.jpg".into(),
            file_name: "0-photo-1.jpg".into(),
            io: IoModel::default(),
        },
        LaneStep::Sleep { us: 1_000 },
        LaneStep::Exit,
    ] {
        round_trip(&s);
    }
    for a in [
        HostAction::Spawn {
            lane: 0,
            init: to_text(&ToLane::Init { config: config() }),
            shared_counter: true,
        },
        HostAction::Send {
            lane: 1,
            msg: to_text(&ToLane::Start { epoch_ms: 1.0 }),
        },
        HostAction::Terminate { lane: 1 },
        HostAction::Page {
            msg: to_text(&FromHost::Started { epoch_ms: 1.0 }),
        },
        HostAction::Finished,
    ] {
        round_trip(&a);
    }
    round_trip(&ProcessJob {
        lanes: vec![8, 9],
        tasks: vec![(8, Task::SumPowers { n: 2 })],
        dispatch: Dispatch::Fixed(vec![vec![0], vec![]]),
        counter: CounterShare::SharedValue,
        io: IoModel::default(),
    });
    round_trip(&ProcessResult {
        outcomes: vec![(8, TaskOutcome::NotRun)],
        shared_value: Some(3),
    });
}

#[test]
fn prepare_is_read_by_host_js_and_asks_for_no_run() {
    let msg = ToHost::Prepare { pool_threads: 6 };
    round_trip(&msg);
    // host.js reads `prepare.pool_threads` from the text itself.
    assert_eq!(to_text(&msg), r#"{"prepare":{"pool_threads":6}}"#);
    assert!(parse_run(&to_text(&msg)).is_err());
    assert!(parse_run("{}").is_err());
}

#[test]
fn the_pool_has_a_thread_per_python_thread_and_never_fewer_than_the_cores() {
    assert_eq!(pool_threads(4, 2), 6);
    assert_eq!(pool_threads(4, 16), 18);
    assert_eq!(pool_threads(64, 16), 66);
    // Without the cores' floor: the least a run can go on with.
    assert_eq!(pool_threads(4, 0), 6);
}
