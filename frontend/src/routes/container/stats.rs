//! Live resource use of one container from the engine's stats stream (one
//! stream while the tab is open), figured as `docker stats` figures it.

use std::collections::VecDeque;

use berth_engine::models::ContainerStatsResponse;
use berth_engine::stats::{rate, Usage};
use leptos::prelude::*;
use leptos::task::spawn_local;
use send_wrapper::SendWrapper;

use crate::api::{self, Engine};
use crate::ui::bytes;
use crate::ui::current::Current;

/// Samples kept for the charts: two minutes at the engine's one a second.
const KEEP: usize = 120;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Point {
    usage: Usage,
    rx: f64,
    tx: f64,
    read: f64,
    write: f64,
}

fn millis(ts: Option<&str>) -> f64 {
    ts.map_or(f64::NAN, js_sys::Date::parse)
}

#[component]
pub fn Stats() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let current = expect_context::<Current>();
    let points = RwSignal::new(VecDeque::<Point>::new());
    let problem = RwSignal::new(None::<String>);
    let received = RwSignal::new(0usize);

    let Ok(controller) = web_sys::AbortController::new() else {
        return ().into_any();
    };
    let signal = controller.signal();
    on_cleanup({
        let controller = SendWrapper::new(controller);
        move || controller.abort()
    });
    spawn_local(async move {
        let Ok(api) = engine.api().await else { return };
        let mut last: Option<(f64, Usage)> = None;
        let each = move |s: ContainerStatsResponse| {
            let usage = Usage::of(&s);
            let at = millis(s.read.as_deref());
            let mut p = Point {
                usage,
                ..Default::default()
            };
            if let Some((then, before)) = last {
                let secs = (at - then) / 1000.0;
                if secs.is_finite() {
                    p.rx = rate(before.net_rx, usage.net_rx, secs);
                    p.tx = rate(before.net_tx, usage.net_tx, secs);
                    p.read = rate(before.block_read, usage.block_read, secs);
                    p.write = rate(before.block_write, usage.block_write, secs);
                }
            }
            last = Some((at, usage));
            received.update(|n| *n += 1);
            points.update(|pts| {
                if pts.len() == KEEP {
                    pts.pop_front();
                }
                pts.push_back(p);
            });
        };
        let stream = api.container_stats(&current.id.get_untracked(), true);
        if let Err(e) = api::stream(stream, &signal, || (), each).await {
            if !signal.aborted() {
                problem.set(Some(e.to_string()));
            }
        }
    });

    let latest = move || points.with(|p| p.back().copied().unwrap_or_default());
    let series = move |f: fn(&Point) -> f64| points.with(|p| p.iter().map(f).collect::<Vec<_>>());
    view! {
        {move || problem.get().map(|p| view! { <p class="warn" data-problem="stats">{p}</p> })}
        {move || (received.get() == 0 && problem.get().is_none()).then(|| view! { <p class="loading">"Waiting for the first sample…"</p> })}
        <section class="stats" data-samples=move || received.get().to_string()>
            <div class="charts">
                <Chart title="CPU %" lines=Signal::derive(move || vec![series(|p| p.usage.cpu_percent)]) floor=100.0
                    label=Signal::derive(move || format!("{:.1} %", latest().usage.cpu_percent))/>
                <Chart title="Memory" lines=Signal::derive(move || vec![series(|p| p.usage.mem_used as f64)])
                    floor=1048576.0
                    label=Signal::derive(move || { let u = latest().usage; format!("{} of {}", bytes(u.mem_used as i64), bytes(u.mem_limit as i64)) })/>
                <Chart title="Network rx / tx per s" lines=Signal::derive(move || vec![series(|p| p.rx), series(|p| p.tx)]) floor=1024.0
                    label=Signal::derive(move || { let p = latest(); format!("{}/s in, {}/s out", bytes(p.rx as i64), bytes(p.tx as i64)) })/>
                <Chart title="Block I/O read / write per s" lines=Signal::derive(move || vec![series(|p| p.read), series(|p| p.write)]) floor=1024.0
                    label=Signal::derive(move || { let p = latest(); format!("{}/s read, {}/s written", bytes(p.read as i64), bytes(p.write as i64)) })/>
            </div>
            <table class="numbers">
                <tbody>
                    <tr><th>"CPU"</th><td data-cpu="">{move || format!("{:.2} %", latest().usage.cpu_percent)}</td></tr>
                    <tr><th>"Memory"</th><td data-mem="">{move || { let u = latest().usage; format!("{} / {} ({:.1} %)", bytes(u.mem_used as i64), bytes(u.mem_limit as i64), u.mem_percent) }}</td></tr>
                    <tr><th>"Net I/O"</th><td>{move || { let u = latest().usage; format!("{} / {}", bytes(u.net_rx as i64), bytes(u.net_tx as i64)) }}</td></tr>
                    <tr><th>"Block I/O"</th><td>{move || { let u = latest().usage; format!("{} / {}", bytes(u.block_read as i64), bytes(u.block_write as i64)) }}</td></tr>
                    <tr><th>"PIDs"</th><td>{move || latest().usage.pids.to_string()}</td></tr>
                    <tr><th>"Samples"</th><td>{move || received.get().to_string()}</td></tr>
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// A small line chart of the last samples; the scale grows with the data
/// and never shrinks below `floor`.
#[component]
fn Chart(
    title: &'static str,
    lines: Signal<Vec<Vec<f64>>>,
    #[prop(into)] floor: Signal<f64>,
    label: Signal<String>,
) -> impl IntoView {
    let paths = move || {
        let lines = lines.get();
        let max = lines.iter().flatten().copied().fold(floor.get(), f64::max);
        lines
            .into_iter()
            .enumerate()
            .map(|(i, values)| {
                let start = KEEP.saturating_sub(values.len());
                let points = values
                    .iter()
                    .enumerate()
                    .map(|(k, v)| format!("{},{:.2}", start + k, 100.0 - v / max * 100.0))
                    .collect::<Vec<_>>()
                    .join(" ");
                view! { <polyline class=format!("series s{i}") points=points/> }
            })
            .collect_view()
    };
    view! {
        <figure class="chart" data-chart=title>
            <figcaption><span>{title}</span><span class="value">{label}</span></figcaption>
            <svg viewBox=format!("0 0 {} 100", KEEP - 1) preserveAspectRatio="none" role="img" aria-label=title>
                {paths}
            </svg>
        </figure>
    }
}
