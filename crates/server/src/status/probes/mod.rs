//! Probes: what one check does and the worker that schedules them.

pub mod check;
pub mod runner;
