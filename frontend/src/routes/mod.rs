//! One module per page.

pub mod bulk;
pub mod container;
pub mod containers;
pub mod create;
pub mod dashboard;
pub mod events;
pub mod files;
pub mod images;
pub mod logs;
pub mod networks;
pub mod stacks;
pub mod stats;
pub mod swarm;
pub mod system;
pub mod terminal;
