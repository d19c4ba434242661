//! # The lesson explorer
//!
//! The page at `lesson/` (and any one section of it with `?embed=lesson/<section>`): the
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
//! | `simulate` | the seam for simulated 16/64-core pictures (not wired yet) | any |
//! | `ui`, `game` | the Leptos components | web |
//! | `runs` | a section's demos, one after another, on the page's engine | web |
//! | `store` | guesses in localStorage | web |

pub mod explain;
pub mod narrate;
pub mod sections;
pub mod simulate;

// When compiling for web:
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

/// Whether this page load is the lesson: its own entry page (`<body data-page="lesson">`) or a
/// section embedded from either page.
#[cfg(target_arch = "wasm32")]
pub fn wanted() -> bool {
    use crate::page::{get, query, window};
    let own_page = window()
        .document()
        .and_then(|d| d.body())
        .and_then(|b| b.get_attribute("data-page"))
        .is_some_and(|p| p == "lesson");
    own_page || get(&query(), "embed").is_some_and(|e| e.starts_with(EMBED_PREFIX))
}

/// Adds the lesson's stylesheet when the page does not have it (a section embedded through the
/// lab's own entry page).
#[cfg(target_arch = "wasm32")]
fn ensure_stylesheet() {
    let Some(doc) = crate::page::window().document() else {
        return;
    };
    if doc
        .query_selector("link[data-lesson-css]")
        .ok()
        .flatten()
        .is_some()
    {
        return;
    }
    if let (Ok(link), Some(head)) = (doc.create_element("link"), doc.head()) {
        let _ = link.set_attribute("rel", "stylesheet");
        let _ = link.set_attribute("href", "lesson/lesson.css");
        let _ = link.set_attribute("data-lesson-css", "");
        let _ = head.append_child(&link);
    }
}

/// Mounts the lesson page, or one section of it for an `<iframe>`.
#[cfg(target_arch = "wasm32")]
pub fn mount() {
    use leptos::prelude::*;

    use crate::page::{console_hook, get, publish, query, window};

    console_hook();
    ensure_stylesheet();
    let q = query();
    let embed = get(&q, "embed")
        .filter(|e| e.starts_with(EMBED_PREFIX))
        .map(str::to_owned);
    if embed.is_some() {
        if let Some(body) = window().document().and_then(|d| d.body()) {
            let _ = body.class_list().add_1("embedded");
        }
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
