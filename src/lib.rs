//! support-operator: support tiers, SLA policies and workspaces compiled into
//! routing tables and ticket deadlines.
//!
//! Layers, bottom up (nothing imports a layer above it):
//! 1. [`calendar`] (business time, no Kubernetes), [`api`] (the resources) and
//!    [`version`] (what this build is);
//! 2. [`catalog`] (the compiled model, below the rest of its layer), then
//!    [`deadline`] (DESIGN.md rules 1–11), [`routing`], [`manifests`], [`evaluate`];
//! 3. [`controller`] (wiring, context, leader election, one file per controller),
//!    [`metrics`], [`health`], [`telemetry`];
//! 4. the command line (`src/main.rs`, [`cli`]).

pub mod api;
pub mod calendar;
pub mod catalog;
pub mod cli;
pub mod controller;
pub mod deadline;
pub mod evaluate;
pub mod health;
pub mod manifests;
pub mod metrics;
pub mod routing;
pub mod telemetry;
pub mod version;
