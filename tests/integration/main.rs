//! End-to-end tests of the `gil-lab` binary: one test binary, one module per area (ripgrep's
//! layout). Each runs the real binary on real threads, processes and sockets, and asserts on
//! structure that timing cannot break.

mod util;

mod bad_input;
mod bench;
mod cli;
mod convoy;
mod cpu;
mod faults;
mod hash;
mod hostile;
mod io;
mod load;
mod outputs;
mod race;
mod report;
mod serve;
mod simulate;
mod stop;
mod trace;
