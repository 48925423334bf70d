//! One integration-test binary: the real server on port 0, over HTTP, against real PostgreSQL.

mod access;
mod apollo;
mod architecture;
mod badges;
mod binary;
mod browser;
mod catalog;
mod conformance;
mod dashboard;
mod errors;
mod fuzz;
mod fuzz_gen;
mod helpers;
mod hostile;
mod http;
mod keys;
mod live;
mod metrics;
mod migrations;
mod progress;
mod record;
mod reports;
mod schema;
mod seed;
mod smtp_sink;
mod ws_client;
