//! The guard a relay puts in front of the engine whenever its policy is not
//! `full`: what a request may ask the engine to create, as an allowlist.
//!
//! Bodies are read as the engine reads them ([`crate::gojson`]). Every
//! field of a create (container, service, exec, volume, network) is either
//! known to be safe, checked value by value, or must be left at its
//! default; the refusal names the field. A field added in a later API
//! version is therefore refused until someone decides it is safe.
//!
//! Some answers need the engine: a named volume, a `container:` namespace,
//! `VolumesFrom` and a network named by id are looked up, and
//! [`check_lookup`] judges what the engine says of them (a relay asks, then
//! calls it; that may ask for more).

mod schema;

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::gojson::{self, Json};
use crate::route::Routed;
use crate::ApiVersion;

/// What the guard refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The field as the API names it (`HostConfig.Privileged`), or the
    /// parameter or call.
    pub field: String,
    /// The key as it was sent, when it differs from the field's name.
    pub sent_as: Option<String>,
    pub why: String,
    /// The body could not be read at all (not JSON): a bad request rather
    /// than a refusal.
    pub malformed: bool,
}

impl Refusal {
    pub fn new(field: impl Into<String>, why: impl Into<String>) -> Refusal {
        Refusal {
            field: field.into(),
            sent_as: None,
            why: why.into(),
            malformed: false,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field)?;
        if let Some(key) = &self.sent_as {
            write!(f, " (sent as {key:?})")?;
        }
        write!(f, ": {}", self.why)
    }
}

/// What the engine must be asked before a body can be judged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// A container whose namespaces the new one would share: it must pass
    /// the guard itself.
    SharedContainer { name: String, field: String },
    /// A container whose volumes the new one would take: its mounts must.
    VolumesOf { name: String, field: String },
    /// A container to be entered or read (exec, attach, archive, export):
    /// it must pass the guard as if it were created now.
    Entered { name: String, field: String },
    /// A named volume: a local volume may bind a host folder.
    Volume { name: String, field: String },
    /// A network named by something other than a predefined name: it may be
    /// the host's.
    Network { name: String, field: String },
}

impl Lookup {
    /// The engine path that answers it (a GET).
    pub fn path(&self) -> String {
        let enc = crate::route::encode_segment;
        match self {
            Lookup::SharedContainer { name, .. }
            | Lookup::VolumesOf { name, .. }
            | Lookup::Entered { name, .. } => format!("/containers/{}/json", enc(name)),
            Lookup::Volume { name, .. } => format!("/volumes/{}", enc(name)),
            Lookup::Network { name, .. } => format!("/networks/{}", enc(name)),
        }
    }

    pub fn field(&self) -> &str {
        match self {
            Lookup::SharedContainer { field, .. }
            | Lookup::VolumesOf { field, .. }
            | Lookup::Entered { field, .. }
            | Lookup::Volume { field, .. }
            | Lookup::Network { field, .. } => field,
        }
    }
}

/// The bodies the guard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    ContainerCreate,
    ContainerUpdate,
    Exec,
    VolumeCreate,
    NetworkCreate,
    /// Connecting a container to a network.
    NetworkConnect,
    /// A Swarm service's spec (create or update): its tasks are containers.
    Service,
}

impl Body {
    pub fn what(self) -> &'static str {
        match self {
            Body::ContainerCreate => "container create",
            Body::ContainerUpdate => "container update",
            Body::Exec => "exec create",
            Body::VolumeCreate => "volume create",
            Body::NetworkCreate => "network create",
            Body::NetworkConnect => "network connect",
            Body::Service => "service spec",
        }
    }
}

/// The oldest API version a guarded relay passes on: older versions let a
/// start call carry a HostConfig (dockerd applies it below 1.24), which
/// would walk around the create checks.
pub const MIN_GUARDED_VERSION: ApiVersion = ApiVersion::new(1, 24);

/// The guard's settings.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Host folders a bind may come from.
    pub allow_binds: Vec<PathBuf>,
}

impl Guard {
    /// What the guard makes of a request before its body: refused outright,
    /// or passed with the body (if any) it must read.
    /// `content_types`: every Content-Type header the request has, as sent.
    pub fn check_request(
        &self,
        req: &Routed,
        query: Option<&str>,
        content_types: &[&[u8]],
    ) -> Result<Option<Body>, Refusal> {
        if let Some(v) = req.path.version {
            if v < MIN_GUARDED_VERSION {
                return Err(Refusal::new(
                    format!("API version {v}"),
                    format!(
                        "a guarded relay passes API {MIN_GUARDED_VERSION} and later \
                         (older versions take a HostConfig on start)"
                    ),
                ));
            }
        }
        check_content_type(content_types)?;
        let t = req.route.template;
        let body = match (req.route.method, t) {
            ("POST", "/containers/create") => Some(Body::ContainerCreate),
            ("POST", "/containers/{name:.*}/update") => Some(Body::ContainerUpdate),
            ("POST", "/containers/{name:.*}/exec") => Some(Body::Exec),
            ("POST", "/volumes/create") => Some(Body::VolumeCreate),
            ("POST", "/networks/create") => Some(Body::NetworkCreate),
            ("POST", "/networks/{id:.*}/connect") => Some(Body::NetworkConnect),
            ("POST", "/services/create") => Some(Body::Service),
            ("POST", "/services/{id}/update") => {
                let params = parse_query(query)?;
                if params.iter().any(|(k, _)| k == "rollback") {
                    return Err(Refusal::new(
                        "the rollback parameter",
                        "the engine applies the service's previous spec, which the guard does not see",
                    ));
                }
                Some(Body::Service)
            }
            ("GET", "/containers/{name:.*}/top") => {
                schema::top_query(&parse_query(query)?)?;
                None
            }
            ("POST", "/containers/{name:.*}/start") => {
                schema::start_query(&parse_query(query)?)?;
                None
            }
            (m, _) if m != "GET" && t.starts_with("/containers/") && t.contains("/checkpoints") => {
                return Err(Refusal::new(
                    format!("{m} {t}"),
                    "a checkpoint is written where the client says, on the engine's host",
                ))
            }
            ("POST", "/build") => {
                schema::build_query(&parse_query(query)?)?;
                None
            }
            ("POST", "/images/create") => {
                schema::image_create_query(&parse_query(query)?)?;
                None
            }
            ("PUT", "/volumes/{name:.*}") => {
                return Err(Refusal::new(
                    "PUT /volumes",
                    "cluster (CSI) volumes are not guarded",
                ))
            }
            (m, _) if m != "GET" && t.starts_with("/plugins") => {
                return Err(Refusal::new(
                    format!("{m} {t}"),
                    "plugins run with whatever privileges they ask for",
                ))
            }
            ("POST", "/session") | ("POST", "/grpc") => {
                return Err(Refusal::new(
                    format!("POST {t}"),
                    "BuildKit's session and control API run builds the /build checks never see",
                ))
            }
            ("POST", "/swarm/init") | ("POST", "/swarm/join") | ("POST", "/swarm/update") => {
                return Err(Refusal::new(
                    format!("POST {t}"),
                    "a Swarm's managers control this engine",
                ))
            }
            ("GET", "/swarm/unlockkey") => {
                return Err(Refusal::new("GET /swarm/unlockkey", "it is a secret"))
            }
            _ => None,
        };
        Ok(body)
    }

    /// Reads a body the way the engine will; what must be looked up before
    /// it passes, or why it is refused.
    pub fn check_body(&self, body: Body, bytes: &[u8]) -> Result<Vec<Lookup>, Refusal> {
        let json = gojson::parse(bytes).map_err(|e| Refusal {
            malformed: true,
            ..Refusal::new(
                format!("the {} body", body.what()),
                format!("not valid JSON: {e}"),
            )
        })?;
        let mut ctx = schema::Ctx::new(self);
        let fields = match body {
            Body::ContainerCreate => schema::CONTAINER_CREATE,
            Body::ContainerUpdate => schema::CONTAINER_UPDATE,
            Body::Exec => schema::EXEC,
            Body::VolumeCreate => schema::VOLUME_CREATE,
            Body::NetworkCreate => schema::NETWORK_CREATE,
            Body::NetworkConnect => schema::NETWORK_CONNECT,
            Body::Service => schema::SERVICE,
        };
        ctx.walk("", &json, fields)?;
        Ok(ctx.lookups)
    }

    /// Judges what the engine answered for `lookup` (`None`: it has no such
    /// thing); what else must be looked up. A volume or network the engine
    /// does not have, it creates plain or fails on; a container it does not
    /// have is refused: dockerd 20.10 keeps a `container:` network mode
    /// naming none and looks the name up again at each start, when it may
    /// name another.
    pub fn check_lookup(
        &self,
        lookup: &Lookup,
        answer: Option<&Json>,
    ) -> Result<Vec<Lookup>, Refusal> {
        let Some(answer) = answer else {
            return match lookup {
                Lookup::SharedContainer { name, field }
                | Lookup::VolumesOf { name, field }
                | Lookup::Entered { name, field } => Err(Refusal::new(
                    field.as_str(),
                    format!("there is no container {name:?} to check"),
                )),
                Lookup::Volume { .. } | Lookup::Network { .. } => Ok(vec![]),
            };
        };
        let mut ctx = schema::Ctx::new(self);
        match lookup {
            Lookup::Volume { name, field } => ctx.existing_volume(field, name, answer)?,
            Lookup::Network { name, field } => schema::existing_network(field, name, answer)?,
            Lookup::SharedContainer { name, field } => {
                ctx.existing_container(field, name, answer, true)?
            }
            Lookup::VolumesOf { name, field } => {
                ctx.existing_container(field, name, answer, false)?
            }
            Lookup::Entered { name, field } => {
                ctx.existing_container(field, name, answer, false)?;
                return self.check_namespaces(field, answer, ctx.lookups);
            }
        }
        Ok(ctx.lookups)
    }

    /// Judges a container the engine just created on a guarded request,
    /// from its inspect: what the engine resolved when it made it. Its
    /// mounts (`VolumesFrom` copied included) and the containers whose
    /// namespaces it shares (by id: the engine pins a name it found) are
    /// checked again, so a container renamed or replaced between the
    /// guard's lookups and the engine's own reading leads nowhere.
    pub fn check_created(&self, inspect: &Json) -> Result<Vec<Lookup>, Refusal> {
        let field = "the created container";
        let top = gojson::members(inspect, &["Name", "HostConfig"])
            .map_err(|e| Refusal::new(field, e))?;
        let name = top
            .get("Name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .trim_start_matches('/');
        let mut ctx = schema::Ctx::new(self);
        ctx.existing_container(field, name, inspect, false)?;
        self.check_namespaces(field, inspect, ctx.lookups)
    }

    /// An existing container's privileges and namespaces, as the engine
    /// holds them: nothing a create would be refused, and another
    /// container's namespaces only by id (the engine pinned a name it
    /// found), each of those to be looked up in turn. `lookups`: what its
    /// mounts already need.
    fn check_namespaces(
        &self,
        field: &str,
        inspect: &Json,
        mut lookups: Vec<Lookup>,
    ) -> Result<Vec<Lookup>, Refusal> {
        let host = gojson::members(inspect, &["HostConfig"])
            .map_err(|e| Refusal::new(field, e))?
            .get("HostConfig")
            .unwrap_or(&Json::Null);
        schema::existing_privileges(self, field, host)?;
        let modes = gojson::members(host, &["NetworkMode", "PidMode", "IpcMode"])
            .map_err(|e| Refusal::new(field, e))?;
        for k in ["NetworkMode", "PidMode", "IpcMode"] {
            let mode = modes
                .get(k)
                .map_or(Ok(""), Json::string)
                .map_err(|e| Refusal::new(field, e))?;
            if mode == "host" {
                return Err(Refusal::new(
                    format!("HostConfig.{k}"),
                    "host: the host's namespace",
                ));
            }
            let Some(id) = mode.strip_prefix("container:") else {
                continue;
            };
            if !(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
                return Err(Refusal::new(
                    format!("HostConfig.{k}"),
                    format!("container:{id} names no container the engine found; it would look the name up again at each start"),
                ));
            }
            lookups.push(Lookup::SharedContainer {
                name: id.to_owned(),
                field: format!("HostConfig.{k}"),
            });
        }
        Ok(lookups)
    }

    /// A host path a bind may come from: absolute, no `..`, inside an
    /// allowed folder as written, and still inside one once the links on
    /// the way are followed (where the relay sees the engine's files: it
    /// runs on the engine's host; a container that can write into an
    /// allowed folder can plant a link there).
    pub fn bind_allowed(&self, source: &str) -> bool {
        let path = Path::new(source);
        let inside = |p: &Path| self.allow_binds.iter().any(|root| p.starts_with(root));
        if !(path.is_absolute()
            && !path.components().any(|c| c == Component::ParentDir)
            && inside(path))
        {
            return false;
        }
        match resolved(path) {
            Some(real) => self
                .allow_binds
                .iter()
                .any(|root| real.starts_with(resolved(root).unwrap_or_else(|| root.clone()))),
            None => true,
        }
    }
}

/// `path` with every link followed, as far as it exists (the engine makes
/// the rest of a bind's folder); `None` when nothing of it can be seen.
fn resolved(path: &Path) -> Option<PathBuf> {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        if let Ok(real) = std::fs::canonicalize(at) {
            return Some(rest.iter().rev().fold(real, |p: PathBuf, c| p.join(c)));
        }
        rest.push(at.file_name()?.to_owned());
        at = at.parent()?;
    }
}

/// Go reads a form body (`application/x-www-form-urlencoded`, and for
/// routes that read parameters before the body, `multipart/form-data`)
/// over the query's parameters, whatever else the header holds: its
/// `mime.ParseMediaType` lowercases and trims the media type, and moby
/// ignores its complaints about parameters. So a Content-Type is refused
/// when it is a form of either kind, when it is given twice, and when it
/// holds anything but printable ASCII.
fn check_content_type(values: &[&[u8]]) -> Result<(), Refusal> {
    let refuse = |why: &str| Err(Refusal::new("Content-Type", why));
    let value = match values {
        [] => return Ok(()),
        [one] => one,
        _ => return refuse("given more than once"),
    };
    if !value
        .iter()
        .all(|b| (b' '..=b'~').contains(b) || *b == b'\t')
    {
        return refuse("not printable ASCII");
    }
    let media = String::from_utf8_lossy(value);
    let media = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media == "application/x-www-form-urlencoded" || media.starts_with("multipart/") {
        return refuse("a form body would stand in for the query's parameters");
    }
    Ok(())
}

/// A query as Go's `url.ParseQuery` reads it; a pair Go would drop (a `;`,
/// a bad escape) refuses the whole query rather than be read another way.
pub fn parse_query(query: Option<&str>) -> Result<Vec<(String, String)>, Refusal> {
    let mut out = Vec::new();
    for pair in query.unwrap_or_default().split('&') {
        if pair.is_empty() {
            continue;
        }
        let bad = || {
            Refusal::new(
                "the query",
                format!("{pair:?} is not a parameter Go reads as sent"),
            )
        };
        if pair.contains(';') {
            return Err(bad());
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let unescape = |s: &str| -> Option<String> {
            let s = s.replace('+', " ");
            if !crate::route::valid_escapes(&s) {
                return None;
            }
            percent_encoding::percent_decode_str(&s)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        };
        out.push((unescape(k).ok_or_else(bad)?, unescape(v).ok_or_else(bad)?));
    }
    Ok(out)
}

/// `GET /swarm` without its join tokens: the manager token is root on every
/// node that joins with it.
pub fn redact_swarm(swarm: &mut serde_json::Value) {
    if let Some(obj) = swarm.as_object_mut() {
        obj.remove("JoinTokens");
    }
}

/// The answers whose documents carry environments: a container's inspect,
/// services and tasks (their container specs), images (their config),
/// plugins (their settings).
pub fn carries_env(template: &str) -> bool {
    matches!(
        template,
        "/containers/{name:.*}/json"
            | "/services"
            | "/services/{id}"
            | "/tasks"
            | "/tasks/{id}"
            | "/images/{name:.*}/json"
            | "/plugins"
            | "/plugins/{name:.*}/json"
    )
}

/// Every environment in a document (`"Env": ["KEY=value", …]`, at any
/// depth) with its values taken out: `KEY=…`. Environments hold passwords
/// and tokens (another berth's `BERTH_TOKEN`, say); their names say enough
/// to look.
pub fn redact_env(doc: &mut serde_json::Value) {
    use serde_json::Value;
    match doc {
        Value::Object(members) => {
            for (key, value) in members.iter_mut() {
                match value {
                    Value::Array(items) if key == "Env" => {
                        for item in items.iter_mut() {
                            if let Some(s) = item.as_str() {
                                let name = s.split('=').next().unwrap_or_default();
                                *item = Value::String(format!("{name}=…"));
                            }
                        }
                    }
                    other => redact_env(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_env),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
