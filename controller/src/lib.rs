//! The APS controller.
