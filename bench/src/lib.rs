//! Benchmark tools for `./bench/run.sh`: the baselines the framework and the controller are
//! measured against, in the same run on the same machine, and the pieces the controller's load
//! drivers share: the [controller's process](process), with the scripted endpoint of
//! `aps_test_support::scripted` inside it.
#![warn(missing_docs)]

pub mod load;
pub mod process;
