//! What the workspace's tests and benchmarks share, so each exists once: an [arbitrary
//! JSON](json) strategy for property tests, [log capture](logs), [waiting](wait) for a state,
//! and (feature `scripted`) a [scripted APS endpoint](scripted) whose resources say how it
//! answers, and (feature `browser`, module `browser`) headless Chromium driven through WebDriver.
//!
//! Not published: a dev-dependency of the workspace's crates, and a dependency of `bench/`.
#![warn(missing_docs)]

#[cfg(feature = "browser")]
pub mod browser;
pub mod json;
pub mod logs;
#[cfg(feature = "scripted")]
pub mod scripted;
pub mod wait;
