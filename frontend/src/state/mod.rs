//! The console's pure parts, apart from what shows them (tokio-console's
//! state/view split): what the pages hold and work out from the engine's
//! answers, with no browser in reach (no storage, no fetch, no DOM), so
//! `cargo test -p berth-console` tests them natively.

pub mod ansi;
pub mod bulk;
pub mod containers;
pub mod create;
pub mod disk;
pub mod history;
pub mod json;
pub mod logs;
pub mod relays;
pub mod stacks;
