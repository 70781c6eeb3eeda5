//! Build, verify and read APS packages.
