//! What the relay and the console must agree on about the relay's own
//! endpoints, under `/_berth` (a prefix no Engine API path uses).

/// The Engine routes the fan-in carries: streams a page may need many of.
pub const FANIN_ROUTES: &[&str] = &[
    "/containers/{name:.*}/logs",
    "/containers/{name:.*}/stats",
    "/services/{id}/logs",
    "/tasks/{id}/logs",
    "/events",
];

/// The Engine routes a download saves: archives of a container's or an
/// image's files.
pub const DOWNLOAD_ROUTES: &[&str] = &[
    "/containers/{name:.*}/export",
    "/containers/{name:.*}/archive",
    "/images/get",
    "/images/{name:.*}/get",
];
