//! support-operator: support tiers, SLA policies and workspaces compiled into
//! routing tables and ticket deadlines.
//!
//! Layers, bottom up (nothing imports a layer above it):
//! 1. [`calendar`] (business time, no Kubernetes) and [`api`] (the resources);
//! 2. [`deadline`] (DESIGN.md rules 1–10), [`routing`], [`manifests`];
//! 3. [`controller`] (one file per controller), [`metrics`], [`health`], [`leader`];
//! 4. the command line (`src/main.rs`, [`cli`]).

pub mod api;
pub mod calendar;
pub mod cli;
pub mod controller;
pub mod deadline;
pub mod health;
pub mod leader;
pub mod manifests;
pub mod metrics;
pub mod routing;
pub mod telemetry;
