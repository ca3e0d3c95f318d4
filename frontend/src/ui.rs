//! Pieces every page uses: notices, problem panels, formatting.

use leptos::prelude::*;

use berth_engine::models::ContainerSummary;

use crate::api::ApiError;

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

/// A container's name as people know it (the engine's first name, without
/// its leading `/`).
pub fn container_name(c: &ContainerSummary) -> String {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_default()
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

/// The strings of a JSON array (anything else in it is skipped; no array,
/// no strings).
pub fn json_strings(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `labels` pass a label filter as the engine's prunes take it:
/// `key` or `key=value` (empty passes everything).
pub fn label_matches(
    labels: Option<&serde_json::Map<String, serde_json::Value>>,
    filter: &str,
) -> bool {
    let filter = filter.trim();
    if filter.is_empty() {
        return true;
    }
    let (k, v) = match filter.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (filter, None),
    };
    labels
        .and_then(|l| l.get(k))
        .is_some_and(|got| v.is_none_or(|v| got.as_str() == Some(v)))
}

/// A destructive step, asked about first: Cancel has the focus, Escape and
/// a click beside the dialog cancel.
#[component]
pub fn Confirm(
    title: String,
    body: String,
    /// The confirming button's words.
    #[prop(default = "Yes, remove")]
    yes: &'static str,
    /// Its `data-action`, for tests and scripts.
    #[prop(default = "confirm")]
    action: &'static str,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
    on_confirm: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="backdrop" on:click=move |_| on_cancel()>
            <div class="dialog" role="dialog" aria-modal="true" on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { on_cancel() }>
                <h2>{title}</h2>
                <p>{body}</p>
                <div class="buttons">
                    <button autofocus on:click=move |_| on_cancel()>"Cancel"</button>
                    <button class="danger" data-action=action on:click=move |_| on_confirm()>{yes}</button>
                </div>
            </div>
        </div>
    }
}

/// The value at a JSON pointer as text (strings as they are, numbers and
/// booleans written out); empty when absent.
pub fn json_text(v: &serde_json::Value, pointer: &str) -> String {
    use serde_json::Value;
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// A call made with the negotiated API.
pub type Call = Box<dyn FnOnce(berth_engine::Api) -> berth_engine::Endpoint<()>>;

/// Makes a call that answers nothing; a failure is told as "Could not
/// {what}: …"; `then` runs either way (a reload, usually).
pub fn act_then(
    engine: crate::app::Engine,
    notices: Notices,
    what: String,
    call: Call,
    then: impl FnOnce() + 'static,
) {
    leptos::task::spawn_local(async move {
        if let Err(e) = async { crate::api::act(call(engine.api().await?)).await }.await {
            notices.error(format!("Could not {what}: {e}"));
        }
        then();
    });
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
