//! Benchmark tools for `./bench/run.sh`: the baselines the framework and the controller are
//! measured against, in the same run on the same machine.
