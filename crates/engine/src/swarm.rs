//! Swarm: the service create form as a spec, and the changes the console
//! makes to specs read from the engine (scale, image, node availability).
//!
//! Specs stay JSON: an update sends back the whole spec as read, so fields
//! newer than the models survive it.

use serde_json::{json, Value};

/// The fields of the service create form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceForm {
    pub name: String,
    pub image: String,
    /// Empty for 1; `global` for one task per node.
    pub replicas: String,
    /// Arguments after the image, as a shell would split them.
    pub command: String,
    /// `published:target[/proto]`, separated by commas or spaces.
    pub ports: String,
    /// `KEY=value` lines.
    pub env: String,
}

/// A form field a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceField {
    Name,
    Image,
    Replicas,
    Command,
    Ports,
}

pub type ServiceProblems = Vec<(ServiceField, String)>;

impl ServiceForm {
    /// The `POST /services/create` body, or every problem found.
    pub fn spec(&self) -> Result<Value, ServiceProblems> {
        let mut problems = ServiceProblems::new();
        let name = self.name.trim();
        if !name.is_empty()
            && !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            problems.push((ServiceField::Name, "letters, digits, - and _ only".into()));
        }
        let image = self.image.trim();
        if image.is_empty() {
            problems.push((ServiceField::Image, "an image is needed".into()));
        }
        let replicas = self.replicas.trim();
        let mode = if replicas.eq_ignore_ascii_case("global") {
            json!({ "Global": {} })
        } else {
            match if replicas.is_empty() {
                Ok(1)
            } else {
                replicas.parse::<u64>()
            } {
                Ok(n) => json!({ "Replicated": { "Replicas": n } }),
                Err(_) => {
                    problems.push((
                        ServiceField::Replicas,
                        format!("{replicas:?}: a number, or global"),
                    ));
                    Value::Null
                }
            }
        };
        let args = match shell_words::split(&self.command) {
            Ok(a) => a,
            Err(e) => {
                problems.push((ServiceField::Command, e.to_string()));
                vec![]
            }
        };
        let mut ports = vec![];
        for p in self
            .ports
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match port(p) {
                Ok(v) => ports.push(v),
                Err(e) => problems.push((ServiceField::Ports, e)),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let env: Vec<&str> = self
            .env
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut container = json!({ "Image": image });
        if !args.is_empty() {
            container["Args"] = json!(args);
        }
        if !env.is_empty() {
            container["Env"] = json!(env);
        }
        let mut spec = json!({
            "TaskTemplate": { "ContainerSpec": container },
            "Mode": mode,
        });
        if !name.is_empty() {
            spec["Name"] = json!(name);
        }
        if !ports.is_empty() {
            spec["EndpointSpec"] = json!({ "Ports": ports });
        }
        Ok(spec)
    }
}

/// `8080:80`, `8080:80/udp` → an endpoint port.
fn port(text: &str) -> Result<Value, String> {
    let (pair, proto) = text.split_once('/').unwrap_or((text, "tcp"));
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(format!("{text:?}: the protocol is tcp, udp or sctp"));
    }
    let number = |s: &str| {
        s.parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{text:?}: {s:?} is not a port"))
    };
    let (published, target) = match pair.split_once(':') {
        Some((p, t)) => (Some(number(p)?), number(t)?),
        None => (None, number(pair)?),
    };
    let mut v = json!({ "Protocol": proto, "TargetPort": target });
    if let Some(p) = published {
        v["PublishedPort"] = json!(p);
    }
    Ok(v)
}

/// `spec` with `replicas` tasks; `None` when the service is not replicated.
pub fn scaled(spec: &Value, replicas: u64) -> Option<Value> {
    let mut s = spec.clone();
    let r = s.pointer_mut("/Mode/Replicated")?;
    r["Replicas"] = json!(replicas);
    Some(s)
}

/// `spec` running `image` (a rolling update by the service's own policy).
pub fn with_image(spec: &Value, image: &str) -> Value {
    let mut s = spec.clone();
    s["TaskTemplate"]["ContainerSpec"]["Image"] = json!(image.trim());
    s
}

/// A node `spec` with `availability` (`active`, `pause` or `drain`).
pub fn with_availability(spec: &Value, availability: &str) -> Value {
    let mut s = spec.clone();
    s["Availability"] = json!(availability);
    s
}

/// An image reference without the digest the engine pins it to.
pub fn short_image(image: &str) -> &str {
    image.split('@').next().unwrap_or(image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ServiceSpec;

    #[test]
    fn a_form_becomes_a_spec_the_models_read() {
        let form = ServiceForm {
            name: "web".into(),
            image: "nginx:1".into(),
            replicas: "3".into(),
            command: "sh -c 'echo hi; sleep 600'".into(),
            ports: "8080:80, 53/udp".into(),
            env: "A=1\n\nB=two words\n".into(),
        };
        let spec = form.spec().unwrap();
        let typed: ServiceSpec = serde_json::from_value(spec.clone()).unwrap();
        assert_eq!(typed.name.as_deref(), Some("web"));
        let c = typed.task_template.unwrap().container_spec.unwrap();
        assert_eq!(c.image.as_deref(), Some("nginx:1"));
        assert_eq!(
            c.args.unwrap(),
            ["sh", "-c", "echo hi; sleep 600"].map(String::from)
        );
        assert_eq!(c.env.unwrap(), ["A=1", "B=two words"].map(String::from));
        assert_eq!(spec["Mode"]["Replicated"]["Replicas"], 3);
        assert_eq!(
            spec["EndpointSpec"]["Ports"],
            json!([
                { "Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080 },
                { "Protocol": "udp", "TargetPort": 53 }
            ])
        );
    }

    #[test]
    fn problems_name_their_field() {
        let form = ServiceForm {
            name: "no spaces".into(),
            replicas: "three".into(),
            command: "echo 'unclosed".into(),
            ports: "80:99999".into(),
            ..Default::default()
        };
        let fields: Vec<ServiceField> = form.spec().unwrap_err().into_iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            [
                ServiceField::Name,
                ServiceField::Image,
                ServiceField::Replicas,
                ServiceField::Command,
                ServiceField::Ports
            ]
        );
    }

    #[test]
    fn global_and_default_modes() {
        let mut form = ServiceForm {
            image: "x".into(),
            ..Default::default()
        };
        assert_eq!(
            form.spec().unwrap()["Mode"],
            json!({ "Replicated": { "Replicas": 1 } })
        );
        form.replicas = "Global".into();
        assert_eq!(form.spec().unwrap()["Mode"], json!({ "Global": {} }));
    }

    #[test]
    fn changes_keep_the_rest_of_the_spec() {
        let spec = json!({
            "Name": "web",
            "Labels": { "a": "b" },
            "Future": { "field": 1 },
            "TaskTemplate": { "ContainerSpec": { "Image": "old@sha256:00", "Args": ["x"] } },
            "Mode": { "Replicated": { "Replicas": 1 } }
        });
        let s = scaled(&spec, 3).unwrap();
        assert_eq!(s["Mode"]["Replicated"]["Replicas"], 3);
        assert_eq!(s["Future"], spec["Future"]);
        let s = with_image(&spec, " new:2 ");
        assert_eq!(s["TaskTemplate"]["ContainerSpec"]["Image"], "new:2");
        assert_eq!(s["TaskTemplate"]["ContainerSpec"]["Args"], json!(["x"]));
        assert!(scaled(&json!({ "Mode": { "Global": {} } }), 2).is_none());
        assert_eq!(
            with_availability(&json!({ "Role": "manager" }), "drain")["Role"],
            "manager"
        );
        assert_eq!(short_image("busybox:1@sha256:abc"), "busybox:1");
    }
}
