//! `/search`: one search across every log the flight recorder kept, gone
//! containers' included: a regular expression, a time window, a container
//! or a compose project. The search lives in the page's address (the
//! palette opens it with a query; back and reload keep it). Each match
//! shows its container and time, and opens in its record at that moment,
//! with the lines around it.

use berth_engine::relay::{self, SearchHit, SearchQuery};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, encode, ApiError, Engine};
use crate::live::StreamSlot;
use crate::state::ansi;
use crate::state::history::{SearchForm, WINDOWS};
use crate::ui::history::{moment, now, record_href, recorder_off, RecorderOff};
use crate::ui::{local_input, local_seconds, refusal, Problem};

/// The relay's default: at most this many matches come back.
const LIMIT: usize = 1000;

/// Where the search is.
#[derive(Clone, PartialEq)]
enum Phase {
    /// Nothing asked yet.
    Idle,
    Searching,
    Found(Vec<SearchHit>),
    Failed(ApiError),
}

#[component]
pub fn Search() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let navigate = StoredValue::new_local(use_navigate());
    let query = use_query_map();
    // The search the address asks for, and the form as typed (set again
    // when the address changes: the palette, back and forward).
    let asked = Memo::new(move |_| SearchForm::from_query(|k| query.read().get(k)));
    let form = RwSignal::new(asked.get_untracked());
    Effect::new(move |_| form.set(asked.get()));
    let refused = refusal(engine, |_| relay::search(&SearchQuery::default()));
    // Asking the same again searches again (new lines may have come).
    let again = RwSignal::new(0u32);
    let phase = RwSignal::new(Phase::Idle);

    let slot = StreamSlot::new();
    Effect::new(move |_| {
        again.track();
        let Some(q) = asked.get().query(now()) else {
            phase.set(Phase::Idle);
            return;
        };
        if refused.get().is_some() {
            phase.set(Phase::Idle);
            return;
        }
        let Some(signal) = slot.renew() else { return };
        phase.set(Phase::Searching);
        spawn_local(async move {
            let mut found = Vec::new();
            let got = async {
                engine.api().await?;
                api::stream(relay::search(&q), &signal, || (), |h| found.push(h)).await
            }
            .await;
            if signal.aborted() {
                return;
            }
            phase.set(match got {
                Ok(()) => Phase::Found(found),
                Err(e) => Phase::Failed(e),
            });
        });
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let f = form.get_untracked();
        if f == asked.get_untracked() {
            again.update(|n| *n += 1);
        } else {
            let path = format!("/search{}", f.to_query(encode));
            navigate.with_value(|n| n(&path, Default::default()));
        }
    };
    let custom = move || form.with(|f| f.window == "custom");
    let text_input = move |label: &'static str,
                           placeholder: &'static str,
                           get: fn(&SearchForm) -> String,
                           set: fn(&mut SearchForm, String)| {
        view! {
            <label class="field">{label}
                <input type="text" placeholder=placeholder prop:value=move || form.with(get)
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| set(f, v)) }/>
            </label>
        }
    };
    let time_input = move |label: &'static str,
                           get: fn(&SearchForm) -> Option<i64>,
                           set: fn(&mut SearchForm, Option<i64>)| {
        view! {
            <label class="field">{label}
                <input type="datetime-local" step="1" prop:value=move || form.with(get).map(local_input).unwrap_or_default()
                    on:change=move |ev| { let v = local_seconds(&event_target_value(&ev)); form.update(|f| set(f, v)) }/>
            </label>
        }
    };

    view! {
        <h1>"Search all logs"</h1>
        <p class="muted">
            "Every container's log the flight recorder kept, those of removed containers included. \
             A regular expression (Rust's syntax: "<code>"error|timeout"</code>", "<code>"(?i)refused"</code>
            " for any case)."
        </p>
        <form class="search-form" role="search" aria-label="Search all logs" on:submit=submit>
            <div class="toolbar">
                <input type="search" required placeholder="A regular expression, e.g. error|timeout"
                    aria-label="Search all logs for" data-search-input=""
                    prop:value=move || form.with(|f| f.q.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|f| f.q = v) }/>
                <button type="submit" class="primary" data-search-submit=""
                    disabled=move || refused.get().is_some() title=refused aria-description=refused>"Search all logs"</button>
            </div>
            <div class="search-options">
                <label class="field">"Time"
                    <select prop:value=move || form.with(|f| f.window.clone())
                        on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.window = v) }>
                        {WINDOWS.iter().map(|(value, label, _)| view! { <option value=*value>{*label}</option> }).collect_view()}
                    </select>
                </label>
                <Show when=custom>
                    {time_input("From", |f| f.since, |f, v| f.since = v)}
                    {time_input("To", |f| f.until, |f, v| f.until = v)}
                </Show>
                {text_input("Container", "name or start of its id", |f| f.container.clone(), |f, v| f.container = v)}
                {text_input("Compose project", "any", |f| f.project.clone(), |f, v| f.project = v)}
            </div>
        </form>
        {move || refused.get().map(|why| view! {
            <p class="warn" data-search-refused="">{format!("The relay's policy does not allow searching the logs: {why}")}</p>
        })}
        {move || match phase.get() {
            Phase::Idle => view! {
                <p class="empty">"Type what to look for, then Enter. Matches come with their container and time; each opens in its log, with the lines around it."</p>
            }.into_any(),
            Phase::Searching => view! { <p class="loading" data-search-busy="">"Searching all logs…"</p> }.into_any(),
            Phase::Failed(err) if recorder_off(&err) => view! { <RecorderOff/> }.into_any(),
            Phase::Failed(ApiError::Engine(e)) if e.status == 400 => view! {
                <p class="warn" data-search-error="" role="alert">{format!("Not a search the recorder takes: {}", e.message)}</p>
            }.into_any(),
            Phase::Failed(err) => view! { <Problem err retry=move || again.update(|n| *n += 1)/> }.into_any(),
            Phase::Found(hits) => view! { <Hits hits q=asked.get_untracked().q/> }.into_any(),
        }}
    }
}

#[component]
fn Hits(hits: Vec<SearchHit>, q: String) -> impl IntoView {
    let n = hits.len();
    let count = match n {
        0 => format!("No line matches “{q}” in this window."),
        1 => "1 match, oldest first.".to_owned(),
        LIMIT.. => format!("The first {n} matches, oldest first: narrow the search (a time window, a container) to see the rest."),
        _ => format!("{n} matches, oldest first."),
    };
    let rows = hits
        .into_iter()
        .map(|h| {
            let at = moment(h.time);
            let label = format!("Open the log of {} at {at}", h.container);
            let stderr = h.stream == relay::LogStream::Stderr;
            view! {
                <tr data-hit=h.container.clone() class:err=stderr>
                    <td data-label="Time" class="nowrap">{at}</td>
                    <td data-label="Container" class="name">{h.container.clone()}</td>
                    <td data-label="Line"><code class="line">{ansi::strip(&h.line)}</code></td>
                    <td data-label="Log"><a href=record_href(&h.id, Some(h.time)) aria-label=label>"Open in its log"</a></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="count" data-search-count="" aria-live="polite">{count}</p>
        <table class="list hits" data-hits="" hidden=n == 0>
            <thead><tr><th>"Time"</th><th>"Container"</th><th>"Line"</th><th>"Log"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
