//! A container's overview: state, health, exit code, image, command,
//! times, restart policy, limits, ports (links when published), mounts,
//! networks with addresses, labels, and the environment (values masked
//! until revealed).

use leptos::prelude::*;
use serde_json::Value;

use crate::state::json::{json_number, json_strings, json_text};
use crate::ui::bytes;
use crate::ui::current::Current;

/// A label and a value, skipped when the value is empty.
fn fact(label: &'static str, value: String) -> Option<impl IntoView> {
    (!value.is_empty()).then(|| view! { <dt>{label}</dt><dd>{value}</dd> })
}

/// `0.0.0.0:8080 → 80/tcp`, with a link when it is published over TCP.
fn ports(c: &Value) -> Vec<(String, Option<String>)> {
    let page_host = web_sys::window()
        .and_then(|w| w.location().hostname().ok())
        .unwrap_or_else(|| "localhost".into());
    let mut out = vec![];
    if let Some(map) = c
        .pointer("/NetworkSettings/Ports")
        .and_then(Value::as_object)
    {
        for (port, binds) in map {
            let binds = binds.as_array().cloned().unwrap_or_default();
            if binds.is_empty() {
                out.push((format!("{port} (not published)"), None));
            }
            for b in binds {
                let ip = json_text(&b, "/HostIp");
                let hp = json_text(&b, "/HostPort");
                let reach = if ip.is_empty() || ip == "0.0.0.0" || ip == "::" {
                    page_host.clone()
                } else if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.clone()
                };
                let link = port
                    .ends_with("/tcp")
                    .then(|| format!("http://{reach}:{hp}/"));
                out.push((format!("{ip}:{hp} → {port}"), link));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[component]
pub fn Overview() -> impl IntoView {
    let current = expect_context::<Current>();
    let reveal = RwSignal::new(false);
    move || {
        let Some(Ok(c)) = current.inspect.get() else {
            return ().into_any();
        };
        let running = c.pointer("/State/Running") == Some(&Value::Bool(true));
        let cmd = [
            json_strings(&c, "/Config/Entrypoint"),
            json_strings(&c, "/Config/Cmd"),
        ]
        .concat()
        .join(" ");
        let mut restart = json_text(&c, "/HostConfig/RestartPolicy/Name");
        let retries = json_number(&c, "/HostConfig/RestartPolicy/MaximumRetryCount");
        if retries > 0 {
            restart += &format!(" (at most {retries} times)");
        }
        let ports = ports(&c);
        let mounts: Vec<String> = c
            .pointer("/Mounts")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|m| {
                        let mut src = json_text(m, "/Name");
                        if src.is_empty() {
                            src = json_text(m, "/Source");
                        }
                        let mode = if m.pointer("/RW") == Some(&Value::Bool(false)) {
                            " (read-only)"
                        } else {
                            ""
                        };
                        format!(
                            "{} {src} → {}{mode}",
                            json_text(m, "/Type"),
                            json_text(m, "/Destination")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let networks: Vec<String> = c
            .pointer("/NetworkSettings/Networks")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(name, n)| {
                        let mut addr = json_text(n, "/IPAddress");
                        if addr.is_empty() {
                            addr = "no address".into();
                        }
                        let aliases = json_strings(n, "/Aliases").join(", ");
                        if aliases.is_empty() {
                            format!("{name}: {addr}")
                        } else {
                            format!("{name}: {addr} (aliases {aliases})")
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut labels: Vec<(String, String)> = c
            .pointer("/Config/Labels")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        let env: Vec<(String, String)> = json_strings(&c, "/Config/Env")
            .into_iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (e, String::new()),
            })
            .collect();
        let limits = [
            Some(json_number(&c, "/HostConfig/Memory"))
                .filter(|m| *m > 0)
                .map(|m| format!("memory {}", bytes(m))),
            Some(json_number(&c, "/HostConfig/NanoCpus"))
                .filter(|n| *n > 0)
                .map(|n| format!("{} CPUs", n as f64 / 1e9)),
            Some(json_number(&c, "/HostConfig/CpuShares"))
                .filter(|n| *n > 0)
                .map(|n| format!("CPU shares {n}")),
            Some(json_number(&c, "/HostConfig/PidsLimit"))
                .filter(|n| *n > 0)
                .map(|n| format!("{n} processes")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let started = json_text(&c, "/State/StartedAt");
        view! {
            <section class="overview">
                <dl class="facts">
                    {fact("State", json_text(&c, "/State/Status"))}
                    {fact("Exit code", if running { String::new() } else { json_text(&c, "/State/ExitCode") })}
                    {fact("Health", json_text(&c, "/State/Health/Status"))}
                    {fact("Error", json_text(&c, "/State/Error"))}
                    {fact("Image", json_text(&c, "/Config/Image"))}
                    {fact("Command", cmd)}
                    {fact("Created", json_text(&c, "/Created"))}
                    {fact("Started", if started.starts_with("0001") { String::new() } else { started })}
                    {fact("Restart policy", restart)}
                    {fact("Limits", if limits.is_empty() { "none".into() } else { limits })}
                    {fact("ID", json_text(&c, "/Id"))}
                </dl>
                <h2>"Ports"</h2>
                {if ports.is_empty() { view! { <p class="muted">"No ports."</p> }.into_any() } else { view! {
                    <ul class="plain" data-ports="">{ports.into_iter().map(|(text, link)| match link {
                        Some(href) => view! { <li><a href=href target="_blank" rel="noopener">{text}</a></li> }.into_any(),
                        None => view! { <li>{text}</li> }.into_any(),
                    }).collect_view()}</ul>
                }.into_any() }}
                <h2>"Mounts"</h2>
                {if mounts.is_empty() { view! { <p class="muted">"No mounts."</p> }.into_any() } else { view! {
                    <ul class="plain">{mounts.into_iter().map(|m| view! { <li><code>{m}</code></li> }).collect_view()}</ul>
                }.into_any() }}
                <h2>"Networks"</h2>
                {if networks.is_empty() { view! { <p class="muted">"No networks."</p> }.into_any() } else { view! {
                    <ul class="plain" data-networks="">{networks.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                }.into_any() }}
                <h2>"Environment " <button class="link" on:click=move |_| reveal.update(|r| *r = !*r) data-reveal="">
                    {move || if reveal.get() { "hide values" } else { "reveal values" }}</button></h2>
                <dl class="kv" data-env="">{env.into_iter().map(|(k, v)| view! {
                    <dt>{k}</dt><dd><code>{move || if reveal.get() { v.clone() } else { "••••••".into() }}</code></dd>
                }).collect_view()}</dl>
                <h2>"Labels"</h2>
                {if labels.is_empty() { view! { <p class="muted">"No labels."</p> }.into_any() } else { view! {
                    <dl class="kv">{labels.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd><code>{v}</code></dd> }).collect_view()}</dl>
                }.into_any() }}
            </section>
        }
        .into_any()
    }
}
