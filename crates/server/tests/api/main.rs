//! One integration-test binary: the real server, driven over HTTP, on SQLite and PostgreSQL.

mod support;

mod areas;
mod audit;
mod auth;
mod events;
mod fieldwork;
mod grids;
mod health;
mod import;
mod people;
mod scope;
