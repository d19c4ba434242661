//! # The lesson explorer
//!
//! The page at `lesson/` (and any one section of it with `?embed=lesson/<section>`, on the
//! lesson's page or the lab's, which sends it on): the
//! lesson's arc — processes and threads, concurrency and parallelism, the GIL, I/O on threads,
//! the convoy effect, processes and Pools, shared data, and which one to use — each step with a
//! question answered before the run (kept in localStorage), the live demos on the same engine
//! and pictures as the lab page, and an explanation read from that run's own numbers. The
//! shared-data step holds "Be the scheduler", the core's bytecode-level game.
//!
//! | module | holds | platform |
//! |---|---|---|
//! | `sections` | the steps: questions, answers, demos and sizes | any |
//! | `explain` | reports → verdict and sentences with the run's numbers | any |
//! | `narrate` | the scheduler game in words | any |
//! | `markup` | the lesson's HTML fragments as escaped strings (smaller than `view!` trees) | any |
//! | `simulate` | "the same on 16 / 64 cores": which demos; the simulated pictures' component (web) | any |
//! | `ui`, `game` | the Leptos components | web |
//! | `runs` | a section's demos, one after another, on the page's engine | web |
//! | `store` | guesses in localStorage | web |
//! | `dom` | reading a radio button's change event | web |

pub mod explain;
pub mod markup;
pub mod narrate;
pub mod sections;
pub mod simulate;

// When compiling for web:
#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
mod game;
#[cfg(target_arch = "wasm32")]
mod runs;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
mod ui;

/// The `?embed=` value of a lesson section starts with this.
pub const EMBED_PREFIX: &str = "lesson/";

/// On the lab's page, `?embed=lesson/<section>` is the lesson's: send the frame on to the
/// lesson's own page (same query), which has the module that draws it. Whether it did.
#[cfg(target_arch = "wasm32")]
pub fn redirect_embed() -> bool {
    use crate::page::{get, query, window};
    if !get(&query(), "embed").is_some_and(|e| e.starts_with(EMBED_PREFIX)) {
        return false;
    }
    let l = window().location();
    let search = l.search().unwrap_or_default();
    let target =
        web_sys::Url::new_with_base(&format!("lesson/{search}"), &l.href().unwrap_or_default());
    match target {
        Ok(u) => l.replace(&u.href()).is_ok(),
        Err(_) => false,
    }
}

/// Mounts the lesson page, or one section of it for an `<iframe>`.
#[cfg(target_arch = "wasm32")]
pub fn mount() {
    use leptos::prelude::*;

    use crate::page::{console_hook, get, publish, query, window};

    console_hook();
    let q = query();
    // Any `embed` value names a section (`lesson/gil`, or just `gil`); one that names none
    // gets a message listing those there are, never the whole lesson in a small frame.
    let embed = get(&q, "embed").map(str::to_owned);
    if embed.is_some()
        && let Some(body) = window().document().and_then(|d| d.body())
    {
        let _ = body.class_list().add_1("embedded");
    }
    runs::install();
    crate::runtime::warm_up();
    publish("idle", None);
    leptos::mount::mount_to_body(move || match embed.as_deref() {
        None => view! { <ui::LessonPage/> }.into_any(),
        Some(e) => match sections::from_embed(e) {
            Ok(section) => view! { <ui::EmbedSection section=section/> }.into_any(),
            Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        },
    });
}
