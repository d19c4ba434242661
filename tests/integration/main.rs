//! End-to-end tests of the `gil-lab` binary: one test binary, one module per area (ripgrep's
//! layout). Each runs the real binary on real threads, processes and sockets, and asserts on
//! structure that timing cannot break.

mod util;

mod cli;
mod convoy;
mod cpu;
mod io;
mod race;
mod report;
mod simulate;
