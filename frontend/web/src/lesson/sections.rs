//! The lesson's sections: what each asks before the run, which demos it runs at which size, and
//! which function reads the finished reports ([`super::explain`]).
//!
//! Platform-free, so the content and the explanations are tested natively.

use gil_lab::scenario::{Overrides, Params, Scenario};
use gil_lab::trace::RunReport;

use super::explain::{self, Verdict};
use crate::form::{self, Fields};

/// One answer a learner can pick before running.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    /// Stable key (stored in localStorage, returned by the explanation).
    pub key: &'static str,
    /// What the learner reads.
    pub text: &'static str,
}

/// How big a run is: seconds in a browser, or the lesson's own numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Size {
    /// Sized to finish in a few seconds in a browser.
    #[default]
    Quick,
    /// The lesson's parameters (the scenario defaults): about a minute or more in a browser.
    Lesson,
}

/// One demo of a section: a scenario and its parameters at each size.
#[derive(Debug, Clone, Copy)]
pub struct Demo {
    /// Scenario name (see `gil_lab::scenario::SCENARIOS`).
    pub scenario: &'static str,
    /// What the picture of this demo is called in the section.
    pub caption: &'static str,
    /// Query-style overrides at quick size (the same keys as the main page's URL).
    pub quick: &'static [(&'static str, &'static str)],
    /// Overrides at lesson size (empty: the lesson's defaults).
    pub lesson: &'static [(&'static str, &'static str)],
}

impl Demo {
    /// The scenario this demo runs.
    pub fn scenario(&self) -> Result<&'static Scenario, String> {
        form::scenario(self.scenario)
    }

    /// Its fields at `size`, as the form would hold them.
    fn fields(&self, size: Size) -> Fields {
        let pairs = match size {
            Size::Quick => self.quick,
            Size::Lesson => self.lesson,
        };
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Fields::from_query(&owned)
    }

    /// The overrides it runs with at `size` (the simulator takes these).
    pub fn overrides(&self, size: Size) -> Result<Overrides, String> {
        self.fields(size).overrides()
    }

    /// The validated parameters at `size` (the core's own checks).
    pub fn params(&self, size: Size) -> Result<Params, String> {
        self.fields(size).params(self.scenario()?)
    }
}

/// What a section's explanation reads: every demo's finished report, in demo order.
pub type Explain = fn(&[RunReport], u32) -> Verdict;

/// One step of the lesson.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    /// Anchor and embed name (`?embed=lesson/<id>`).
    pub id: &'static str,
    /// Heading.
    pub title: &'static str,
    /// The idea, in a few sentences.
    pub intro: &'static [&'static str],
    /// The question asked before running; `{cores}` becomes the machine's core count.
    pub question: &'static str,
    /// The answers to pick from.
    pub choices: &'static [Choice],
    /// The demos Run runs, in order (a sequential baseline first where there is one).
    pub demos: &'static [Demo],
    /// How long the lesson size takes, in words.
    pub lesson_time: &'static str,
    /// Reads the finished reports.
    pub explain: Explain,
    /// Whether the "Be the scheduler" game belongs to this section.
    pub game: bool,
}

impl Section {
    /// The question with this machine's core count filled in.
    pub fn question_for(&self, cores: u32) -> String {
        self.question.replace(
            "{cores}",
            &format!("{cores} core{}", if cores == 1 { "" } else { "s" }),
        )
    }

    /// The choice called `key`.
    pub fn choice(&self, key: &str) -> Option<&'static Choice> {
        self.choices.iter().find(|c| c.key == key)
    }

    /// The learner's guess against what the run showed, in one sentence.
    pub fn compare_guess(&self, guess: Option<&str>, answer: Option<&str>) -> String {
        let name = |k: &str| self.choice(k).map_or(k.to_owned(), |c| c.text.to_owned());
        match (guess, answer) {
            (_, None) => {
                "This run does not clearly match one of the answers: look at the numbers below."
                    .to_owned()
            }
            (None, Some(a)) => {
                format!("You did not guess before this run. It showed: {}.", name(a))
            }
            (Some(g), Some(a)) if g == a => {
                format!("You guessed “{}”, and this run agrees.", name(g))
            }
            (Some(g), Some(a)) => {
                format!("You guessed “{}”; this run showed “{}”.", name(g), name(a))
            }
        }
    }
}

const N_QUICK: &[(&str, &str)] = &[("n", "2000"), ("tasks", "4")];
const THREADS_QUICK: &[(&str, &str)] = &[("n", "2000"), ("tasks", "4"), ("workers", "4")];
// Processes pay a start of tens of milliseconds each in a browser (12–20 ms natively): each
// task must be about 20 times that for the speed-up to be about running processes rather than
// starting them (`explain::too_short_to_judge` checks it in every run). sum_powers(6000) is
// ~0.6 s natively, ~1 s in a page; 3000 was a quarter of that, and its verdicts flipped with
// a busy laptop (issue 14).
const N_PROCESSES: &[(&str, &str)] = &[("n", "6000"), ("tasks", "4")];
const PROCESSES_QUICK: &[(&str, &str)] = &[("n", "6000"), ("tasks", "4"), ("workers", "4")];

const CPU_ANSWERS: &[Choice] = &[
    Choice {
        key: "per-core",
        text: "about as many times faster as there are cores (up to 4)",
    },
    Choice {
        key: "some",
        text: "faster, but well short of that",
    },
    Choice {
        key: "same",
        text: "about as fast, or slower",
    },
];

/// Every section, in the lesson's order.
pub const SECTIONS: &[Section] = &[
    Section {
        id: "processes-threads",
        title: "Processes and threads",
        intro: &[
            "A process is a program being run, with memory of its own: what one process changes, no other process sees unless both set up sharing on purpose.",
            "A thread is one line of execution inside a process. A process can run many threads, and they all read and write the same memory.",
            "In Python a new thread is cheap to make; a new process (multiprocessing) needs a fresh interpreter before it can run a line of your code.",
        ],
        question: "Four workers are started before any work is done. How does starting a process compare with starting a thread?",
        choices: &[
            Choice {
                key: "same",
                text: "about the same",
            },
            Choice {
                key: "few",
                text: "a process takes a few times longer",
            },
            Choice {
                key: "much",
                text: "a process takes ten times longer or more",
            },
        ],
        demos: &[
            Demo {
                scenario: "cpu-threads",
                caption: "4 threads",
                quick: &[("n", "300"), ("tasks", "4"), ("workers", "4")],
                lesson: &[],
            },
            Demo {
                scenario: "cpu-processes",
                caption: "4 processes",
                quick: &[("n", "300"), ("tasks", "4"), ("workers", "4")],
                lesson: &[],
            },
        ],
        lesson_time: "two runs of sum_powers(10000) × 4: a few minutes in a browser",
        explain: explain::processes_threads,
        game: false,
    },
    Section {
        id: "concurrency",
        title: "Concurrency and parallelism",
        intro: &[
            "Concurrent means several tasks are under way over the same stretch of time: they may take turns on one core, a slice each.",
            "Parallel means several tasks run at the very same instant, on different cores. Everything parallel is concurrent; not everything concurrent is parallel.",
        ],
        question: "Two runs each start 4 threads computing sum_powers: one on CPython's usual build (with a GIL), one on the free-threaded build (no GIL). In which run do two threads ever compute at the same instant?",
        choices: &[
            Choice {
                key: "both",
                text: "in both runs",
            },
            Choice {
                key: "free-only",
                text: "only in the run without a GIL",
            },
            Choice {
                key: "neither",
                text: "in neither run",
            },
        ],
        demos: &[
            Demo {
                scenario: "cpu-threads",
                caption: "with the GIL",
                quick: THREADS_QUICK,
                lesson: &[],
            },
            Demo {
                scenario: "cpu-threads-free",
                caption: "free-threaded, no GIL",
                quick: THREADS_QUICK,
                lesson: &[],
            },
        ],
        lesson_time: "two runs of sum_powers(10000) × 4: a few minutes in a browser",
        explain: explain::concurrency,
        game: false,
    },
    Section {
        id: "gil",
        title: "The GIL: CPU-bound work on threads",
        intro: &[
            "CPython runs Python bytecode only in the thread that holds the global interpreter lock, the GIL. Every other thread of the process waits for it.",
            "A waiting thread asks the holder to let go after a switch interval (5 ms unless changed with sys.setswitchinterval); the holder does so at its next check point: a call, or the end of a loop iteration.",
        ],
        question: "4 threads share 4 calls of sum_powers on this machine with {cores}. Against the same 4 calls one after another, the threads are…",
        choices: CPU_ANSWERS,
        demos: &[
            Demo {
                scenario: "cpu-sequential",
                caption: "one after another",
                quick: N_QUICK,
                lesson: &[],
            },
            Demo {
                scenario: "cpu-threads",
                caption: "4 threads",
                quick: THREADS_QUICK,
                lesson: &[],
            },
        ],
        lesson_time: "sum_powers(10000) × 4, twice: a few minutes in a browser",
        explain: explain::gil,
        game: false,
    },
    Section {
        id: "io",
        title: "I/O-bound work on threads",
        intro: &[
            "A thread waiting for the network or the disk needs no interpreter, so it lets go of the GIL for as long as it waits.",
            "So while one thread waits, another can run or start waiting too: many downloads can be in flight at once, even on one core.",
        ],
        question: "The images are downloaded on 5 threads instead of one after another. How much sooner do they finish?",
        choices: &[
            Choice {
                key: "same",
                text: "about the same: the GIL lets one thread run at a time",
            },
            Choice {
                key: "two",
                text: "about twice as fast",
            },
            Choice {
                key: "many",
                text: "three times as fast or more",
            },
        ],
        demos: &[
            Demo {
                scenario: "io-sequential",
                caption: "one after another",
                quick: &[("tasks", "12"), ("latency-ms", "50")],
                lesson: &[],
            },
            Demo {
                scenario: "io-threads",
                caption: "5 threads",
                quick: &[("tasks", "12"), ("latency-ms", "50")],
                lesson: &[],
            },
        ],
        lesson_time: "30 downloads at 100 ms latency, twice: about 15 seconds",
        explain: explain::io,
        game: false,
    },
    Section {
        id: "convoy",
        title: "I/O beside CPU work: the convoy effect",
        intro: &[
            "Letting go of the GIL to wait is half of the story: when the wait is over, the thread needs the GIL back before it can run again.",
            "If a CPU-bound thread holds it, the returning thread waits one switch interval before it may ask, and the holder lets go only at its next check point.",
        ],
        question: "A thread makes blocking calls of 1 ms each (time.sleep(0.001)). Beside one CPU-bound thread of the same process, how long does one call take, from its start until the thread runs again?",
        choices: &[
            Choice {
                key: "one",
                text: "still about 1 ms",
            },
            Choice {
                key: "two",
                text: "about 2 ms",
            },
            Choice {
                key: "interval",
                text: "about 5 ms or more",
            },
        ],
        demos: &[Demo {
            scenario: "convoy",
            caption: "1 ms calls alone, then beside a CPU-bound thread",
            quick: &[("tasks", "50"), ("n", "3000")],
            lesson: &[],
        }],
        lesson_time: "100 calls each way beside sum_powers(10000): about a minute",
        explain: explain::convoy,
        game: false,
    },
    Section {
        id: "processes",
        title: "CPU-bound work on processes, a Pool and subinterpreters",
        intro: &[
            "Each process has its own interpreter and so its own GIL: processes never wait for one another's lock. The price is a start-up per process, and memory that is not shared.",
            "A Pool starts its processes once and hands them the tasks in chunks, so many tasks pay for few starts.",
            "One process can also hold several interpreters, each with its own GIL (CPython 3.12, PEP 684; Python code can start them from 3.14, with `concurrent.interpreters` and `InterpreterPoolExecutor`, PEP 734): parallel like processes, inside one process.",
        ],
        question: "4 processes share the 4 calls of sum_powers on this machine with {cores}. Against the 4 calls one after another, the processes are…",
        choices: CPU_ANSWERS,
        demos: &[
            Demo {
                scenario: "cpu-sequential",
                caption: "one after another",
                quick: N_PROCESSES,
                lesson: &[],
            },
            Demo {
                scenario: "cpu-processes",
                caption: "4 processes",
                quick: PROCESSES_QUICK,
                lesson: &[],
            },
            Demo {
                scenario: "cpu-pool",
                caption: "Pool(4).map",
                quick: PROCESSES_QUICK,
                lesson: &[],
            },
            Demo {
                scenario: "cpu-interpreters",
                caption: "4 subinterpreters",
                quick: PROCESSES_QUICK,
                lesson: &[],
            },
        ],
        lesson_time: "four runs of sum_powers(10000), 4 to 8 calls each: several minutes",
        explain: explain::processes,
        game: false,
    },
    Section {
        id: "shared-data",
        title: "Shared data and locks",
        intro: &[
            "Threads share memory, so two of them can update the same variable. `counter += 1` is not one step: the interpreter reads the counter, adds one, and writes the result back.",
            "If another thread writes the counter between one thread's read and its write, that write is lost. A lock around the whole update prevents it. Processes share nothing unless asked to (multiprocessing.Value).",
        ],
        question: "4 threads each add 1 to one global counter many times with a plain `counter += 1` loop, under the GIL and without a lock. How many updates are lost?",
        choices: &[
            Choice {
                key: "none",
                text: "none",
            },
            Choice {
                key: "few",
                text: "a few",
            },
            Choice {
                key: "many",
                text: "many: thousands or more",
            },
        ],
        demos: &[Demo {
            scenario: "race",
            caption: "seven ways to update one counter",
            quick: &[("increments", "100000")],
            lesson: &[],
        }],
        lesson_time: "1,000,000 updates per worker in seven cases: about a minute",
        explain: explain::shared_data,
        game: true,
    },
    Section {
        id: "old-race",
        title: "Why your old tutorial's race doesn't race",
        intro: &[
            "Older tutorials show four threads running `counter += 1` and losing updates. Run the same loop on a recent Python and nothing is lost. The race did not go away. What changed is where the interpreter may hand the GIL to another thread.",
            "Up to 3.9, the eval loop checked for a GIL drop request before most bytecodes. That includes the moment between reading the counter and writing it back. Since 3.10 it checks only at calls and at the loop's backward jump, so a plain `+=` of a global is never cut in half. Add a call between the read and the write, as in `counter += one()`, and updates are lost on every version. Only a lock makes the update safe.",
        ],
        question: "An old tutorial's race: 4 threads, each adding 1 to a global counter 100,000 times with a plain `counter += 1`. Run as Python 3.9, then as Python 3.11. What happens?",
        choices: &[
            Choice {
                key: "both",
                text: "both lose updates",
            },
            Choice {
                key: "old-only",
                text: "only 3.9 loses updates",
            },
            Choice {
                key: "neither",
                text: "neither loses any",
            },
        ],
        demos: &[
            Demo {
                scenario: "race",
                caption: "as Python 3.9",
                quick: &[("increments", "100000"), ("python", "3.9")],
                lesson: &[("python", "3.9")],
            },
            Demo {
                scenario: "race",
                caption: "as Python 3.11",
                quick: &[("increments", "100000"), ("python", "3.11")],
                lesson: &[("python", "3.11")],
            },
        ],
        lesson_time: "1,000,000 updates per worker in seven cases, twice: two minutes or so",
        explain: explain::old_race,
        game: false,
    },
    Section {
        id: "which",
        title: "Which one do I use?",
        intro: &[
            "Waiting on the network or the disk: threads (or asyncio). The GIL is released while they wait, and threads are cheap.",
            "Pure-Python CPU work: processes, best through a Pool or a ProcessPoolExecutor; subinterpreters or a free-threaded build where you can use them.",
            "Number crunching: libraries such as numpy do the work in C and release the GIL, or parallelise on their own.",
        ],
        question: "CPU-bound work in pure Python, 4 calls, on this machine with {cores}: which finishes first?",
        choices: &[
            Choice {
                key: "threads",
                text: "4 threads",
            },
            Choice {
                key: "pool",
                text: "a Pool of 4 processes",
            },
            Choice {
                key: "same",
                text: "no real difference",
            },
        ],
        demos: &[
            Demo {
                scenario: "cpu-threads",
                caption: "4 threads",
                quick: PROCESSES_QUICK,
                lesson: &[],
            },
            Demo {
                scenario: "cpu-pool",
                caption: "Pool(4).map",
                quick: PROCESSES_QUICK,
                lesson: &[],
            },
        ],
        lesson_time: "two runs of sum_powers(10000), 4 and 8 calls: a few minutes",
        explain: explain::which,
        game: false,
    },
];

/// The section called `id`.
pub fn find(id: &str) -> Option<&'static Section> {
    SECTIONS.iter().find(|s| s.id == id)
}

/// The section an `?embed=lesson/<id>` value names, or a message listing the ones there are.
pub fn from_embed(value: &str) -> Result<&'static Section, String> {
    let id = value.strip_prefix("lesson/").unwrap_or(value);
    find(id).ok_or_else(|| {
        let ids: Vec<&str> = SECTIONS.iter().map(|s| s.id).collect();
        format!(
            "unknown lesson section {id:?}: choose one of {}",
            ids.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_has_valid_parameters_at_both_sizes() {
        assert!(SECTIONS.len() >= 6);
        for s in SECTIONS {
            assert!(!s.demos.is_empty(), "{} has a demo", s.id);
            assert!(s.choices.len() >= 2, "{} has choices", s.id);
            for d in s.demos {
                for size in [Size::Quick, Size::Lesson] {
                    d.params(size)
                        .unwrap_or_else(|e| panic!("{} / {}: {e}", s.id, d.scenario));
                }
            }
        }
    }

    #[test]
    fn section_ids_are_unique_and_embeddable() {
        for (i, s) in SECTIONS.iter().enumerate() {
            assert!(SECTIONS[..i].iter().all(|o| o.id != s.id), "{}", s.id);
            assert!(s.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert_eq!(
                from_embed(&format!("lesson/{}", s.id)).map(|x| x.id),
                Ok(s.id)
            );
        }
        let e = from_embed("lesson/nope").expect_err("unknown");
        assert!(e.contains("\"nope\"") && e.contains("gil"), "{e}");
    }

    #[test]
    fn quick_sizes_are_smaller_than_the_lesson() {
        let d = &find("gil").expect("gil").demos[1];
        let quick = d.params(Size::Quick).expect("quick");
        let lesson = d.params(Size::Lesson).expect("lesson");
        assert_ne!(quick, lesson);
        assert_eq!(lesson, d.scenario().expect("known").defaults());
    }

    #[test]
    fn questions_name_this_machine() {
        let q = find("gil").expect("gil").question_for(2);
        assert!(q.contains("2 cores"), "{q}");
        assert!(
            find("gil")
                .expect("gil")
                .question_for(1)
                .contains("1 core.")
        );
    }
}
