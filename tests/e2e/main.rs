//! Skillmesh's end-to-end tests, one test binary with a module per area:
//! real `skillmesh` nodes (in this process or as child processes) talking
//! libp2p over loopback with real sled databases in temp dirs, a real
//! headless Chromium for the web journeys, and attackers that speak the
//! wire protocol themselves (`common::attacker`).
//!
//! One binary rather than one per file: each links the whole stack, so
//! fifteen of them cost fifteen links and over a gigabyte of disk per
//! build. Run one area with `cargo test -p skillmesh-tests --test e2e
//! federation::`, one test by its full name.

// Sets up and inspects data through the store, as only tests may.
#![allow(clippy::disallowed_methods)]

mod common;

mod accounts;
mod attacks;
mod browser_smoke;
mod cli;
mod cohort_seats;
mod federation;
mod healing;
mod learning_week;
mod lookalike;
mod mail;
mod operations;
mod outbound;
mod recognition;
mod reindex;
mod request_flood;
mod requests;
mod sample_data;
mod store_faults;
mod web_admin;
mod web_ask_expert;
mod web_cohort;
mod web_content;
mod web_invitations;
mod web_journey;
mod web_observation;
mod web_programmes;
mod web_sso;
mod webhook;
