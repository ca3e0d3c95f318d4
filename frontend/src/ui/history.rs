//! What the flight recorder's pages (and the dashboard) share: how to tell
//! that the recorder is off, saying so with how to turn it on, saying what
//! the policy refuses, links to a record, and times as people read them.

use std::time::Duration;

use berth_engine::relay;
use leptos::prelude::*;

use crate::api::{href, ApiError, Engine};
use crate::live::{follow_events, of_types};

/// Whether `err` is the relay saying it runs without `--record`.
pub fn recorder_off(err: &ApiError) -> bool {
    matches!(err, ApiError::Engine(e) if e.status == 404 && e.message.contains(relay::RECORDER_OFF))
}

/// Calls `reload` after each burst of container events, for as long as
/// the page is open: the recorder writes down what it hears from those
/// same events, so a moment later. The signal says whether the events
/// stream is live.
pub fn follow_records(engine: Engine, reload: impl Fn() + Copy + 'static) -> RwSignal<bool> {
    follow_events(engine, of_types(&["container"]), move || {
        set_timeout(reload, Duration::from_millis(800))
    })
}

/// The recorder is off: what it would give, and how to turn it on.
#[component]
pub fn RecorderOff() -> impl IntoView {
    view! {
        <section class="problem" data-recorder-off="" role="status">
            <h2>"The flight recorder is off"</h2>
            <p>
                "This relay keeps no history: the logs of containers that are gone, how they ended, and a \
                 search across all of them need berth started with "<code>"--record DIR"</code>
                " (for example "<code>"berth --record /var/lib/berth"</code>", or "
                <code>"BERTH_RECORD=DIR"</code>"). The compose file turns it on. It keeps every \
                 container's log from then on, in plain files in DIR, up to "<code>"--record-max"</code>" (1G by default)."
            </p>
        </section>
    }
}

/// The policy refuses the recorder's `what`: in words, with its reason.
#[component]
pub fn RecorderRefused(what: &'static str, why: String) -> impl IntoView {
    view! {
        <section class="problem" data-recorder-refused="" role="status">
            <h2>{format!("The relay's policy does not allow {what}")}</h2>
            <p>{why}</p>
        </section>
    }
}

/// The console's address of a record; opened at a moment (nanoseconds
/// since the epoch) when `at` is given.
pub fn record_href(id: &str, at: Option<i64>) -> String {
    match at {
        Some(ns) => href(&format!("/history/{id}?at={ns}")),
        None => href(&format!("/history/{id}")),
    }
}

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Seconds since the epoch as a local date and time: `2026-12-05 20:01:27`.
pub fn when(unix: i64) -> String {
    super::local_input(unix).replacen('T', " ", 1)
}

/// Nanoseconds since the epoch as a local time with milliseconds, the day
/// too unless it is today: `20:01:27.123`, `2026-12-04 20:01:27.123`.
pub fn moment(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let millis = ns.rem_euclid(1_000_000_000) / 1_000_000;
    let full = when(secs);
    let today = when(now());
    let shown = match (full.split_once(' '), today.split_once(' ')) {
        (Some((day, time)), Some((now, _))) if day == now => time.to_owned(),
        _ => full,
    };
    format!("{shown}.{millis:03}")
}
