//! The engine at a glance: version, host, resources, container and image
//! counts.

use berth_engine::models::{SystemInfo, SystemVersion};
use leptos::prelude::*;

use crate::api::{call, ApiError};
use crate::app::Engine;
use crate::ui::{bytes, Problem};

async fn load(engine: Engine) -> Result<(SystemInfo, SystemVersion), ApiError> {
    let api = engine.api().await?;
    Ok((call(api.info()).await?, call(api.version()).await?))
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let data = LocalResource::new(move || load(engine));
    view! {
        <h1>"Dashboard"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading engine facts…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((info, version)) => facts(info, version).into_any(),
                    Err(err) => view! { <Problem err retry=move || data.refetch()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn facts(info: SystemInfo, version: SystemVersion) -> impl IntoView {
    let n = |v: Option<i64>| v.unwrap_or(0).to_string();
    let s = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    let card = |label: &'static str, value: String| {
        view! { <div class="card" data-fact=label><div class="label">{label}</div><div class="value">{value}</div></div> }
    };
    view! {
        <section class="cards">
            {card("Engine", format!("Docker {}", s(version.version)))}
            {card("API", format!("{} (min {})", s(version.api_version), s(version.min_api_version)))}
            {card("OS", s(info.operating_system))}
            {card("Kernel", s(info.kernel_version))}
            {card("Architecture", s(info.architecture))}
            {card("CPUs", n(info.ncpu))}
            {card("Memory", info.mem_total.map(bytes).unwrap_or_else(|| "—".into()))}
            {card("Images", n(info.images))}
        </section>
        <h2>"Containers"</h2>
        <section class="cards">
            {card("Total", n(info.containers))}
            {card("Running", n(info.containers_running))}
            {card("Paused", n(info.containers_paused))}
            {card("Stopped", n(info.containers_stopped))}
        </section>
    }
}
