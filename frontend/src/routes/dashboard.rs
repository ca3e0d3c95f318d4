//! The engine at a glance: version, host, resources, container and image
//! counts.

use leptos::prelude::*;
use serde_json::Value;

use crate::api::{call, ApiError, Engine};
use crate::state::json::{json_number, json_text};
use crate::ui::{bytes, Problem};

async fn load(engine: Engine) -> Result<(Value, Value), ApiError> {
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
                    Ok((info, version)) => facts(&info, &version).into_any(),
                    Err(err) => view! { <Problem err retry=move || data.refetch()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn facts(info: &Value, version: &Value) -> impl IntoView {
    let text = |v: &Value, pointer: &str| {
        Some(json_text(v, pointer))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "—".into())
    };
    let n = |pointer: &str| json_number(info, pointer).to_string();
    let card = |label: &'static str, value: String| {
        view! { <div class="card" data-fact=label><div class="label">{label}</div><div class="value">{value}</div></div> }
    };
    let memory = info
        .pointer("/MemTotal")
        .and_then(Value::as_i64)
        .map_or_else(|| "—".into(), bytes);
    view! {
        <section class="cards">
            {card("Engine", format!("Docker {}", text(version, "/Version")))}
            {card("API", format!("{} (min {})", text(version, "/ApiVersion"), text(version, "/MinAPIVersion")))}
            {card("OS", text(info, "/OperatingSystem"))}
            {card("Kernel", text(info, "/KernelVersion"))}
            {card("Architecture", text(info, "/Architecture"))}
            {card("CPUs", n("/NCPU"))}
            {card("Memory", memory)}
            {card("Images", n("/Images"))}
        </section>
        <h2>"Containers"</h2>
        <section class="cards">
            {card("Total", n("/Containers"))}
            {card("Running", n("/ContainersRunning"))}
            {card("Paused", n("/ContainersPaused"))}
            {card("Stopped", n("/ContainersStopped"))}
        </section>
    }
}
