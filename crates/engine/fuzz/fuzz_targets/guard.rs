//! The guard on arbitrary container create and exec bodies: whatever it
//! admits holds nothing dangerous, judged by an oracle of its own. The
//! oracle knows Go's key folding and the engine's models (bollard's types,
//! generated from the Engine API specification), not the guard's
//! allowlists: it renames every key to the model field it folds to,
//! decodes the body with serde into the typed models, as the engine would
//! read it (dockerd 20.10 reads HostConfig's fields at the top level too),
//! and looks at the dangerous fields.

#![no_main]

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use berth_engine::gojson::{fold, struct_fields};
use berth_engine::guard::{Body, Guard};
use berth_engine::models as m;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Every model field name, by its folded spelling.
fn names() -> &'static HashMap<String, &'static str> {
    static NAMES: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        [
            struct_fields::<m::ContainerCreateBody>(),
            struct_fields::<m::HostConfig>(),
            struct_fields::<m::HostConfigLogConfig>(),
            struct_fields::<m::Mount>(),
            struct_fields::<m::MountBindOptions>(),
            struct_fields::<m::MountVolumeOptions>(),
            struct_fields::<m::MountVolumeOptionsDriverConfig>(),
            struct_fields::<m::MountTmpfsOptions>(),
            struct_fields::<m::NetworkingConfig>(),
            struct_fields::<m::EndpointSettings>(),
            struct_fields::<m::DeviceMapping>(),
            struct_fields::<m::RestartPolicy>(),
            struct_fields::<m::ExecConfig>(),
        ]
        .into_iter()
        .flatten()
        .map(|n| (fold(n), *n))
        .collect()
    })
}

/// Keys renamed to the model fields they fold to (map keys too: a name
/// that folds to a field's only makes the oracle stricter).
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let k = names().get(&fold(&k)).map_or(k, |n| (*n).to_owned());
                    (k, canonical(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn allowed_bind(source: &str) -> bool {
    let p = Path::new(source);
    p.starts_with("/srv/data") && !p.components().any(|c| c == Component::ParentDir)
}

fn host_danger(h: &m::HostConfig) -> Option<String> {
    let some = |v: &Option<Vec<_>>| v.as_ref().is_some_and(|v: &Vec<_>| !v.is_empty());
    let host = |v: &Option<String>| v.as_deref() == Some("host");
    let checks = [
        (h.privileged == Some(true), "Privileged"),
        (some(&h.cap_add), "CapAdd"),
        (h.devices.as_ref().is_some_and(|d| !d.is_empty()), "Devices"),
        (some(&h.device_cgroup_rules), "DeviceCgroupRules"),
        (h.device_requests.as_ref().is_some_and(|d| !d.is_empty()), "DeviceRequests"),
        (h.cgroup_parent.as_ref().is_some_and(|c| !c.is_empty()), "CgroupParent"),
        (h.runtime.as_ref().is_some_and(|r| !r.is_empty()), "Runtime"),
        (h.annotations.as_ref().is_some_and(|a| !a.is_empty()), "Annotations"),
        (host(&h.network_mode) || host(&h.pid_mode) || host(&h.ipc_mode), "a host namespace"),
        (host(&h.uts_mode) || host(&h.userns_mode), "a host namespace"),
        (h.masked_paths.is_some() || h.readonly_paths.is_some(), "masked paths"),
        (
            h.security_opt.iter().flatten().any(|o| !o.starts_with("no-new-privileges")),
            "SecurityOpt",
        ),
        (
            h.binds.iter().flatten().any(|b| {
                let src = b.split(':').next().unwrap_or_default();
                b.contains(':') && src.starts_with('/') && !allowed_bind(src)
            }),
            "Binds",
        ),
        (
            h.mounts.iter().flatten().any(|mount| {
                mount.typ == Some(m::MountType::BIND)
                    && !allowed_bind(mount.source.as_deref().unwrap_or_default())
            }),
            "a bind mount",
        ),
    ];
    checks.iter().find(|(bad, _)| *bad).map(|(_, what)| (*what).to_owned())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let kind = if pick % 2 == 0 { Body::ContainerCreate } else { Body::Exec };
    let guard = Guard {
        allow_binds: vec![PathBuf::from("/srv/data")],
    };
    if guard.check_body(kind, body).is_err() {
        return;
    }
    // Admitted: it is one JSON value, as serde reads it.
    let v = canonical(serde_json::from_slice::<Value>(body).expect("admitted bodies are JSON"));
    match kind {
        Body::ContainerCreate => {
            // A body the models can't read has a field of the wrong type,
            // which the engine refuses whole.
            if let Ok(c) = serde_json::from_value::<m::ContainerCreateBody>(v.clone()) {
                if let Some(d) = c.host_config.as_ref().and_then(host_danger) {
                    panic!("the guard admitted {d} in HostConfig");
                }
            }
            if let Ok(legacy) = serde_json::from_value::<m::HostConfig>(v) {
                if let Some(d) = host_danger(&legacy) {
                    panic!("the guard admitted {d} at the top level");
                }
            }
        }
        _ => {
            if let Ok(e) = serde_json::from_value::<m::ExecConfig>(v) {
                assert_ne!(e.privileged, Some(true), "the guard admitted a privileged exec");
            }
        }
    }
});
