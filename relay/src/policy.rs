//! The built-in socket proxy: every Engine call is matched on its
//! canonical path against the policy, the path checked is the path
//! forwarded, container creation is guarded, and changes are audited.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use berth_engine::{CanonicalPath, Policy};
use serde_json::Value;
use tracing::info;

use crate::error::refuse;

/// The most a guarded create body may hold.
pub const CREATE_BODY_LIMIT: usize = 1024 * 1024;

pub struct Guard {
    pub policy: Policy,
    /// Inspect container create bodies (on unless the policy is `full`).
    pub create_guard: bool,
    /// Host folders bind mounts may come from when the guard is on.
    pub allow_binds: Vec<PathBuf>,
}

pub async fn enforce(State(guard): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    if crate::is_relay_path(req.uri().path()) {
        return next.run(req).await;
    }
    let client = crate::access::client_ip(&req).map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let method = req.method().clone();
    let canonical = match CanonicalPath::parse(req.uri().path()) {
        Ok(c) => c,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("refusing the path {:?}: {e}", req.uri().path()),
            )
        }
    };
    let path = canonical.path();
    let mutating = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if let Err(why) = guard.policy.check(method.as_str(), &canonical) {
        info!(target: "berth::audit", %client, %method, %path, outcome = "denied by policy");
        return refuse(StatusCode::FORBIDDEN, why);
    }

    // Forward exactly what was checked.
    let forward = match req.uri().query() {
        Some(q) => format!("{}?{q}", canonical.forward()),
        None => canonical.forward(),
    };
    match forward.parse::<Uri>() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("refusing the path: {e}")),
    }

    // Only a guarded relay reads bodies, and only of these POSTs.
    let guarded = if guard.create_guard && method == Method::POST {
        Guarded::of(&canonical.segments)
    } else {
        None
    };
    if let Some(kind) = guarded {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, CREATE_BODY_LIMIT).await {
            Ok(b) => b,
            Err(_) => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "a {} body may hold at most {CREATE_BODY_LIMIT} bytes",
                        kind.what()
                    ),
                )
            }
        };
        let spec: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!("the {} body is not valid JSON: {e}", kind.what()),
                )
            }
        };
        let checked = match kind {
            Guarded::Container => check_create(&spec, &guard.allow_binds),
            Guarded::Service => check_service(&spec, &guard.allow_binds),
            Guarded::Exec => check_exec(&spec),
        };
        if let Err(field) = checked {
            info!(target: "berth::audit", %client, %method, %path, outcome = "denied by create guard", %field);
            return refuse(
                StatusCode::FORBIDDEN,
                format!("the create guard refuses {field}"),
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }

    let resp = next.run(req).await;
    if mutating {
        info!(target: "berth::audit", %client, %method, %path, status = resp.status().as_u16());
    }
    resp
}

/// The bodies the create guard reads.
#[derive(Clone, Copy)]
enum Guarded {
    Container,
    /// A Swarm service's spec: its tasks are containers too.
    Service,
    Exec,
}

impl Guarded {
    fn of(segments: &[String]) -> Option<Guarded> {
        match segments.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["containers", "create"] => Some(Guarded::Container),
            ["services", "create"] | ["services", _, "update"] => Some(Guarded::Service),
            ["containers", _, "exec"] => Some(Guarded::Exec),
            _ => None,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Guarded::Container => "container create",
            Guarded::Service => "service spec",
            Guarded::Exec => "exec create",
        }
    }
}

/// A bind source is allowed when it lies in an allowed folder. Compared as
/// written: a `..` could climb out of one, so a source holding one is never
/// allowed.
fn bind_allowed(source: &str, allow_binds: &[PathBuf]) -> bool {
    let path = Path::new(source);
    !path
        .components()
        .any(|c| c == std::path::Component::ParentDir)
        && allow_binds.iter().any(|root| path.starts_with(root))
}

/// What the guard refuses in a service spec (create or update): what it
/// refuses of a container, in the task template's terms.
pub fn check_service(spec: &Value, allow_binds: &[PathBuf]) -> Result<(), String> {
    let task = &spec["TaskTemplate"];
    let c = &task["ContainerSpec"];
    if c["CapabilityAdd"].as_array().is_some_and(|a| !a.is_empty()) {
        return Err(
            "TaskTemplate.ContainerSpec.CapabilityAdd (extra capabilities reach the host)".into(),
        );
    }
    let p = &c["Privileges"];
    if p["SELinuxContext"]["Disable"] == Value::Bool(true)
        || p["Seccomp"]["Mode"].as_str() == Some("unconfined")
        || p["AppArmor"]["Mode"].as_str() == Some("disabled")
    {
        return Err("TaskTemplate.ContainerSpec.Privileges (confinement turned off)".into());
    }
    for mount in c["Mounts"].as_array().into_iter().flatten() {
        if mount["Type"].as_str() == Some("bind") {
            let source = mount["Source"].as_str().unwrap_or_default();
            if !bind_allowed(source, allow_binds) {
                return Err(format!(
                    "TaskTemplate.ContainerSpec.Mounts bind of {source:?} (outside the allowed bind folders)"
                ));
            }
        }
    }
    for net in task["Networks"].as_array().into_iter().flatten() {
        if net["Target"].as_str() == Some("host") {
            return Err("TaskTemplate.Networks host (the host's network namespace)".into());
        }
    }
    Ok(())
}

/// A privileged exec gets every capability, whatever the container has.
pub fn check_exec(spec: &Value) -> Result<(), String> {
    if spec["Privileged"] == Value::Bool(true) {
        return Err("Privileged (a privileged exec has every capability)".into());
    }
    Ok(())
}

/// The first field of a create body the guard refuses, named as the API
/// names it, with the reason.
pub fn check_create(spec: &Value, allow_binds: &[PathBuf]) -> Result<(), String> {
    let host = &spec["HostConfig"];
    if host["Privileged"] == Value::Bool(true) {
        return Err("HostConfig.Privileged (privileged containers are root on the host)".into());
    }
    for field in ["CapAdd", "Devices"] {
        if host[field].as_array().is_some_and(|a| !a.is_empty()) {
            return Err(format!(
                "HostConfig.{field} (extra capabilities and devices reach the host)"
            ));
        }
    }
    for field in [
        "NetworkMode",
        "PidMode",
        "IpcMode",
        "UTSMode",
        "UsernsMode",
        "CgroupnsMode",
    ] {
        if host[field].as_str() == Some("host") {
            return Err(format!("HostConfig.{field}=host (the host's namespace)"));
        }
    }
    if let Some(opt) = host["SecurityOpt"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|o| o.contains("unconfined"))
    {
        return Err(format!("HostConfig.SecurityOpt {opt:?}"));
    }
    let allowed = |source: &str| bind_allowed(source, allow_binds);
    for bind in host["Binds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let source = bind.split(':').next().unwrap_or_default();
        // Named volumes are not host paths.
        if source.starts_with('/') && !allowed(source) {
            return Err(format!(
                "HostConfig.Binds {source:?} (outside the allowed bind folders)"
            ));
        }
    }
    for mount in host["Mounts"].as_array().into_iter().flatten() {
        if mount["Type"].as_str() == Some("bind") {
            let source = mount["Source"].as_str().unwrap_or_default();
            if !allowed(source) {
                return Err(format!(
                    "HostConfig.Mounts bind of {source:?} (outside the allowed bind folders)"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_create_guard_names_the_field() {
        let roots = [PathBuf::from("/srv/data")];
        let refuse = |host: Value| {
            check_create(&json!({ "Image": "x", "HostConfig": host }), &roots).unwrap_err()
        };
        assert!(refuse(json!({"Privileged": true})).starts_with("HostConfig.Privileged"));
        assert!(refuse(json!({"CapAdd": ["SYS_ADMIN"]})).starts_with("HostConfig.CapAdd"));
        assert!(refuse(json!({"Devices": [{"PathOnHost": "/dev/sda"}]}))
            .starts_with("HostConfig.Devices"));
        assert!(refuse(json!({"PidMode": "host"})).starts_with("HostConfig.PidMode=host"));
        assert!(refuse(json!({"NetworkMode": "host"})).starts_with("HostConfig.NetworkMode=host"));
        assert!(refuse(json!({"SecurityOpt": ["seccomp=unconfined"]}))
            .starts_with("HostConfig.SecurityOpt"));
        assert!(refuse(json!({"Binds": ["/:/host"]})).starts_with("HostConfig.Binds \"/\""));
        assert!(refuse(json!({"Binds": ["/srv/data/../../etc:/x"]})).contains("outside"));
        assert!(
            refuse(json!({"Mounts": [{"Type": "bind", "Source": "/etc", "Target": "/x"}]}))
                .starts_with("HostConfig.Mounts")
        );

        let fine = json!({ "Image": "x", "HostConfig": {
            "Privileged": false, "CapAdd": [], "NetworkMode": "bridge",
            "Binds": ["named-volume:/data", "/srv/data/app:/app:ro"],
            "Mounts": [{"Type": "volume", "Source": "v", "Target": "/v"}]
        }});
        assert_eq!(check_create(&fine, &roots), Ok(()));
        assert_eq!(check_create(&json!({"Image": "x"}), &[]), Ok(()));
    }

    #[test]
    fn the_guard_reads_service_specs_and_execs_too() {
        let roots = [PathBuf::from("/srv/data")];
        let refuse = |c: Value| {
            check_service(&json!({ "TaskTemplate": { "ContainerSpec": c } }), &roots).unwrap_err()
        };
        assert!(refuse(json!({"CapabilityAdd": ["SYS_ADMIN"]})).contains("CapabilityAdd"));
        assert!(
            refuse(json!({"Privileges": {"Seccomp": {"Mode": "unconfined"}}}))
                .contains("Privileges")
        );
        assert!(
            refuse(json!({"Mounts": [{"Type": "bind", "Source": "/", "Target": "/h"}]}))
                .contains("outside")
        );
        let host_net =
            json!({ "TaskTemplate": { "ContainerSpec": {}, "Networks": [{"Target": "host"}] } });
        assert!(check_service(&host_net, &roots)
            .unwrap_err()
            .contains("host"));
        let fine = json!({ "TaskTemplate": { "ContainerSpec": { "Image": "x",
            "Mounts": [{"Type": "bind", "Source": "/srv/data/a", "Target": "/a"}] } } });
        assert_eq!(check_service(&fine, &roots), Ok(()));
        assert!(check_exec(&json!({"Cmd": ["sh"], "Privileged": true})).is_err());
        assert_eq!(check_exec(&json!({"Cmd": ["sh"]})), Ok(()));
    }
}
