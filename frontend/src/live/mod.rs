//! What stays current by itself: pages follow the engine's events stream
//! and reload what changed instead of polling, and streams end with the
//! page that opened them.

pub mod disk;
pub mod stacks;

use std::collections::BTreeMap;

use berth_engine::endpoints::EventsOptions;
use berth_engine::models::EventMessage;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Engine};

/// What `load` gives, `None` until it first has; the closure loads again.
/// Loads may overlap (an action and an event): only the newest lands.
pub fn latest<T, F, Fut>(
    load: F,
) -> (
    RwSignal<Option<T>>,
    impl Fn() + Copy + Send + Sync + 'static,
)
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + 'static,
{
    let value = RwSignal::new(None);
    let generation = StoredValue::new(0u64);
    let reload = move || {
        // A reload an event asked for can come after the page is gone (a
        // burst of events is read again a moment later): nothing to do.
        let Some(mine) = generation.try_update_value(|g| {
            *g += 1;
            *g
        }) else {
            return;
        };
        spawn_local(async move {
            let loaded = load().await;
            if generation.try_get_value() == Some(mine) {
                value.set(Some(loaded));
            }
        });
    };
    (value, reload)
}

/// The engine's filter for events about objects of these types.
pub fn of_types(types: &[&str]) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        "type".to_owned(),
        types.iter().map(|t| (*t).to_owned()).collect(),
    )])
}

/// Calls `changed` (coalesced) whenever the engine reports an event that
/// passes `filters`, for as long as the page is open. When the stream drops
/// (the engine restarting, say) it reconnects with backoff, and calls
/// `changed` once back, for what happened meanwhile. The signal says
/// whether the stream is live.
pub fn follow_events(
    engine: Engine,
    filters: BTreeMap<String, Vec<String>>,
    changed: impl Fn() + Clone + 'static,
) -> RwSignal<bool> {
    follow_events_where(engine, filters, |_| true, changed)
}

/// As [`follow_events`], for the events `accept` takes too (a check the
/// engine's filters can't make, such as an id learnt later).
pub fn follow_events_where(
    engine: Engine,
    filters: BTreeMap<String, Vec<String>>,
    accept: impl Fn(&EventMessage) -> bool + Clone + 'static,
    changed: impl Fn() + Clone + 'static,
) -> RwSignal<bool> {
    let live = RwSignal::new(true);
    let Ok(controller) = web_sys::AbortController::new() else {
        return live;
    };
    let signal = controller.signal();
    on_cleanup({
        let controller = send_wrapper::SendWrapper::new(controller);
        move || controller.abort()
    });
    follow_until(engine, filters, accept, changed, live, signal);
    live
}

/// Follows events, as [`follow_events_where`] does, until `signal` aborts.
pub fn follow_until(
    engine: Engine,
    filters: BTreeMap<String, Vec<String>>,
    accept: impl Fn(&EventMessage) -> bool + Clone + 'static,
    changed: impl Fn() + Clone + 'static,
    live: RwSignal<bool>,
    signal: web_sys::AbortSignal,
) {
    spawn_local(async move {
        let mut delay = 500;
        while !signal.aborted() {
            if let Ok(api) = engine.api().await {
                let opts = EventsOptions {
                    filters: filters.clone(),
                    ..Default::default()
                };
                let pending = std::rc::Rc::new(std::cell::Cell::new(false));
                let on_event = {
                    let changed = changed.clone();
                    let accept = accept.clone();
                    move |event: EventMessage| {
                        if !accept(&event) {
                            return;
                        }
                        // A burst of events (create, start, …) makes one reload.
                        if !pending.replace(true) {
                            let pending = pending.clone();
                            let changed = changed.clone();
                            set_timeout(
                                move || {
                                    pending.set(false);
                                    changed();
                                },
                                std::time::Duration::from_millis(150),
                            );
                        }
                    }
                };
                let opened = {
                    let changed = changed.clone();
                    move || {
                        if !live.get_untracked() {
                            live.set(true);
                            changed();
                        }
                    }
                };
                if api::stream(api.events(&opts), &signal, opened, on_event)
                    .await
                    .is_ok()
                {
                    delay = 500;
                }
            }
            if signal.aborted() {
                break;
            }
            live.set(false);
            sleep(delay).await;
            delay = (delay * 2).min(5_000);
        }
    });
}

pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A page's current stream: `renew` aborts the one before (if any) and
/// returns the signal for the next; the last is aborted when the page goes.
#[derive(Clone, Copy)]
pub struct StreamSlot(StoredValue<Option<web_sys::AbortController>, LocalStorage>);

impl StreamSlot {
    pub fn new() -> StreamSlot {
        let slot = StoredValue::new_local(None::<web_sys::AbortController>);
        on_cleanup(move || {
            if let Some(c) = slot.try_get_value().flatten() {
                c.abort();
            }
        });
        StreamSlot(slot)
    }

    pub fn renew(self) -> Option<web_sys::AbortSignal> {
        if let Some(c) = self.0.get_value() {
            c.abort();
        }
        let c = web_sys::AbortController::new().ok()?;
        let signal = c.signal();
        self.0.set_value(Some(c));
        Some(signal)
    }
}
