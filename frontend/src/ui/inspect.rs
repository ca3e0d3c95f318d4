//! An inspect answer as the engine sent it: in collapsible sections,
//! searchable, copyable (a container's Inspect tab, and the inspect the
//! flight recorder kept at a container's death).

use leptos::prelude::*;
use serde_json::Value;

#[component]
pub fn InspectView(json: Signal<Value>) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let copy = move |_| {
        let text = serde_json::to_string_pretty(&json.get_untracked()).unwrap_or_default();
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&text);
        }
    };
    let body = move || {
        let needle = search.get().to_lowercase();
        let value = json.get();
        if needle.is_empty() {
            let sections = value
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            let text = serde_json::to_string_pretty(v).unwrap_or_default();
                            let open = !matches!(v, Value::Object(_) | Value::Array(_));
                            view! { <details open=open><summary><code>{k.clone()}</code></summary><pre>{text}</pre></details> }
                        })
                        .collect_view()
                })
                .into_iter()
                .collect_view();
            view! { <div class="inspect">{sections}</div> }.into_any()
        } else {
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            let hits: Vec<String> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| l.to_lowercase().contains(&needle))
                .map(|(n, l)| format!("{:>5}  {}", n + 1, l.trim_end()))
                .collect();
            let count = hits.len();
            view! {
                <p class="count">{format!("{count} matching lines")}</p>
                <pre class="inspect-hits">{hits.join("\n")}</pre>
            }
            .into_any()
        }
    };
    view! {
        <div class="toolbar">
            <input type="search" placeholder="Search keys and values" aria-label="Search the inspect JSON"
                on:input=move |ev| search.set(event_target_value(&ev))/>
            <button on:click=copy>"Copy JSON"</button>
        </div>
        {body}
    }
}
