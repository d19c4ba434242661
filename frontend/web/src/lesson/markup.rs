//! The lesson's markup, written as escaped HTML strings.
//!
//! Why strings and not `view!` trees: every distinct Leptos view is its own generic type, and
//! the lesson's many small, mostly static fragments cost the shared UI module over 100 KB
//! (gzip) that the lab page would download too. Static fragments (the idea, the question, the
//! Python) and read-only fragments redrawn as a whole (the verdict, the game's board and
//! history) are therefore strings, set with `inner_html`; the controls a learner operates keep
//! their elements, so focus never jumps, and radio groups report through one delegated
//! `change` listener. Everything a learner or a test can see is here, and tested natively.

use gil_lab::scheduler_game::{Game, Style, program};
use gil_lab::view::escape_html as esc;

use super::explain::Verdict;
use super::narrate::{self, stack_words, thread_name};
use super::sections::{Demo, Section};

/// Text with `code` spans: escaped, and each pair of backticks around a `<code>` element.
pub fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(&esc(part));
            out.push_str("</code>");
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

/// The section's idea, a paragraph per sentence group.
pub fn intro(section: &Section) -> String {
    section
        .intro
        .iter()
        .map(|p| format!("<p>{}</p>", inline(p)))
        .collect()
}

/// One radio button with its label.
fn radio(name: &str, id: &str, value: &str, checked: bool, label: &str) -> String {
    format!(
        "<label for=\"{id}\" class=\"choice\"><input type=\"radio\" id=\"{id}\" name=\"{name}\" value=\"{value}\"{}> {label}</label>",
        if checked { " checked" } else { "" }
    )
}

/// The question asked before the run, its answers as one radio group (`guess-<section>`).
pub fn guess(section: &Section, cores: u32, guess: Option<&str>) -> String {
    let name = format!("guess-{}", section.id);
    let choices: String = section
        .choices
        .iter()
        .map(|c| {
            radio(
                &name,
                &format!("{name}-{}", c.key),
                c.key,
                guess == Some(c.key),
                &esc(c.text),
            )
        })
        .collect();
    format!(
        "<fieldset class=\"guess\"><legend><span class=\"ask\">Before you run: </span>{}</legend>{choices}\
         <p class=\"kept\">Your guess stays in this browser, so you can come back to it.</p></fieldset>",
        inline(&section.question_for(cores))
    )
}

/// The size switch (`size-<section>`: `quick` or `lesson`).
pub fn size(section: &Section) -> String {
    let name = format!("size-{}", section.id);
    format!(
        "<fieldset class=\"size\"><legend>Size</legend>{}{}</fieldset>",
        radio(
            &name,
            &format!("{name}-quick"),
            "quick",
            true,
            "quick: a few seconds"
        ),
        radio(
            &name,
            &format!("{name}-lesson"),
            "lesson",
            false,
            &format!("the lesson's: {}", esc(section.lesson_time))
        ),
    )
}

/// A demo's caption: its number, name, scenario and parameters.
pub fn caption(k: usize, demo: &Demo, params: &str) -> String {
    format!(
        "<span class=\"step\">{}. </span><strong>{}</strong> · <code>{}</code> · <span class=\"params\">{}</span>",
        k + 1,
        esc(demo.caption),
        esc(demo.scenario),
        esc(params)
    )
}

/// The Python a demo stands for, folded.
pub fn python(code: &str) -> String {
    format!(
        "<details class=\"python\"><summary>The Python this stands for</summary><pre><code>{}</code></pre></details>",
        esc(code)
    )
}

/// What the run showed: the guess against the result, and the run's numbers.
pub fn verdict(section: &Section, v: &Verdict, guess: Option<&str>) -> String {
    let agrees = guess.is_some() && guess == v.answer;
    let lines: String = v
        .lines
        .iter()
        .map(|l| format!("<li>{}</li>", esc(l)))
        .collect();
    format!(
        "<h3>What this run showed</h3><p class=\"compare{}\">{}</p><ul>{lines}</ul>",
        if agrees { " agrees" } else { "" },
        esc(&section.compare_guess(guess, v.answer))
    )
}

/// What a stopped run can and cannot tell.
pub fn stopped() -> String {
    "<p class=\"compare\">Stopped before the end: the pictures keep what was recorded, but a partial run proves nothing. Run it again to see the numbers.</p>".to_owned()
}

/// Why a section cannot run here, what can, and where it can (`twin`: the isolated page).
pub fn blocked(why: &str, has_game: bool, twin: Option<&str>) -> String {
    let mut out = format!(
        "<p><strong>This demo cannot run on this page. </strong>{}</p>",
        esc(why)
    );
    if has_game {
        out.push_str("<p>The scheduler game below runs anywhere: it shows the same lost update, one bytecode at a time.</p>");
    }
    if let Some(href) = twin {
        out.push_str(&format!(
            "<p><a href=\"{}\">Open this step on the isolated page</a>, where it can run.</p>",
            esc(href)
        ));
    }
    out
}

/// The closing table: `(section id, title, headline)` of every section finished on this visit.
pub fn results(rows: &[(&str, &str, String)]) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">Run the steps above: the headline number of each gathers here, measured in this browser.</p>".to_owned();
    }
    let body: String = rows
        .iter()
        .map(|(id, title, line)| {
            format!(
                "<tr><th scope=\"row\"><a href=\"lesson/#{}\">{}</a></th><td>{}</td></tr>",
                esc(id),
                esc(title),
                esc(line)
            )
        })
        .collect();
    format!(
        "<table><caption>What you measured on this visit</caption><thead><tr><th scope=\"col\">Step</th>\
         <th scope=\"col\">Measured here</th></tr></thead><tbody>{body}</tbody></table>"
    )
}

/// The game's two option groups (`game-style`, `game-decider`), as they start.
pub fn game_options() -> String {
    format!(
        "<fieldset><legend>The update</legend>{}{}</fieldset><fieldset><legend>Who picks the next bytecode</legend>{}{}</fieldset>",
        radio(
            "game-style",
            "game-style-plain",
            "plain",
            true,
            "<code>counter += 1</code>"
        ),
        radio(
            "game-style",
            "game-style-call",
            "call",
            false,
            "<code>counter += one()</code>"
        ),
        radio(
            "game-decider",
            "game-decider-you",
            "you",
            true,
            "you (keys 1 and 2)"
        ),
        radio(
            "game-decider",
            "game-decider-gil",
            "gil",
            false,
            "the GIL (key G): it switches only at check points"
        ),
    )
}

/// The Python both threads of the game run.
pub fn game_python(style: Style, iterations: u32) -> String {
    let helper = match style {
        Style::Plain => "",
        Style::Call => "def one():\n    return 1\n\n",
    };
    format!(
        "counter = 0\n{helper}def work():\n    global counter\n    for _ in range({iterations}):\n        {}\n\n# two threads run work() at once",
        narrate::python_line(style)
    )
}

/// One thread's panel: its loop body with the next bytecode marked, its stack, its loops.
fn thread_panel(game: &Game, t: usize, iterations: u32) -> String {
    let th = &game.threads()[t];
    let next = game.next_bytecode(t).map(|_| th.pc);
    let rows: String = program(game.style())
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let here = next == Some(i);
            format!(
                "<li{}><span class=\"marker\" aria-hidden=\"true\">{}</span><code>{}</code>{}</li>",
                if here {
                    " class=\"next\" aria-current=\"step\""
                } else {
                    ""
                },
                if here { "▶" } else { "" },
                esc(b.text()),
                if b.is_check_point() {
                    "<span class=\"cp\">check point</span>"
                } else {
                    ""
                }
            )
        })
        .collect();
    let loops = if th.done >= iterations {
        format!("Finished its {iterations} loops.")
    } else {
        format!("Loops done: {} of {iterations}.", th.done)
    };
    let name = thread_name(t);
    format!(
        "<div class=\"thread t{n}\"><h4><span class=\"chip\" aria-hidden=\"true\">{n}</span>{name}</h4>\
         <ol class=\"code\" aria-label=\"{name}'s loop body; the next bytecode is marked\">{rows}</ol>\
         <p class=\"stack\">Stack (what it has read and not yet written): <output data-stack=\"{t}\">{}</output></p>\
         <p class=\"loops\">{loops}</p></div>",
        stack_words(&th.stack),
        n = t + 1,
    )
}

/// The board: both threads and the shared counter between them.
pub fn board(game: &Game, iterations: u32) -> String {
    format!(
        "{}<div class=\"shared\" data-counter=\"{c}\" data-lost=\"{l}\"><h4>Shared memory</h4>\
         <p class=\"counter\"><span>counter = </span><output id=\"game-counter\">{c}</output></p>\
         <p class=\"tally\">{}</p></div>{}",
        thread_panel(game, 0, iterations),
        esc(&narrate::tally(game)),
        thread_panel(game, 1, iterations),
        c = game.counter(),
        l = game.lost(),
    )
}

/// One entry of the game's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Which thread ran (0 or 1).
    pub thread: usize,
    /// What it did, in words.
    pub text: String,
    /// Whether this write lost the other thread's update.
    pub lost: bool,
}

/// The history, oldest first.
pub fn history(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "<li class=\"empty\">Nothing has run yet.</li>".to_owned();
    }
    entries
        .iter()
        .map(|e| {
            format!(
                "<li class=\"t{}{}\">{}{}</li>",
                e.thread + 1,
                if e.lost { " lost" } else { "" },
                if e.lost { "⚠ " } else { "" },
                esc(&e.text)
            )
        })
        .collect()
}

/// What the game says under the board once something happened: the lost update explained,
/// and what the GIL did once it has played to the end.
pub fn game_notes(game: &Game, gil_decides: bool) -> String {
    let mut out = String::new();
    if let Some(w) = narrate::why_lost(game) {
        out.push_str(&format!(
            "<p class=\"lost-box\"><strong>An update was lost. </strong>{}</p>",
            esc(&w)
        ));
    }
    if game.finished() {
        let text = if gil_decides {
            narrate::gil_verdict(game)
        } else if game.lost() == 0 {
            "Nothing lost this time: every read was written back before the other thread read. Try reading in one thread, then running the other thread's whole update.".to_owned()
        } else {
            return out;
        };
        out.push_str(&format!("<p class=\"gil-verdict\">{}</p>", esc(&text)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::sections::find;

    #[test]
    fn text_is_escaped_and_backticks_become_code() {
        assert_eq!(
            inline("`a < b` & `c`"),
            "<code>a &lt; b</code> &amp; <code>c</code>"
        );
        let intro = intro(find("shared-data").expect("section"));
        assert!(intro.contains("<code>counter += 1</code>"), "{intro}");
    }

    #[test]
    fn the_kept_guess_is_checked_and_ids_are_stable() {
        let s = find("gil").expect("gil");
        let html = guess(s, 2, Some("same"));
        assert!(html.contains("id=\"guess-gil-same\" name=\"guess-gil\" value=\"same\" checked>"));
        assert!(html.contains("id=\"guess-gil-per-core\" name=\"guess-gil\" value=\"per-core\">"));
        assert!(html.contains("this machine with 2 cores"));
        assert!(size(s).contains("id=\"size-gil-lesson\""));
    }

    #[test]
    fn the_board_marks_the_next_bytecode_and_shows_the_stacks() {
        let mut g = Game::new(Style::Plain, 3);
        g.step(0).expect("load");
        let html = board(&g, 3);
        assert!(html.contains("data-counter=\"0\" data-lost=\"0\""));
        assert!(html.contains("<output data-stack=\"0\">[0]</output>"));
        assert!(html.contains("<output data-stack=\"1\">empty</output>"));
        // Thread 1's next is LOAD_CONST (its second row), thread 2's is its first.
        let t1 = &html[..html.find("class=\"shared\"").expect("shared")];
        assert_eq!(t1.matches("aria-current=\"step\"").count(), 1);
        assert!(t1.contains("aria-current=\"step\"><span class=\"marker\" aria-hidden=\"true\">▶</span><code>LOAD_CONST"));
    }

    #[test]
    fn a_lost_update_is_explained_under_the_board() {
        let mut g = Game::new(Style::Plain, 1);
        g.step(0).expect("read");
        for _ in 0..5 {
            g.step(1).expect("update");
        }
        for _ in 0..4 {
            g.step(0).expect("write");
        }
        let notes = game_notes(&g, false);
        assert!(notes.contains("An update was lost."), "{notes}");
        let h = history(&[Entry {
            thread: 0,
            text: "wrote <1>".into(),
            lost: true,
        }]);
        assert_eq!(h, "<li class=\"t1 lost\">⚠ wrote &lt;1&gt;</li>");
    }

    #[test]
    fn results_link_back_to_their_steps() {
        let html = results(&[("gil", "The GIL", "4 threads: 0.98×".into())]);
        assert!(html.contains("<a href=\"lesson/#gil\">The GIL</a></th><td>4 threads: 0.98×</td>"));
        assert!(results(&[]).contains("Run the steps above"));
    }
}
