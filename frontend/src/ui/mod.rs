//! What several pages share: notices, problem panels, the dialog, the
//! act-and-tell helper, formatting; and the components in the modules
//! below. No page's code lives here, and nothing here imports a page.

pub mod bulk;
pub mod current;
pub mod dialog;
pub mod history;
pub mod inspect;
pub mod logs;
pub mod palette;
pub mod pull;
pub mod remove;

use berth_engine::{Api, Endpoint};
use leptos::prelude::*;
use serde::de::DeserializeOwned;

use crate::api::{self, ApiError, Engine};

/// Messages for the person: failed actions, mostly. Newest last.
#[derive(Clone, Copy, Default)]
pub struct Notices {
    items: RwSignal<Vec<(u32, String, bool)>>,
    next: StoredValue<u32>,
}

impl Notices {
    pub fn error(&self, text: String) {
        self.push(text, true);
    }

    /// Good news worth a word (what a load brought in, say).
    pub fn info(&self, text: String) {
        self.push(text, false);
    }

    fn push(&self, text: String, error: bool) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.items.update(|items| items.push((id, text, error)));
    }

    fn dismiss(&self, id: u32) {
        self.items
            .update(|items| items.retain(|(i, _, _)| *i != id));
    }
}

#[component]
pub fn NoticesView() -> impl IntoView {
    let notices = expect_context::<Notices>();
    view! {
        <div class="notices" role="alert" aria-live="assertive">
            <For each=move || notices.items.get() key=|(id, _, _)| *id let((id, text, error))>
                <div class="notice" class:info=!error>
                    <span>{text}</span>
                    <button class="ghost" aria-label="Dismiss" on:click=move |_| notices.dismiss(id)>"×"</button>
                </div>
            </For>
        </div>
    }
}

/// A failed load: what went wrong and a way to try again.
#[component]
pub fn Problem(err: ApiError, retry: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let title = if err.is_unreachable() {
        "Cannot reach the Docker engine"
    } else {
        "Something went wrong"
    };
    view! {
        <section class="problem" data-problem=if err.is_unreachable() { "unreachable" } else { "error" }>
            <h2>{title}</h2>
            <p>{err.to_string()}</p>
            <button on:click=move |_| retry()>"Try again"</button>
        </section>
    }
}

/// The banner of a page whose events stream dropped.
#[component]
pub fn Reconnecting(live: RwSignal<bool>) -> impl IntoView {
    view! {
        <Show when=move || !live.get()>
            <p class="banner" data-problem="reconnecting" role="status">
                "Lost the live connection to the engine; reconnecting… What is shown may be out of date."
            </p>
        </Show>
    }
}

/// What a prune of unused `what` would remove, and the button that asks
/// to (disabled when nothing would go, or the relay would refuse).
#[component]
pub fn PrunePreview(
    what: &'static str,
    names: Signal<Vec<String>>,
    refused: Signal<Option<String>>,
    on_prune: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <h2>"Prune"</h2>
        <p data-prune-preview="">{move || names.with(|u| if u.is_empty() {
            format!("No unused {what}.")
        } else {
            format!("Unused, would go: {}", u.join(", "))
        })}</p>
        <button class="danger" title=refused aria-description=refused
            disabled=move || names.with(Vec::is_empty) || refused.get().is_some()
            on:click=move |_| on_prune()>{format!("Prune unused {what}…")}</button>
    }
}

/// A call that answers nothing, made with the negotiated API.
pub type Call = Box<dyn FnOnce(Api) -> Endpoint<()>>;

/// Makes a call; a failure is told as "Could not {what}: …"; `then` runs
/// either way with the answer, if there is one (a reload, usually).
pub fn act_then<T: DeserializeOwned + 'static>(
    engine: Engine,
    notices: Notices,
    what: String,
    call: impl FnOnce(Api) -> Endpoint<T> + 'static,
    then: impl FnOnce(Option<T>) + 'static,
) {
    leptos::task::spawn_local(async move {
        let got = async { api::call(call(engine.api().await?)).await }.await;
        if let Err(e) = &got {
            notices.error(format!("Could not {what}: {e}"));
        }
        then(got.ok());
    });
}

/// Saves what `call` answers as the file `name`, through the browser's own
/// download; a failure is told as "Could not {what}: …".
pub fn save_as<T: 'static>(
    engine: Engine,
    notices: Notices,
    what: String,
    call: impl FnOnce(Api) -> Endpoint<T> + 'static,
    name: String,
) {
    leptos::task::spawn_local(async move {
        let got = async { api::download(call(engine.api().await?), &name).await }.await;
        if let Err(e) = got {
            notices.error(format!("Could not {what}: {e}"));
        }
    });
}

/// Why the relay would refuse the call `make` builds, if it would: for a
/// control's `disabled`, its `title` and `aria-description`.
pub fn refusal<T>(
    engine: Engine,
    make: impl Fn(&Api) -> Endpoint<T> + Send + Sync + 'static,
) -> Signal<Option<String>> {
    Signal::derive(move || engine.refusal(&make))
}

/// A control's accessible name: what it does and to what (`Stop web`).
pub fn named(verb: &str, what: &str) -> String {
    let mut chars = verb.chars();
    let verb: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!("{verb} {what}")
}

/// A list loaded as the first part of `resource`'s answer, kept as it was
/// while a reload is under way (so keyed rows stay put); `None` before the
/// first load and after a failure.
pub fn kept_rows<A, B>(
    resource: LocalResource<Result<(Vec<A>, B), ApiError>>,
) -> Memo<Option<Vec<A>>>
where
    A: Clone + PartialEq + Send + Sync + 'static,
    B: Clone + 'static,
{
    Memo::new(move |prev: Option<&Option<Vec<A>>>| match resource.get() {
        Some(Ok((rows, _))) => Some(rows),
        Some(Err(_)) => None,
        None => prev.cloned().flatten(),
    })
}

/// `1536` → `1.5 KiB`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Seconds since the epoch → `5 minutes ago`.
pub fn ago(unix: i64) -> String {
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let s = (now - unix).max(0);
    let (n, unit) = match s {
        0..60 => return "just now".into(),
        60..3600 => (s / 60, "minute"),
        3600..86400 => (s / 3600, "hour"),
        86400..2_592_000 => (s / 86400, "day"),
        2_592_000..31_536_000 => (s / 2_592_000, "month"),
        _ => (s / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// A `datetime-local` value → seconds since the epoch (local time, as
/// typed); `None` when empty or not a time.
pub fn local_seconds(value: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value)).get_time();
    (!ms.is_nan()).then(|| (ms / 1000.0) as i64)
}

/// Seconds since the epoch → a `datetime-local` value, local time, to the
/// second (what [`local_seconds`] reads back).
pub fn local_input(unix: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix as f64 * 1000.0));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        assert_eq!(named("stop", "web"), "Stop web");
        assert_eq!(named("", "web"), " web");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
    }
}
