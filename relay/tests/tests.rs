//! Integration tests against a real Docker engine, the stock docker CLI and
//! a real headless Chromium. The engine is `BERTH_TEST_DOCKER_HOST` (the
//! README's test command starts a private one and sets it).

mod util;

mod attacks;
mod browser;
mod chromium;
mod chunks;
mod conformance;
mod container_page;
mod deploy;
mod events_page;
mod faults;
mod history_page;
mod lifecycle;
mod list_and_create;
mod policy;
mod recorder;
mod security;
mod sharing;
mod stacks;
mod streams;
mod terminal;
mod tls;
