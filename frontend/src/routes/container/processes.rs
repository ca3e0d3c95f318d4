//! A container's processes: `top`, refreshed every two seconds while the
//! tab is open (the engine has no stream of it).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Engine};
use crate::ui::current::Current;

#[component]
pub fn Processes() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let current = expect_context::<Current>();
    let top = RwSignal::new(None);
    let load = move || {
        spawn_local(async move {
            let got = async {
                api::call(
                    engine
                        .api()
                        .await?
                        .container_top(&current.id.get_untracked()),
                )
                .await
            }
            .await;
            top.set(Some(got));
        });
    };
    load();
    let timer = set_interval_with_handle(load, std::time::Duration::from_secs(2)).ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });
    move || {
        match top.get() {
        None => view! { <p class="loading">"Listing processes…"</p> }.into_any(),
        Some(Err(err)) => view! { <p class="warn" data-problem="top">{err.to_string()}</p> }.into_any(),
        Some(Ok(t)) => view! {
            <table class="list top" data-top="">
                <thead><tr>{t.titles.unwrap_or_default().into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}</tr></thead>
                <tbody>{t.processes.unwrap_or_default().into_iter().map(|p| view! {
                    <tr>{p.into_iter().map(|v| view! { <td>{v}</td> }).collect_view()}</tr>
                }).collect_view()}</tbody>
            </table>
        }.into_any(),
    }
    }
}
