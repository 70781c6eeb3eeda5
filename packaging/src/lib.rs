//! Build, verify and read APS packages (`.app.zip`).
//!
//! * [`Package::read`] opens a built package as a controller imports it: `APP-META.xml`, the
//!   schema of every service, the root service. It accepts what the official APS build tool
//!   produces and refuses anything else with a [`PackageError`] that says what is wrong.
//! * [`verify`] checks a package completely (well-formed XML, every schema, every size and
//!   digest of `APP-LIST.xml`, no path that escapes) and lists every problem.
//! * [`build`] makes a reproducible package from an application binary built with the `aps`
//!   framework, taking the metadata from the binary itself (`<app> meta --out DIR`).
//!
//! ```no_run
//! let bytes = std::fs::read("async_provisioning-0.1-1.app.zip")?;
//! let package = aps_package::Package::read(&bytes)?;
//! let meta = &package.meta;
//! println!("{} {}-{}, root service {}", meta.name, meta.version, meta.release, package.root());
//! for problem in aps_package::verify(&bytes) {
//!     eprintln!("{problem}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Reading is bounded: nothing is inflated beyond [`MAX_UNPACKED`] bytes in all, and no input
//! makes these functions panic.
#![warn(missing_docs)]

mod archive;
mod build;
mod deploy;
mod error;
mod list;
mod read;
mod verify;

pub use archive::MAX_UNPACKED;
pub use build::build;
pub use error::{BuildError, PackageError};
pub use read::Package;
pub use verify::verify;
