//! The endpoints the console calls, typed by what they answer.
//!
//! An [`Endpoint`] says what to send (method, versioned path with query,
//! JSON body); its type parameter says what comes back: a model to decode
//! as JSON, `()` for an empty answer, or a stream marker naming the decoder.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::marker::PhantomData;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::models::{
    ContainerCreateResponse, ContainerStatsResponse, ContainerSummaryStateEnum,
    ContainerTopResponse, CreateImageInfo, EventMessage, ExecConfig, IdResponse, PortSummary,
};
use crate::version::ApiVersion;

/// Everything but RFC 3986's unreserved characters is escaped, so an id or
/// name can never add a path segment or a query.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// What lists of containers show of each, from the engine's container
/// summary: the same fields as [`ContainerSummary`](crate::models::ContainerSummary)'s, with its models; the
/// rest (networks, mounts, the image's manifest) is skipped unread. Its
/// decoder is a fraction of the whole summary's, and the containers list,
/// in the console's first download, needs no more.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct ContainerBrief {
    #[serde(rename = "Id")]
    pub id: Option<String>,
    #[serde(rename = "Names")]
    pub names: Option<Vec<String>>,
    #[serde(rename = "Image")]
    pub image: Option<String>,
    #[serde(rename = "Created")]
    pub created: Option<i64>,
    #[serde(rename = "Ports")]
    pub ports: Option<Vec<PortSummary>>,
    #[serde(rename = "Labels")]
    pub labels: Option<HashMap<String, String>>,
    #[serde(rename = "State")]
    pub state: Option<ContainerSummaryStateEnum>,
    #[serde(rename = "Status")]
    pub status: Option<String>,
}

/// A request to make, and (in `T`) what its successful answer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint<T> {
    pub method: Method,
    /// Path and query, starting with `/`; versioned except for `/_ping`.
    pub path: String,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub body: Option<String>,
    answer: PhantomData<fn() -> T>,
}

impl<T> Endpoint<T> {
    pub(crate) fn new(method: Method, path: String) -> Self {
        Endpoint {
            method,
            path,
            body: None,
            answer: PhantomData,
        }
    }
}

/// Answer marker: a multiplexed stdout/stderr stream (raw bytes when the
/// container has a TTY); decode with [`crate::MuxDecoder`].
#[derive(Debug)]
pub struct Multiplexed;

/// Answer marker: a tar archive (of a container's files or filesystem).
#[derive(Debug)]
pub struct Tar;

/// Answer marker: a stream of JSON values; decode with [`crate::JsonLines`].
#[derive(Debug)]
pub struct JsonStream<T>(PhantomData<fn() -> T>);

/// What can be done to a container with one body-less POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerAction {
    Start,
    Stop,
    Restart,
    Kill,
    Pause,
    Unpause,
}

impl ContainerAction {
    pub const ALL: [ContainerAction; 6] = [
        ContainerAction::Start,
        ContainerAction::Stop,
        ContainerAction::Restart,
        ContainerAction::Kill,
        ContainerAction::Pause,
        ContainerAction::Unpause,
    ];

    /// The last path segment, which is also the verb shown to people.
    pub fn verb(self) -> &'static str {
        match self {
            ContainerAction::Start => "start",
            ContainerAction::Stop => "stop",
            ContainerAction::Restart => "restart",
            ContainerAction::Kill => "kill",
            ContainerAction::Pause => "pause",
            ContainerAction::Unpause => "unpause",
        }
    }

    /// Whether the engine accepts the action in this state; offering only
    /// those keeps the console from showing buttons that can only fail.
    pub fn applies_to(self, state: ContainerSummaryStateEnum) -> bool {
        use ContainerSummaryStateEnum as S;
        let running = matches!(state, S::RUNNING | S::RESTARTING);
        match self {
            ContainerAction::Start => matches!(state, S::CREATED | S::EXITED | S::DEAD),
            ContainerAction::Stop | ContainerAction::Kill | ContainerAction::Pause => running,
            ContainerAction::Restart => !matches!(state, S::PAUSED | S::REMOVING | S::DEAD),
            ContainerAction::Unpause => state == S::PAUSED,
        }
    }
}

/// Options of `GET /containers/{id}/logs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub timestamps: bool,
    /// Lines from the end; `None` for all.
    pub tail: Option<u64>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl LogsOptions {
    /// As the engine's logs endpoints take them (and the flight
    /// recorder's, which reads them as the engine does).
    pub(crate) fn query(&self) -> Query {
        let mut q = Query::default();
        q.flag("follow", self.follow);
        q.flag("stdout", self.stdout);
        q.flag("stderr", self.stderr);
        q.flag("timestamps", self.timestamps);
        q.opt("tail", self.tail);
        q.opt("since", self.since);
        q.opt("until", self.until);
        q
    }
}

/// Options of `GET /events`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsOptions {
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// The engine's filters, e.g. `type` → `["container"]`.
    pub filters: BTreeMap<String, Vec<String>>,
}

/// What a prune removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prune {
    Containers,
    /// Dangling images only (the engine's default).
    DanglingImages,
    /// Every image no container uses.
    AllUnusedImages,
    Networks,
    Volumes,
    BuildCache,
}

impl Prune {
    fn collection(self) -> &'static str {
        match self {
            Prune::Containers => "containers",
            Prune::DanglingImages | Prune::AllUnusedImages => "images",
            Prune::Networks => "networks",
            Prune::Volumes => "volumes",
            Prune::BuildCache => "build",
        }
    }
}

/// Builds requests for one negotiated API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    pub version: ApiVersion,
}

impl Api {
    pub fn new(version: ApiVersion) -> Self {
        Api { version }
    }

    /// `/_ping` is unversioned: it is how the version is learnt.
    pub fn ping() -> Endpoint<()> {
        Endpoint::new(Method::Get, "/_ping".to_owned())
    }

    /// As the engine gave it, every field (newer ones included).
    pub fn version(&self) -> Endpoint<serde_json::Value> {
        self.get("/version")
    }

    /// As the engine gave it, every field (newer ones included).
    pub fn info(&self) -> Endpoint<serde_json::Value> {
        self.get("/info")
    }

    /// Every container (`all`) or the running ones, as `T`: the whole
    /// [`ContainerSummary`](crate::models::ContainerSummary), or the [`ContainerBrief`] lists show.
    pub fn containers<T>(&self, all: bool) -> Endpoint<Vec<T>> {
        let mut q = Query::default();
        q.flag("all", all);
        self.get(&format!("/containers/json{q}"))
    }

    pub fn container_action(&self, id: &str, action: ContainerAction) -> Endpoint<()> {
        self.post(&format!("/containers/{}/{}", component(id), action.verb()))
    }

    pub fn container_remove(&self, id: &str, force: bool, volumes: bool) -> Endpoint<()> {
        let mut q = Query::default();
        q.flag("force", force);
        q.flag("v", volumes);
        Endpoint::new(
            Method::Delete,
            format!("{}/containers/{}{q}", self.version.prefix(), component(id)),
        )
    }

    pub fn container_logs(&self, id: &str, opts: &LogsOptions) -> Endpoint<Multiplexed> {
        self.get(&format!(
            "/containers/{}/logs{}",
            component(id),
            opts.query()
        ))
    }

    pub fn events(&self, opts: &EventsOptions) -> Endpoint<JsonStream<EventMessage>> {
        let mut q = Query::default();
        q.opt("since", opts.since);
        q.opt("until", opts.until);
        q.filters(&opts.filters);
        self.get(&format!("/events{q}"))
    }

    /// As JSON, exactly as the engine gave it: what an inspect view must
    /// show (fields newer than the models included), and much less code in
    /// the console than the full model's decoder.
    pub fn container_inspect(&self, id: &str) -> Endpoint<serde_json::Value> {
        self.get(&format!("/containers/{}/json", component(id)))
    }

    /// The processes, as `ps` with the engine's default options.
    pub fn container_top(&self, id: &str) -> Endpoint<ContainerTopResponse> {
        self.get(&format!("/containers/{}/top", component(id)))
    }

    /// A sample a second while `stream`, else one sample.
    pub fn container_stats(
        &self,
        id: &str,
        stream: bool,
    ) -> Endpoint<JsonStream<ContainerStatsResponse>> {
        let mut q = Query::default();
        q.pair("stream", if stream { "1" } else { "0" });
        self.get(&format!("/containers/{}/stats{q}", component(id)))
    }

    /// `kill` with a chosen signal (`SIGTERM`, `HUP`, `9`…).
    pub fn container_kill(&self, id: &str, signal: &str) -> Endpoint<()> {
        let mut q = Query::default();
        q.pair("signal", signal);
        self.post(&format!("/containers/{}/kill{q}", component(id)))
    }

    pub fn container_rename(&self, id: &str, name: &str) -> Endpoint<()> {
        let mut q = Query::default();
        q.pair("name", name);
        self.post(&format!("/containers/{}/rename{q}", component(id)))
    }

    /// The container's whole filesystem as a tar.
    pub fn container_export(&self, id: &str) -> Endpoint<Tar> {
        self.get(&format!("/containers/{}/export", component(id)))
    }

    /// A file or folder as a tar (`GET`), or only its stat (`HEAD`, in the
    /// `X-Docker-Container-Path-Stat` header).
    pub fn container_archive(&self, id: &str, path: &str, method: Method) -> Endpoint<Tar> {
        let mut q = Query::default();
        q.pair("path", path);
        Endpoint::new(
            method,
            format!(
                "{}/containers/{}/archive{q}",
                self.version.prefix(),
                component(id)
            ),
        )
    }

    /// Unpacks a tar (the body, sent by the caller) into the folder `path`.
    pub fn container_upload(&self, id: &str, path: &str) -> Endpoint<()> {
        let mut q = Query::default();
        q.pair("path", path);
        Endpoint::new(
            Method::Put,
            format!(
                "{}/containers/{}/archive{q}",
                self.version.prefix(),
                component(id)
            ),
        )
    }

    pub fn exec_create(&self, id: &str, config: &ExecConfig) -> Endpoint<IdResponse> {
        let mut e: Endpoint<IdResponse> = self.post(&format!("/containers/{}/exec", component(id)));
        e.body = Some(serde_json::to_string(config).expect("exec config serializes"));
        e
    }

    /// Starts an exec: a hijack, which a browser reaches through the
    /// relay's WebSocket ([`crate::relay::ws::exec`]); this is the call the
    /// relay makes for it, and so what its policy reads.
    pub fn exec_start(&self, exec: &str) -> Endpoint<()> {
        self.post(&format!("/exec/{}/start", component(exec)))
    }

    /// Attaches to the main process: a hijack, reached as
    /// [`Api::exec_start`] is ([`crate::relay::ws::attach`]).
    pub fn container_attach(&self, id: &str) -> Endpoint<()> {
        self.post(&format!(
            "/containers/{}/attach?stream=1&stdin=1&stdout=1&stderr=1",
            component(id)
        ))
    }

    /// Create from a body built as JSON (see [`crate::run::RunSpec::body`]).
    pub fn container_create(
        &self,
        name: Option<&str>,
        body: &serde_json::Value,
    ) -> Endpoint<ContainerCreateResponse> {
        let mut q = Query::default();
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            q.pair("name", n);
        }
        let mut e: Endpoint<ContainerCreateResponse> = self.post(&format!("/containers/create{q}"));
        e.body = Some(body.to_string());
        e
    }

    /// Whether an image is here (404 when not), as raw JSON.
    pub fn image_inspect(&self, reference: &str) -> Endpoint<serde_json::Value> {
        self.get(&format!("/images/{}/json", image_path(reference)))
    }

    /// Disk usage by images, containers, volumes and build cache.
    pub fn system_df(&self) -> Endpoint<serde_json::Value> {
        self.get("/system/df")
    }

    /// Networks no container uses, as `docker network prune` would see them.
    pub fn networks_unused(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Endpoint<serde_json::Value> {
        let mut f = filters.clone();
        f.insert("dangling".into(), vec!["true".into()]);
        self.networks(&f)
    }

    /// `POST /{what}/prune` with the engine's filters; the answer says what
    /// went and the space reclaimed.
    pub fn prune(
        &self,
        what: Prune,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Endpoint<serde_json::Value> {
        let mut f = filters.clone();
        if what == Prune::AllUnusedImages {
            f.insert("dangling".into(), vec!["false".into()]);
        }
        let mut q = Query::default();
        q.filters(&f);
        self.post(&format!("/{}/prune{q}", what.collection()))
    }

    /// The image list as raw JSON: engines differ in how they write an
    /// untagged image's tags.
    pub fn images(&self) -> Endpoint<serde_json::Value> {
        self.get("/images/json")
    }

    pub fn image_history(&self, reference: &str) -> Endpoint<serde_json::Value> {
        self.get(&format!("/images/{}/history", image_path(reference)))
    }

    pub fn image_remove(&self, reference: &str, force: bool) -> Endpoint<serde_json::Value> {
        let mut q = Query::default();
        q.flag("force", force);
        Endpoint::new(
            Method::Delete,
            format!(
                "{}/images/{}{q}",
                self.version.prefix(),
                image_path(reference)
            ),
        )
    }

    /// Tags `reference` as `repo:tag`.
    pub fn image_tag(&self, reference: &str, target: &str) -> Endpoint<()> {
        let (repo, tag) = split_reference(target);
        let mut q = Query::default();
        q.pair("repo", repo);
        q.pair("tag", tag);
        self.post(&format!("/images/{}/tag{q}", image_path(reference)))
    }

    /// The image as a tar, for `docker load`.
    pub fn image_save(&self, reference: &str) -> Endpoint<Tar> {
        self.get(&format!("/images/{}/get", image_path(reference)))
    }

    /// Loads images from a tar (the body, sent by the caller); progress and
    /// errors come back as JSON lines.
    pub fn image_load(&self) -> Endpoint<JsonStream<serde_json::Value>> {
        self.post("/images/load")
    }

    pub fn volume_create(&self, body: &serde_json::Value) -> Endpoint<serde_json::Value> {
        let mut e: Endpoint<serde_json::Value> = self.post("/volumes/create");
        e.body = Some(body.to_string());
        e
    }

    pub fn volume_inspect(&self, name: &str) -> Endpoint<serde_json::Value> {
        self.get(&format!("/volumes/{}", component(name)))
    }

    pub fn volume_remove(&self, name: &str, force: bool) -> Endpoint<()> {
        let mut q = Query::default();
        q.flag("force", force);
        Endpoint::new(
            Method::Delete,
            format!("{}/volumes/{}{q}", self.version.prefix(), component(name)),
        )
    }

    pub fn network_create(&self, body: &serde_json::Value) -> Endpoint<serde_json::Value> {
        let mut e: Endpoint<serde_json::Value> = self.post("/networks/create");
        e.body = Some(body.to_string());
        e
    }

    pub fn network_remove(&self, id: &str) -> Endpoint<()> {
        Endpoint::new(
            Method::Delete,
            format!("{}/networks/{}", self.version.prefix(), component(id)),
        )
    }

    /// Connects `container` to network `id`, known there by `aliases`.
    pub fn network_connect(&self, id: &str, container: &str, aliases: &[String]) -> Endpoint<()> {
        let mut e: Endpoint<()> = self.post(&format!("/networks/{}/connect", component(id)));
        let body = if aliases.is_empty() {
            serde_json::json!({ "Container": container })
        } else {
            serde_json::json!({ "Container": container, "EndpointConfig": { "Aliases": aliases } })
        };
        e.body = Some(body.to_string());
        e
    }

    pub fn network_disconnect(&self, id: &str, container: &str, force: bool) -> Endpoint<()> {
        let mut e: Endpoint<()> = self.post(&format!("/networks/{}/disconnect", component(id)));
        e.body = Some(serde_json::json!({ "Container": container, "Force": force }).to_string());
        e
    }

    /// Pulls `reference` (`name`, `name:tag` or `name@digest`); progress
    /// arrives as JSON lines, and so do errors, inside a 200.
    pub fn image_pull(&self, reference: &str) -> Endpoint<JsonStream<CreateImageInfo>> {
        let (name, tag) = split_reference(reference);
        let mut q = Query::default();
        q.pair("fromImage", name);
        q.pair("tag", tag);
        self.post(&format!("/images/create{q}"))
    }

    /// Containers matching the engine's filters (`label` → `["a=b"]`).
    pub fn containers_where<T>(
        &self,
        all: bool,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Endpoint<Vec<T>> {
        let mut q = Query::default();
        q.flag("all", all);
        q.filters(filters);
        self.get(&format!("/containers/json{q}"))
    }

    /// Networks matching the engine's filters (none: all), as raw JSON.
    pub fn networks(&self, filters: &BTreeMap<String, Vec<String>>) -> Endpoint<serde_json::Value> {
        let mut q = Query::default();
        q.filters(filters);
        self.get(&format!("/networks{q}"))
    }

    /// Volumes matching the engine's filters: `{"Volumes": […]}`.
    pub fn volumes_where(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Endpoint<serde_json::Value> {
        let mut q = Query::default();
        q.filters(filters);
        self.get(&format!("/volumes{q}"))
    }

    /// Swarm nodes (a manager only), as raw JSON: updates send the spec
    /// back whole, fields newer than the models included.
    pub fn nodes(&self) -> Endpoint<serde_json::Value> {
        self.get("/nodes")
    }

    /// Replaces node `id`'s spec; `version` is the one it was read at.
    pub fn node_update(&self, id: &str, version: u64, spec: &serde_json::Value) -> Endpoint<()> {
        let mut e: Endpoint<()> = self.post(&format!(
            "/nodes/{}/update?version={version}",
            component(id)
        ));
        e.body = Some(spec.to_string());
        e
    }

    /// Swarm services with their running and desired task counts.
    pub fn services(&self) -> Endpoint<serde_json::Value> {
        self.get("/services?status=1")
    }

    pub fn service_create(&self, spec: &serde_json::Value) -> Endpoint<serde_json::Value> {
        let mut e: Endpoint<serde_json::Value> = self.post("/services/create");
        e.body = Some(spec.to_string());
        e
    }

    /// Replaces service `id`'s spec; `version` is the one it was read at.
    /// The answer lists warnings.
    pub fn service_update(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Endpoint<serde_json::Value> {
        let mut e: Endpoint<serde_json::Value> = self.post(&format!(
            "/services/{}/update?version={version}",
            component(id)
        ));
        e.body = Some(spec.to_string());
        e
    }

    pub fn service_remove(&self, id: &str) -> Endpoint<()> {
        Endpoint::new(
            Method::Delete,
            format!("{}/services/{}", self.version.prefix(), component(id)),
        )
    }

    /// Tasks matching the engine's filters (`service` → `[name]`).
    pub fn tasks(&self, filters: &BTreeMap<String, Vec<String>>) -> Endpoint<serde_json::Value> {
        let mut q = Query::default();
        q.filters(filters);
        self.get(&format!("/tasks{q}"))
    }

    /// A service's logs, every task's, multiplexed as a container's are.
    pub fn service_logs(&self, id: &str, opts: &LogsOptions) -> Endpoint<Multiplexed> {
        let mut e: Endpoint<Multiplexed> = self.container_logs(id, opts);
        e.path = e.path.replacen("/containers/", "/services/", 1);
        e
    }

    fn get<T>(&self, path: &str) -> Endpoint<T> {
        Endpoint::new(Method::Get, format!("{}{path}", self.version.prefix()))
    }

    fn post<T>(&self, path: &str) -> Endpoint<T> {
        Endpoint::new(Method::Post, format!("{}{path}", self.version.prefix()))
    }
}

/// `name[:tag]` or `name@digest` → name and tag-or-digest (`latest` when
/// neither is given). A `:` before the last `/` is a registry's port.
pub fn split_reference(reference: &str) -> (&str, &str) {
    if let Some((name, digest)) = reference.split_once('@') {
        return (name, digest);
    }
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "latest"),
    }
}

/// An image name in a path: its `/`s stay path separators (the engine's
/// routes take `/images/{name:.*}/json`), each segment escaped on its own.
fn image_path(reference: &str) -> String {
    reference
        .split('/')
        .map(component)
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// A query string that renders as `""` when empty, else `?a=1&b=2`.
#[derive(Default)]
pub(crate) struct Query(String);

impl Query {
    pub(crate) fn pair(&mut self, key: &str, value: &str) {
        let sep = if self.0.is_empty() { '?' } else { '&' };
        let _ = write!(self.0, "{sep}{key}={}", component(value));
    }

    fn flag(&mut self, key: &str, on: bool) {
        if on {
            self.pair(key, "1");
        }
    }

    /// The engine's `filters` parameter, left out when there are none.
    fn filters(&mut self, filters: &BTreeMap<String, Vec<String>>) {
        if !filters.is_empty() {
            let json = serde_json::to_string(filters).expect("filters serialize");
            self.pair("filters", &json);
        }
    }

    pub(crate) fn opt(&mut self, key: &str, value: Option<impl ToString>) {
        if let Some(v) = value {
            self.pair(key, &v.to_string());
        }
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ContainerSummary;

    fn api() -> Api {
        Api::new(ApiVersion::new(1, 41))
    }

    #[test]
    fn paths_carry_the_negotiated_version() {
        assert_eq!(Api::ping().path, "/_ping");
        assert_eq!(api().info().path, "/v1.41/info");
        assert_eq!(
            api().containers::<ContainerSummary>(true).path,
            "/v1.41/containers/json?all=1"
        );
        assert_eq!(
            api().containers::<ContainerSummary>(false).path,
            "/v1.41/containers/json"
        );
        let stop = api().container_action("web", ContainerAction::Stop);
        assert_eq!(
            (stop.method, stop.path.as_str()),
            (Method::Post, "/v1.41/containers/web/stop")
        );
        let rm = api().container_remove("web", true, false);
        assert_eq!(
            (rm.method, rm.path.as_str()),
            (Method::Delete, "/v1.41/containers/web?force=1")
        );
    }

    #[test]
    fn swarm_paths() {
        let f = BTreeMap::from([("service".to_owned(), vec!["web".to_owned()])]);
        assert_eq!(
            api().tasks(&f).path,
            "/v1.41/tasks?filters=%7B%22service%22%3A%5B%22web%22%5D%7D"
        );
        assert_eq!(api().services().path, "/v1.41/services?status=1");
        let up = api().service_update("a/b", 7, &serde_json::json!({}));
        assert_eq!(
            (up.method, up.path.as_str(), up.body.as_deref()),
            (
                Method::Post,
                "/v1.41/services/a%2Fb/update?version=7",
                Some("{}")
            )
        );
        let logs = api().service_logs(
            "web",
            &LogsOptions {
                follow: true,
                stdout: true,
                ..Default::default()
            },
        );
        assert_eq!(logs.path, "/v1.41/services/web/logs?follow=1&stdout=1");
        assert_eq!(
            api()
                .containers_where::<ContainerSummary>(true, &BTreeMap::new())
                .path,
            "/v1.41/containers/json?all=1"
        );
    }

    #[test]
    fn a_brief_reads_what_the_whole_summary_reads() {
        // As Docker 20.10 lists a compose container with a published port.
        let json = r#"[{"Id":"4f2c","Names":["/web-1"],"Image":"nginx:1","ImageID":"sha256:9e",
            "Command":"nginx -g 'daemon off;'","Created":1700000000,
            "Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}],
            "Labels":{"com.docker.compose.project":"shop"},"State":"running","Status":"Up 2 minutes",
            "HostConfig":{"NetworkMode":"default"},
            "NetworkSettings":{"Networks":{"bridge":{"IPAMConfig":null,"Links":null,"Aliases":null,
                "NetworkID":"a1","EndpointID":"b2","Gateway":"172.17.0.1","IPAddress":"172.17.0.2",
                "IPPrefixLen":16,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,
                "MacAddress":"02:42:ac:11:00:02","DriverOpts":null}}},
            "Mounts":[{"Type":"volume","Name":"data","Source":"/var/lib/docker/volumes/data/_data",
                "Destination":"/data","Driver":"local","Mode":"z","RW":true,"Propagation":""}]}]"#;
        let whole: Vec<ContainerSummary> = serde_json::from_str(json).unwrap();
        let brief: Vec<ContainerBrief> = serde_json::from_str(json).unwrap();
        let (w, b) = (&whole[0], &brief[0]);
        assert_eq!(
            (&b.id, &b.names, &b.image, b.created, &b.ports),
            (&w.id, &w.names, &w.image, w.created, &w.ports)
        );
        assert_eq!(
            (&b.labels, b.state, &b.status),
            (&w.labels, w.state, &w.status)
        );
        assert_eq!(b.state, Some(ContainerSummaryStateEnum::RUNNING));
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        let e = api().container_action("../../images/x?force=1", ContainerAction::Kill);
        assert_eq!(
            e.path,
            "/v1.41/containers/..%2F..%2Fimages%2Fx%3Fforce%3D1/kill"
        );
    }

    #[test]
    fn stream_queries() {
        let logs = api().container_logs(
            "c",
            &LogsOptions {
                follow: true,
                stdout: true,
                stderr: true,
                tail: Some(100),
                ..Default::default()
            },
        );
        assert_eq!(
            logs.path,
            "/v1.41/containers/c/logs?follow=1&stdout=1&stderr=1&tail=100"
        );
        let mut filters = BTreeMap::new();
        filters.insert("type".to_owned(), vec!["container".to_owned()]);
        let ev = api().events(&EventsOptions {
            since: Some(5),
            until: None,
            filters,
        });
        assert_eq!(
            ev.path,
            "/v1.41/events?since=5&filters=%7B%22type%22%3A%5B%22container%22%5D%7D"
        );
    }

    #[test]
    fn container_pages_and_files() {
        assert_eq!(
            api().container_kill("c", "SIGHUP").path,
            "/v1.41/containers/c/kill?signal=SIGHUP"
        );
        assert_eq!(
            api().container_rename("c", "new").path,
            "/v1.41/containers/c/rename?name=new"
        );
        let head = api().container_archive("c", "/etc/os release", Method::Head);
        assert_eq!(
            (head.method, head.path.as_str()),
            (
                Method::Head,
                "/v1.41/containers/c/archive?path=%2Fetc%2Fos%20release"
            )
        );
        assert_eq!(
            api().container_attach("c").path,
            "/v1.41/containers/c/attach?stream=1&stdin=1&stdout=1&stderr=1"
        );
        assert_eq!(api().exec_start("e1").path, "/v1.41/exec/e1/start");
        let up = api().container_upload("c", "/tmp");
        assert_eq!(
            (up.method, up.path.as_str()),
            (Method::Put, "/v1.41/containers/c/archive?path=%2Ftmp")
        );
        assert_eq!(
            api().container_stats("c", true).path,
            "/v1.41/containers/c/stats?stream=1"
        );
        let create = api().container_create(Some("web"), &serde_json::json!({"Image": "busybox"}));
        assert_eq!(create.path, "/v1.41/containers/create?name=web");
        assert_eq!(create.body.as_deref(), Some(r#"{"Image":"busybox"}"#));
    }

    #[test]
    fn prunes() {
        let mut f = BTreeMap::new();
        assert_eq!(
            api().prune(Prune::Containers, &f).path,
            "/v1.41/containers/prune"
        );
        assert_eq!(
            api().prune(Prune::BuildCache, &f).path,
            "/v1.41/build/prune"
        );
        f.insert("label".to_owned(), vec!["a=b".to_owned()]);
        assert_eq!(
            api().prune(Prune::AllUnusedImages, &f).path,
            "/v1.41/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%2C%22label%22%3A%5B%22a%3Db%22%5D%7D"
        );
    }

    #[test]
    fn image_references() {
        assert_eq!(
            api().image_inspect("localhost:5000/team/app:v1").path,
            "/v1.41/images/localhost%3A5000/team/app%3Av1/json"
        );
        assert_eq!(split_reference("busybox"), ("busybox", "latest"));
        assert_eq!(split_reference("busybox:1.36"), ("busybox", "1.36"));
        assert_eq!(
            split_reference("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(
            split_reference("localhost:5000/app:v2"),
            ("localhost:5000/app", "v2")
        );
        assert_eq!(split_reference("app@sha256:ab"), ("app", "sha256:ab"));
        assert_eq!(
            api().image_pull("localhost:5000/app").path,
            "/v1.41/images/create?fromImage=localhost%3A5000%2Fapp&tag=latest"
        );
    }

    #[test]
    fn actions_offered_by_state() {
        use ContainerSummaryStateEnum as S;
        let offered = |s| {
            ContainerAction::ALL
                .into_iter()
                .filter(|a| a.applies_to(s))
                .map(ContainerAction::verb)
                .collect::<Vec<_>>()
        };
        assert_eq!(offered(S::RUNNING), ["stop", "restart", "kill", "pause"]);
        assert_eq!(offered(S::EXITED), ["start", "restart"]);
        assert_eq!(offered(S::PAUSED), ["unpause"]);
        assert_eq!(offered(S::CREATED), ["start", "restart"]);
    }
}
