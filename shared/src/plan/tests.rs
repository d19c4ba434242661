//! What every preset's plan must be on every platform, and that the simulator walks it.

use std::collections::BTreeSet;

use super::*;
use crate::exec::Dispatcher;
use crate::scenario::{Overrides, SCENARIOS};
use crate::sim::{SimOptions, simulate};

const PLATFORMS: [Caps; 2] = [
    Caps {
        shared_memory: true,
    },
    Caps {
        shared_memory: false,
    },
];

/// Every preset at small sizes (so that simulating each stays quick).
fn presets() -> Vec<(&'static str, Params)> {
    SCENARIOS
        .iter()
        .map(|s| {
            // Each preset takes the size its workload has (and refuses the others).
            let sizes = [
                Overrides {
                    n: Some(300),
                    ..Default::default()
                },
                Overrides {
                    increments: Some(2_000),
                    ..Default::default()
                },
            ];
            let params = sizes
                .iter()
                .find_map(|o| o.apply(s).ok())
                .unwrap_or_else(|| s.defaults());
            (s.name, params)
        })
        .collect()
}

fn plan(params: &Params, caps: Caps) -> Result<RunPlan, PlanError> {
    RunPlan::new(params, &build_tasks(params, &[]), caps)
}

#[test]
fn only_the_race_needs_shared_memory() {
    for (name, params) in presets() {
        assert!(plan(&params, PLATFORMS[0]).is_ok(), "{name}");
        let without = plan(&params, PLATFORMS[1]);
        if matches!(params.model, Model::Race { .. }) {
            assert_eq!(without, Err(PlanError::NeedsSharedMemory), "{name}");
        } else {
            assert!(without.is_ok(), "{name}");
        }
    }
}

#[test]
fn every_plan_is_whole() {
    for (name, params) in presets() {
        for caps in PLATFORMS {
            let Ok(plan) = plan(&params, caps) else {
                continue;
            };
            // Lane ids are 0, 1, 2… across phases: the report's rows in order.
            let ids: Vec<u32> = plan.lanes().iter().map(|l| l.id).collect();
            assert_eq!(ids, (0..ids.len() as u32).collect::<Vec<_>>(), "{name}");
            assert!(!plan.phases.is_empty(), "{name}");
            let labelled: BTreeSet<u32> = plan.labels.iter().map(|(id, _)| *id).collect();
            for phase in &plan.phases {
                assert!(!phase.lanes.is_empty(), "{name}: a phase without lanes");
                // Every task of the phase goes to exactly one of its lanes.
                let mut d = Dispatcher::new(&phase.dispatch);
                let mut given = Vec::new();
                loop {
                    let round: Vec<u32> = (0..phase.lanes.len()).flat_map(|k| d.next(k)).collect();
                    if round.is_empty() {
                        break;
                    }
                    given.extend(round);
                }
                given.sort_unstable();
                assert_eq!(
                    given,
                    (0..phase.tasks.len() as u32).collect::<Vec<_>>(),
                    "{name}"
                );
                for (id, _) in &phase.tasks {
                    assert!(labelled.contains(id), "{name}: task {id} has no label");
                }
                for l in &phase.lanes {
                    if let LaneGil::Group(g) = l.gil {
                        assert!(g < plan.gils.len(), "{name}");
                        // Only threads of one interpreter share a GIL.
                        assert_eq!(l.lane.kind, LaneKind::Thread, "{name}");
                    }
                    // A script's main thread is alone and starts at once.
                    assert_eq!(l.is_main(), l.start == Start::Running, "{name}");
                    assert!(!l.is_main() || phase.lanes.len() == 1, "{name}");
                    assert_eq!(
                        l.is_process(),
                        matches!(l.start, Start::Process { .. }),
                        "{name}"
                    );
                }
            }
            if let Some(g) = plan.report.gil_stats {
                assert!(g < plan.gils.len(), "{name}");
            }
            assert_eq!(
                plan.report.convoy.is_some(),
                matches!(params.model, Model::Convoy { .. })
            );
        }
    }
}

#[test]
fn the_gil_a_model_names_is_the_one_its_threads_share() {
    for (name, params) in presets() {
        let Ok(plan) = plan(&params, PLATFORMS[0]) else {
            continue;
        };
        if let Model::Threads {
            gil,
            switch_interval_us,
            ..
        } = params.model
        {
            let g = plan.report.gil_stats.expect("a thread run reports its GIL");
            assert_eq!(
                plan.gils[g],
                GilGroup {
                    mode: gil,
                    switch_interval_us
                },
                "{name}"
            );
            assert!(
                plan.phases[0]
                    .lanes
                    .iter()
                    .all(|l| l.gil == LaneGil::Group(g))
            );
        }
        if let Model::Interpreters { .. } | Model::Processes { .. } | Model::Pool { .. } =
            params.model
        {
            assert!(plan.gils.is_empty(), "{name}: nobody shares a GIL");
        }
    }
}

#[test]
fn the_gil_note_is_said_for_a_classic_gil_that_changed_hands() {
    let p = find_params("cpu-threads");
    let plan = plan(&p, PLATFORMS[0]).expect("plan");
    let (stats, note) = plan.gil_report(40, 39).expect("a thread run has counts");
    assert_eq!(stats.switches, 40);
    assert!(note.expect("a note").contains("40 times"));
    // The first thread taking the GIL is no hand-over worth a note.
    assert_eq!(plan.gil_report(1, 0).map(|(_, n)| n), Some(None));
    let free = plan_with_free_gil();
    assert_eq!(free.gil_report(0, 0).map(|(_, n)| n), Some(None));
}

fn find_params(name: &str) -> Params {
    presets()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| p)
        .expect("preset")
}

fn plan_with_free_gil() -> RunPlan {
    let p = find_params("cpu-threads-free");
    plan(&p, PLATFORMS[0]).expect("plan")
}

#[test]
fn the_simulator_draws_every_plans_lanes_and_phases() {
    for (name, params) in presets() {
        let plan = plan(&params, PLATFORMS[0]).expect("plan");
        let options = SimOptions {
            cores: Some(4),
            ..Default::default()
        };
        let r = simulate(name, &params, &options, &crate::sim::Profile::builtin())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.lanes, plan.lanes(), "{name}");
        // Each task ran on a lane of its own phase.
        for phase in &plan.phases {
            let lanes: BTreeSet<u32> = phase.lane_ids().into_iter().collect();
            let tasks: BTreeSet<u32> = phase.tasks.iter().map(|(id, _)| *id).collect();
            for s in r
                .spans
                .iter()
                .filter(|s| s.task.is_some_and(|t| tasks.contains(&t)))
            {
                assert!(
                    lanes.contains(&s.lane),
                    "{name}: task {:?} on lane {}",
                    s.task,
                    s.lane
                );
            }
        }
    }
}
