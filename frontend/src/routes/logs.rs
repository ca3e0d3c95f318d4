//! `/logs?ids=a,b,c`: several containers' logs interleaved by time, each
//! with its own colour and name.

use berth_engine::ContainerBrief;
use leptos::prelude::*;

use crate::api::{self, ApiError, Engine};
use crate::state::containers::container_name;
use crate::ui::logs::{LogWorkbench, Source};

#[component]
pub fn MergedLogs() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let query = leptos_router::hooks::use_query_map();
    let ids = Memo::new(move |_| {
        query
            .read()
            .get("ids")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    let sources = LocalResource::new(move || {
        let ids = ids.get();
        async move {
            let api = engine.api().await?;
            let all = api::call(api.containers::<ContainerBrief>(true)).await?;
            let sources = ids.iter().map(|id| {
                // Ids or names, as the link gave them.
                let found = all.iter().find(|c| {
                    c.id.as_deref().is_some_and(|i| i.starts_with(id.as_str()))
                        || c.names
                            .as_ref()
                            .is_some_and(|n| n.iter().any(|n| n.trim_start_matches('/') == id))
                });
                match found {
                    Some(c) => Source::container(
                        c.id.clone().unwrap_or_default(),
                        container_name(c.names.as_deref()),
                    ),
                    None => Source::container(id.clone(), id.clone()),
                }
            });
            Ok::<_, ApiError>(sources.collect::<Vec<_>>())
        }
    });
    view! {
        <h1>"Merged logs"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sources.await {
                    Ok(s) if s.is_empty() => view! { <p class="empty">"No containers chosen: select some in the containers list."</p> }.into_any(),
                    Ok(s) => view! {
                        <p class="muted">{s.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ")}</p>
                        <LogWorkbench sources=s/>
                    }.into_any(),
                    Err(err) => view! { <p class="warn">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
