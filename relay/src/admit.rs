//! One reading of every request that reaches the engine, the engine's own
//! ([`berth_engine::route`]): the proxy, the fan-in, downloads and the
//! terminals' WebSockets all come through [`Gate::admit`]. The route is
//! decided as dockerd decides it, the policy is asked about that route, the
//! guard (on whenever the policy is not `full`) about what the request asks
//! for, and what is forwarded is the path that was decided.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_engine::gojson;
use berth_engine::guard::{self, Guard, Lookup};
use berth_engine::{route, Class, Policy, Routed};
use http_body_util::BodyExt;
use std::path::PathBuf;
use tracing::info;

use crate::engine::Engine;
use crate::error::{refuse, Refused};
use crate::AppState;

/// The most a guarded body may hold.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// How much of a refused request's body is read before the refusal is
/// sent, and for how long.
const DRAIN_LIMIT: usize = 256 * 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// The most engine lookups one guarded body may need.
const MAX_LOOKUPS: usize = 32;

pub struct Gate {
    pub policy: Policy,
    /// On unless the policy is `full`.
    pub guard: Option<Guard>,
    /// Held (read) by each guarded container create from its forwarding
    /// until the engine's container is judged, and (write) by each start
    /// until the engine answers it: no container runs before the guard has
    /// judged what the engine made of it.
    creating: tokio::sync::RwLock<()>,
}

/// A request the gate let through.
pub struct Admitted {
    pub routed: Routed,
    /// The path and query to send to the engine.
    pub uri: String,
    /// The query alone, as sent.
    pub query: Option<String>,
    /// The body the guard must read before it goes.
    pub body: Option<guard::Body>,
}

impl Gate {
    pub fn new(policy: Policy, allow_binds: Vec<PathBuf>) -> Gate {
        let guard = (policy != Policy::full()).then_some(Guard { allow_binds });
        Gate {
            policy,
            guard,
            creating: tokio::sync::RwLock::new(()),
        }
    }

    /// Decides the route of `method path?query`, and whether it may pass.
    /// `content_types`: the request's Content-Type headers, as sent.
    pub fn admit(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        content_types: &[&[u8]],
    ) -> Result<Admitted, Refused> {
        let routed = self.decide(route(method, path), method, path)?;
        let body = match &self.guard {
            Some(g) => g
                .check_request(&routed, query, content_types)
                .map_err(guard_refused)?,
            None => None,
        };
        let uri = match query {
            Some(q) => format!("{}?{q}", routed.forward()),
            None => routed.forward(),
        };
        // (A query from the fan-in's or a download's parameter is checked
        // here; one from the request line already is.)
        if PathAndQuery::try_from(uri.as_str()).is_err() {
            return Err(Refused::new(
                StatusCode::BAD_REQUEST,
                format!("refusing {method} {path:?}: its query is not one a URL can carry"),
            ));
        }
        Ok(Admitted {
            routed,
            uri,
            query: query.map(str::to_owned),
            body,
        })
    }

    /// Whether a call to one of the relay's own routes that rules speak of
    /// ([`route::RELAY_ROUTES`]: the recorder's) may pass.
    pub fn admit_relay(&self, method: &str, path: &str) -> Result<(), Refused> {
        self.decide(route::relay_route(method, path), method, path)
            .map(|_| ())
    }

    /// The route a request reaches, if it reaches one the policy allows.
    fn decide(
        &self,
        routed: Result<Routed, berth_engine::RouteError>,
        method: &str,
        path: &str,
    ) -> Result<Routed, Refused> {
        let routed = routed.map_err(|e| {
            Refused::new(
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                format!("refusing {method} {path:?}: {e}"),
            )
        })?;
        self.policy
            .check(&routed)
            .map_err(|why| Refused::new(StatusCode::FORBIDDEN, why))?;
        Ok(routed)
    }

    /// As [`Gate::admit`] for a GET the relay makes on a client's behalf
    /// (the fan-in's streams, a download), which must reach one of
    /// `routes`: `what` says what those are.
    pub fn admit_get(
        &self,
        path_and_query: &str,
        routes: &[&str],
        what: &str,
    ) -> Result<Admitted, Refused> {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        let admitted = self.admit("GET", path, query, &[])?;
        if !routes.contains(&admitted.routed.route.template) {
            return Err(Refused::new(
                StatusCode::BAD_REQUEST,
                format!("{what}; not {}", admitted.routed),
            ));
        }
        Ok(admitted)
    }

    /// Reads a body the guard must see (the engine is asked about what it
    /// names); the body to forward, or the refusal.
    pub async fn check_body(
        &self,
        engine: &Engine,
        kind: guard::Body,
        body: Body,
    ) -> Result<Body, Refused> {
        let Some(g) = &self.guard else {
            return Ok(body);
        };
        let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
            Refused::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a {} body may hold at most {BODY_LIMIT} bytes", kind.what()),
            )
        })?;
        let pending = g.check_body(kind, &bytes).map_err(guard_refused)?;
        resolve(engine, g, pending).await?;
        Ok(Body::from(bytes))
    }

    /// Before a call that enters a container or reaches its files (exec,
    /// attach, archive, export), under the guard: the container must pass
    /// the guard itself, as one whose namespaces a new container shares
    /// must. A container made straight on the engine with a host folder,
    /// privileges or the engine's socket (berth's own, in the compose file)
    /// is not a way around what the guard refuses to create.
    pub async fn check_target(&self, engine: &Engine, routed: &Routed) -> Result<(), Refused> {
        let Some(g) = &self.guard else {
            return Ok(());
        };
        let name = match (routed.route.method, routed.route.template) {
            ("POST", "/containers/{name:.*}/exec")
            | ("POST", "/containers/{name:.*}/attach")
            | ("GET", "/containers/{name:.*}/attach/ws")
            | ("GET" | "HEAD" | "PUT", "/containers/{name:.*}/archive")
            | ("GET", "/containers/{name:.*}/export")
            | ("POST", "/containers/{name:.*}/copy") => routed.param("name").map(str::to_owned),
            ("POST", "/exec/{name:.*}/start") => {
                let exec = routed.param("name").unwrap_or_default();
                let path = format!("/exec/{}/json", berth_engine::route::encode_segment(exec));
                look_up_path(engine, "the exec's container", &path)
                    .await?
                    .and_then(|v| {
                        gojson::members(&v, &["ContainerID"])
                            .ok()?
                            .get("ContainerID")?
                            .as_str()
                            .map(str::to_owned)
                    })
            }
            _ => return Ok(()),
        };
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Err(Refused::new(
                StatusCode::FORBIDDEN,
                format!(
                    "the guard refuses {}: it names no container it can check",
                    routed.route.template
                ),
            ));
        };
        resolve(
            engine,
            g,
            vec![Lookup::Entered {
                name,
                field: "the container".to_owned(),
            }],
        )
        .await
    }

    /// After a guarded container create: the container the engine made,
    /// judged as it made it ([`Guard::check_created`]); one that fails is
    /// removed again, and the client gets the refusal instead of its id.
    pub async fn check_created(&self, engine: &Engine, resp: Response) -> Response {
        let Some(g) = &self.guard else {
            return resp;
        };
        if resp.status() != StatusCode::CREATED {
            return resp;
        }
        let (parts, body) = resp.into_parts();
        let Ok(bytes) = body.collect().await.map(|b| b.to_bytes()) else {
            return refuse(
                StatusCode::BAD_GATEWAY,
                "the engine's answer to the create broke off",
            );
        };
        let id = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["Id"].as_str().map(str::to_owned));
        let Some(id) = id else {
            return refuse(
                StatusCode::BAD_GATEWAY,
                "the engine's answer to the create names no container",
            );
        };
        let judged = async {
            let inspect = look_up_path(engine, "the created container", &format!("/containers/{id}/json"))
                .await?
                .ok_or_else(|| {
                    Refused::new(
                        StatusCode::FORBIDDEN,
                        "the guard refuses the created container: it was gone before it could be checked",
                    )
                })?;
            let pending = g.check_created(&inspect).map_err(guard_refused)?;
            resolve(engine, g, pending).await
        };
        match judged.await {
            Ok(()) => Response::from_parts(parts, Body::from(bytes)),
            Err(refused) => {
                let removed = engine
                    .json(
                        axum::http::Method::DELETE,
                        &format!("/containers/{id}?force=1&v=1"),
                        None,
                    )
                    .await;
                if let Err(e) = removed {
                    tracing::error!(container = %id, "the guard refused a created container and could not remove it: {}", e.message);
                }
                refused.into_response()
            }
        }
    }
}

/// The guard's refusal as the relay's: a body that is not JSON at all is a
/// bad request, anything else forbidden.
fn guard_refused(r: guard::Refusal) -> Refused {
    let status = if r.malformed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::FORBIDDEN
    };
    Refused::new(status, format!("the guard refuses {r}"))
}

/// Asks the engine about each lookup (and what their answers name in turn)
/// and has the guard judge the answers.
async fn resolve(engine: &Engine, g: &Guard, mut pending: Vec<Lookup>) -> Result<(), Refused> {
    let mut seen: Vec<Lookup> = Vec::new();
    while let Some(lookup) = pending.pop() {
        if seen.contains(&lookup) {
            continue;
        }
        if seen.len() == MAX_LOOKUPS {
            return Err(Refused::new(
                StatusCode::FORBIDDEN,
                format!(
                    "the guard refuses {}: it names too much to look up",
                    lookup.field()
                ),
            ));
        }
        let answer = look_up(engine, &lookup).await?;
        pending.extend(
            g.check_lookup(&lookup, answer.as_ref())
                .map_err(guard_refused)?,
        );
        seen.push(lookup);
    }
    Ok(())
}

/// What the engine says of a lookup: `None` when it has no such thing.
async fn look_up(engine: &Engine, lookup: &Lookup) -> Result<Option<gojson::Json>, Refused> {
    look_up_path(engine, lookup.field(), &lookup.path()).await
}

/// What the engine answers to `GET path`, read as Go reads it: `None` for
/// a 404. `field`: what it is for, to say so when it fails.
async fn look_up_path(
    engine: &Engine,
    field: &str,
    path: &str,
) -> Result<Option<gojson::Json>, Refused> {
    let cannot = |why: String| {
        Refused::new(
            StatusCode::FORBIDDEN,
            format!("the guard refuses {field}: it could not look it up ({why})"),
        )
    };
    let req = hyper::Request::get(engine.uri(path).map_err(|e| cannot(e.to_string()))?)
        .body(Body::empty())
        .expect("a valid request");
    let resp = engine
        .client
        .request(req)
        .await
        .map_err(|e| cannot(engine.error(&e).to_string()))?;
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| cannot(e.to_string()))?
        .to_bytes();
    match status {
        StatusCode::NOT_FOUND => Ok(None),
        s if s.is_success() => gojson::parse(&bytes).map(Some).map_err(cannot),
        s => Err(cannot(berth_engine::error_message(s.as_u16(), &bytes))),
    }
}

/// One audit line for a call that changes something or copies data out,
/// with the engine's answer.
pub fn audit(client: &str, routed: &Routed, status: StatusCode) {
    if routed.route.class != Class::Read {
        info!(target: "berth::audit", %client, method = %routed.method, path = %routed.path.display(), route = %routed.route.template, status = status.as_u16());
    }
}

/// Every request that is not the relay's own: through the gate, then to
/// the engine.
pub async fn pass(State(state): State<AppState>, req: Request) -> Response {
    let gate = &state.gate;
    let client = crate::access::client_ip(&req).map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let content_types: Vec<&[u8]> = req
        .headers()
        .get_all(header::CONTENT_TYPE)
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let admitted = match gate.admit(
        req.method().as_str(),
        req.uri().path(),
        req.uri().query(),
        &content_types,
    ) {
        Ok(a) => a,
        Err(refused) => {
            info!(target: "berth::audit", %client, method = %req.method(), path = %req.uri().path(), outcome = "refused", status = refused.status.as_u16());
            drain(req.into_body()).await;
            return refused.into_response();
        }
    };
    if let Err(refused) = gate.check_target(&state.engine, &admitted.routed).await {
        let routed = &admitted.routed;
        info!(target: "berth::audit", %client, method = %routed.method, path = %routed.path.display(), outcome = "refused by the guard", status = refused.status.as_u16());
        drain(req.into_body()).await;
        return refused.into_response();
    }
    let (mut parts, body) = req.into_parts();
    match state.engine.uri(&admitted.uri) {
        Ok(uri) => parts.uri = uri,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("refusing the path: {e}")),
    }
    let body = match admitted.body {
        Some(kind) => match gate.check_body(&state.engine, kind, body).await {
            Ok(b) => b,
            Err(refused) => {
                let routed = &admitted.routed;
                info!(target: "berth::audit", %client, method = %routed.method, path = %routed.path.display(), outcome = "refused by the guard", status = refused.status.as_u16());
                return refused.into_response();
            }
        },
        None => body,
    };
    let req = Request::from_parts(parts, body);
    let template = admitted.routed.route.template;
    let resp = if gate.guard.is_some() && admitted.body == Some(guard::Body::ContainerCreate) {
        // In a task of its own: a client that hangs up once the engine has
        // made the container must not leave it unjudged (or unaudited).
        let state = state.clone();
        let routed = admitted.routed;
        let judged = tokio::spawn(async move {
            let _creating = state.gate.creating.read().await;
            let resp = crate::proxy::forward(&state, req).await;
            let resp = state.gate.check_created(&state.engine, resp).await;
            audit(&client, &routed, resp.status());
            resp
        });
        judged.await.unwrap_or_else(|e| {
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the create's check failed: {e}"),
            )
        })
    } else {
        let _starting = match gate.guard.is_some() && starts(&admitted.routed) {
            true => Some(gate.creating.write().await),
            false => None,
        };
        let resp = crate::proxy::forward(&state, req).await;
        audit(&client, &admitted.routed, resp.status());
        resp
    };
    if gate.guard.is_some() && template == "/swarm" {
        return redacted(resp, guard::redact_swarm).await;
    }
    if gate.guard.is_some() && guard::carries_env(template) {
        return redacted(resp, guard::redact_env).await;
    }
    resp
}

/// Whether a call starts a container (one just created, perhaps).
fn starts(routed: &Routed) -> bool {
    matches!(
        (routed.route.method, routed.route.template),
        ("POST", "/containers/{name:.*}/start") | ("POST", "/containers/{name:.*}/restart")
    )
}

/// Reads what a refused client is still sending. A client writing a body
/// (docker build's context) reads the answer only once it has sent it, and
/// would otherwise print "broken pipe" instead of why it was refused.
async fn drain(mut body: Body) {
    let mut read = 0;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, |d| d.len());
            if read > DRAIN_LIMIT {
                break;
            }
        }
    })
    .await;
}

/// An answer with what a guarded relay does not hand out taken out of its
/// JSON document (`redact`): `GET /swarm`'s join tokens, environments'
/// values. Errors and anything not JSON pass as they are.
async fn redacted(resp: Response, redact: fn(&mut serde_json::Value)) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = body.collect().await.map(|b| b.to_bytes()) else {
        return refuse(StatusCode::BAD_GATEWAY, "the engine's answer broke off");
    };
    let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    redact(&mut doc);
    let out = doc.to_string();
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
    Response::from_parts(parts, Body::from(out))
}
