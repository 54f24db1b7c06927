//! The civgrid server: HTTP API, web pages and command line.

pub mod accounts;
pub mod addresses;
pub mod app;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod evaluation;
pub mod events;
pub mod fieldwork;
pub mod files;
pub mod houses;
pub mod notifications;
pub mod orgs;
pub mod people;
pub mod privacy;
pub mod records;
pub mod sheets;
pub mod state;
pub mod web;
