//! "The same on 16 / 64 cores" beside each section's live run.
//!
//! The live demos run on the learner's own machine, which has the cores it has. The simulator
//! (the core's own GIL machine, thread programs and dispatchers in virtual time, in the plain
//! engine's worker: `crate::simulate`) shows what the same demos would do on a bigger one. Each
//! section offers one button; its pictures are labelled "simulated", as their reports say
//! (`source: simulated`), and nothing from them enters the section's verdict, which reads only
//! the live runs.
//!
//! The platform-free half (which demos, with which parameters) is here and tested natively;
//! the component is below it, for the web only.

use gil_lab::scenario::Model;

use super::sections::{Demo, Section, Size};

/// The machines a live run is simulated on, beside the learner's own.
pub const CORE_COUNTS: [u32; 2] = [16, 64];

/// The demos of `section` worth seeing on more cores: every one but a sequential baseline (one
/// thread uses one core however many there are).
pub fn demos_to_simulate(section: &Section, size: Size) -> Vec<&'static Demo> {
    section
        .demos
        .iter()
        .filter(|d| {
            d.params(size)
                .is_ok_and(|p| !matches!(p.model, Model::Sequential))
        })
        .collect()
}

#[cfg(target_arch = "wasm32")]
pub use web::SimulatedCores;

#[cfg(target_arch = "wasm32")]
mod web {
    use gil_lab::trace::RunReport;
    use leptos::prelude::*;

    use super::{CORE_COUNTS, demos_to_simulate};
    use crate::lesson::runs::SectionUi;
    use crate::picture::Picture;
    use crate::simulate::{SimChoice, simulate};

    /// The button and the simulated pictures of one section.
    #[component]
    pub fn SimulatedCores(ui: SectionUi) -> impl IntoView {
        let s = ui.section;
        // (caption, report, ms the engine took)
        let shown: RwSignal<Vec<(String, RunReport, f64)>> = RwSignal::new(Vec::new());
        let busy = RwSignal::new(false);
        let error: RwSignal<Option<String>> = RwSignal::new(None);
        let go = move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            shown.set(Vec::new());
            let size = ui.size.get_untracked();
            wasm_bindgen_futures::spawn_local(async move {
                for d in demos_to_simulate(s, size) {
                    let overrides = match d.overrides(size) {
                        Ok(o) => o,
                        Err(e) => {
                            error.set(Some(e));
                            break;
                        }
                    };
                    for cores in CORE_COUNTS {
                        let choice = SimChoice {
                            cores: Some(cores),
                            ..SimChoice::default()
                        };
                        match simulate(d.scenario, &overrides, &choice).await {
                            Ok(r) => shown.update(|v| {
                                v.push((
                                    format!("{}: simulated on {cores} cores", d.caption),
                                    r.report,
                                    r.engine_ms,
                                ))
                            }),
                            Err(e) => {
                                error.set(Some(e));
                                busy.set(false);
                                return;
                            }
                        }
                    }
                }
                busy.set(false);
            });
        };
        let pictures = move || {
            shown
                .get()
                .into_iter()
                .map(|(caption, r, ms)| {
                    let cores = r.machine.cores;
                    let report: Signal<Option<RunReport>> = Signal::derive(move || Some(r.clone()));
                    view! {
                        <figure class="demo simulated" data-cores=cores data-engine-ms=format!("{ms:.1}")>
                            <figcaption>{caption}</figcaption>
                            <Picture report=report compact=true/>
                        </figure>
                    }
                })
                .collect_view()
        };
        view! {
            <div class="simulated-cores">
                <div class="buttons">
                    <button id=format!("sim-{}", s.id) class="sim" disabled=move || busy.get()
                        on:click=go>"The same on 16 / 64 cores (simulated)"</button>
                    <span class="status" role="status">{move || if busy.get() { "Simulating…" } else { "" }}</span>
                </div>
                <p class="error" role="alert" hidden=move || error.with(Option::is_none)>{move || error.get()}</p>
                <div class="demos">{pictures}</div>
            </div>
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::sections::SECTIONS;

    #[test]
    fn each_section_with_a_parallel_demo_offers_it_and_its_overrides_are_valid() {
        let mut offered = 0;
        for s in SECTIONS {
            for size in [Size::Quick, Size::Lesson] {
                for d in demos_to_simulate(s, size) {
                    let sc = d.scenario().expect("known");
                    let o = d.overrides(size).expect("valid");
                    assert_eq!(
                        o.apply(sc).expect("applies"),
                        d.params(size).expect("params")
                    );
                    offered += 1;
                }
            }
        }
        assert!(offered > 0);
        // A sequential baseline is never offered.
        for s in SECTIONS {
            for d in demos_to_simulate(s, Size::Quick) {
                assert_ne!(d.scenario, "cpu-sequential");
            }
        }
    }

    /// Every picture the lesson offers on 16 and 64 cores fits the simulator's budget (the
    /// page's caps), at both sizes: a learner's click is never answered "too big".
    #[test]
    fn every_offered_picture_fits_the_simulators_budget() {
        let profile = gil_lab::sim::Profile::builtin();
        for s in SECTIONS {
            for size in [Size::Quick, Size::Lesson] {
                for d in demos_to_simulate(s, size) {
                    let params = d.params(size).expect("params");
                    for cores in CORE_COUNTS {
                        let options = gil_lab::sim::SimOptions {
                            cores: Some(cores),
                            ..Default::default()
                        };
                        if let Err(e) =
                            gil_lab::sim::simulate(d.scenario, &params, &options, &profile)
                        {
                            panic!("{} at {size:?} on {cores} cores: {e}", d.scenario);
                        }
                    }
                }
            }
        }
    }
}
