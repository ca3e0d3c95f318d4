//! One module per page.

pub mod containers;
pub mod dashboard;
