//! The engine's disk usage (`/system/df`), read once at a time and shared
//! by the pages that show it (system, volumes).
//!
//! Reading it is costly for the engine, and Docker 20.10 refuses a second
//! read while one runs ("a disk usage operation is already running"). So
//! the console keeps one copy: at most one read under way, a change while
//! reading makes one more read after it, and what is shown stays shown
//! while reading again. It is read again only when the engine reports
//! something that changes it, for as long as a page shows it. Another tab,
//! or another person, reading at the same moment is waited out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, ApiError, Engine};

use super::{follow_until, of_types, sleep};

/// The events after which the figures differ: objects made, removed or
/// pruned, and containers changing state (the prune preview goes by it).
const CHANGES: [&str; 15] = [
    "create", "destroy", "start", "die", "pause", "unpause", "rename", "commit", "prune", "delete",
    "import", "load", "pull", "tag", "untag",
];

/// How the engine says another read is under way.
const BUSY: &str = "disk usage operation is already running";

/// The shared figures (a context, made by the shell).
#[derive(Clone, Copy)]
pub struct DiskUsage {
    /// The last figures read; `None` before the first.
    figures: RwSignal<Option<Value>>,
    /// Why the last read failed, if it did (the figures before it stay).
    problem: RwSignal<Option<ApiError>>,
    /// A read is under way.
    reading: RwSignal<bool>,
    /// Something changed while reading: read once more after.
    again: StoredValue<bool>,
    /// How many pages show the figures.
    shown: StoredValue<usize>,
    /// The events followed while a page shows the figures.
    follow: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
    /// The shell's owner, which outlives the pages.
    owner: StoredValue<Owner, LocalStorage>,
}

impl DiskUsage {
    pub fn new() -> DiskUsage {
        DiskUsage {
            figures: RwSignal::new(None),
            problem: RwSignal::new(None),
            reading: RwSignal::new(false),
            again: StoredValue::new(false),
            shown: StoredValue::new(0),
            follow: StoredValue::new_local(None),
            owner: StoredValue::new_local(Owner::current().unwrap_or_default()),
        }
    }

    /// For a page that shows the figures, for as long as it is open: they
    /// are read if not yet known (or not followed since), and kept current.
    pub fn show(self, engine: Engine) -> DiskUsage {
        self.shown.update_value(|n| *n += 1);
        if self.shown.get_value() == 1 {
            self.start(engine);
        }
        on_cleanup(move || {
            self.shown.update_value(|n| *n -= 1);
            if self.shown.get_value() == 0 {
                if let Some(c) = self.follow.get_value() {
                    c.abort();
                }
                self.follow.set_value(None);
            }
        });
        self
    }

    fn start(self, engine: Engine) {
        let Ok(controller) = web_sys::AbortController::new() else {
            return;
        };
        let signal = controller.signal();
        self.follow.set_value(Some(controller));
        let mut filters = of_types(&["container", "image", "volume", "builder"]);
        filters.insert("event".into(), CHANGES.map(str::to_owned).to_vec());
        // Not followed until now: what is shown may be out of date.
        self.refresh(engine);
        self.owner.with_value(|owner| {
            owner.with(|| {
                let live = RwSignal::new(true);
                follow_until(
                    engine,
                    filters,
                    |_| true,
                    move || self.refresh(engine),
                    live,
                    signal,
                );
            })
        });
    }

    /// Reads the figures again (or once more after the read under way).
    pub fn refresh(self, engine: Engine) {
        if self.reading.get_untracked() {
            self.again.set_value(true);
            return;
        }
        self.reading.set(true);
        spawn_local(async move {
            loop {
                self.again.set_value(false);
                match read(engine).await {
                    Ok(v) => {
                        self.figures.set(Some(v));
                        self.problem.set(None);
                    }
                    Err(e) => self.problem.set(Some(e)),
                }
                if !self.again.get_value() {
                    break;
                }
            }
            self.reading.set(false);
        });
    }

    /// `f` of the figures (`None` until first read).
    pub fn with_figures<R>(self, f: impl FnOnce(Option<&Value>) -> R) -> R {
        self.figures.with(|v| f(v.as_ref()))
    }

    /// Why the last read failed, if it did.
    pub fn problem(self) -> Option<ApiError> {
        self.problem.get()
    }

    pub fn reading(self) -> bool {
        self.reading.get()
    }
}

/// One read, waiting out another one under way (this engine's, from
/// another tab or person): up to about twenty seconds.
async fn read(engine: Engine) -> Result<Value, ApiError> {
    let api = engine.api().await?;
    let mut wait = 100;
    loop {
        match api::call(api.system_df()).await {
            Err(ApiError::Engine(e)) if e.message.contains(BUSY) && wait < 6400 => {
                // Apart, so two tabs do not meet again.
                let jitter = (js_sys::Math::random() * f64::from(wait)) as i32;
                sleep(wait + jitter).await;
                wait *= 2;
            }
            got => return got,
        }
    }
}
