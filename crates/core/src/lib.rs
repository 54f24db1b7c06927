//! civgrid's pure domain: codes, geometry and rules. No IO lives here.

pub mod address;
pub mod area;
pub mod calendar;
pub mod catalog;
pub mod evaluation;
pub mod event;
pub mod geo;
pub mod ids;
pub mod indicators;
pub mod locate;
pub mod password;
pub mod synth;

pub use area::{AreaCode, AreaCodeError, Level};
