//! support-operator: support tiers, SLA policies and workspaces compiled into
//! routing tables and ticket deadlines.
//!
//! Layers, bottom up (nothing imports a layer above it):
//! 1. [`calendar`] (business time, no Kubernetes) and [`api`] (the resources);
//! 2. [`deadline`] (DESIGN.md rules 1–10), [`routing`], [`manifests`];
//! 3. controllers (to come);
//! 4. the command line (`src/main.rs`, [`cli`]).

pub mod api;
pub mod calendar;
pub mod cli;
pub mod deadline;
pub mod manifests;
pub mod routing;
