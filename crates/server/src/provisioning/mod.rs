//! The organisation file, `apply` and the demo organisation.

pub mod apply_file;
pub mod apply_run;
pub mod demo;
