//! support-operator: support tiers, SLA policies and workspaces compiled into
//! routing tables and ticket deadlines.

pub mod calendar;
