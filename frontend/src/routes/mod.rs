//! The pages, one a file (a container's tabs in `container/`). A page
//! imports no other page: what pages share is in `ui`, `state` and `live`.

pub mod container;
pub mod containers;
pub mod create;
pub mod dashboard;
pub mod engines;
pub mod events;
pub mod history;
pub mod images;
pub mod logs;
pub mod networks;
pub mod record;
pub mod search;
pub mod stack;
pub mod stacks;
pub mod swarm;
pub mod system;
pub mod volumes;
