//! The learner's guesses, kept in localStorage so they are still there on the next visit.
//! Where storage is unavailable (blocked cookies, some private modes) a guess lives only as
//! long as the page: the lesson works the same, it just forgets.

use crate::page::window;

const PREFIX: &str = "gil-lab.lesson.guess.";

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The guess kept for section `id`.
pub fn load_guess(id: &str) -> Option<String> {
    storage()?.get_item(&format!("{PREFIX}{id}")).ok().flatten()
}

/// Keeps (or with `None` forgets) the guess for section `id`.
pub fn save_guess(id: &str, key: Option<&str>) {
    let Some(s) = storage() else {
        return;
    };
    let name = format!("{PREFIX}{id}");
    let _ = match key {
        Some(k) => s.set_item(&name, k),
        None => s.remove_item(&name),
    };
}
