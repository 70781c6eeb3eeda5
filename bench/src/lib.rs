//! Benchmark tools for `./bench/run.sh`: the baselines the framework and the controller are
//! measured against, in the same run on the same machine, and the pieces the controller's load
//! drivers share: a [scripted endpoint](scripted) and the [controller's process](process).
#![warn(missing_docs)]

pub mod load;
pub mod process;
pub mod scripted;
