//! Terminal sessions: held by the relay, joined by WebSocket with a
//! ticket, replayed to a page that comes back, shared by several pages,
//! ended on request or when idle.

use std::time::Duration;

use berth_engine::relay::{Mode, Open, Session};
use berth_engine::{MuxDecoder, StreamKind};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::util::*;

fn ticket(relay: &Relay) -> String {
    let out = curl(Some(relay), &["-X", "POST"], "/_berth/tickets");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["ticket"].as_str().unwrap().to_owned()
}

/// Creates an exec in `container` running `cmd`, through the relay.
fn create_exec(relay: &Relay, container: &str, cmd: &[&str], tty: bool) -> String {
    let body = serde_json::json!({
        "Cmd": cmd, "AttachStdin": true, "AttachStdout": true, "AttachStderr": true, "Tty": tty,
    });
    let out = curl(
        Some(relay),
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
        ],
        &format!("/v1.41/containers/{container}/exec"),
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stdout)));
    v["Id"].as_str().unwrap().to_owned()
}

/// Starts a session: what the relay says of it, or the status and words
/// of its refusal.
fn start(relay: &Relay, open: &Open) -> Result<Session, (String, String)> {
    let out = curl(
        Some(relay),
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            &serde_json::to_string(open).unwrap(),
            "-w",
            "\n%{http_code}",
        ],
        "/_berth/sessions",
    );
    let all = text(&out.stdout);
    let (body, code) = all.rsplit_once('\n').unwrap();
    match code {
        "201" => Ok(serde_json::from_str(body).unwrap()),
        _ => Err((code.to_owned(), body.to_owned())),
    }
}

fn sessions(relay: &Relay, container: &str) -> Vec<Session> {
    let out = curl(
        Some(relay),
        &[],
        &format!("/_berth/sessions?container={container}"),
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stdout)))
}

fn end(relay: &Relay, id: &str) -> String {
    let out = curl(
        Some(relay),
        &["-X", "DELETE", "-o", "/dev/null", "-w", "%{http_code}"],
        &format!("/_berth/sessions/{id}"),
    );
    text(&out.stdout)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn join(
    relay: &Relay,
    session: &str,
    ticket: &str,
    mode: Mode,
    origin: Option<&str>,
) -> Result<Socket, u16> {
    let path = berth_engine::relay::ws::session(session, ticket, mode);
    let mut req = format!("ws://127.0.0.1:{}{path}", relay.port)
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("Origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

async fn join_rw(relay: &Relay, session: &str) -> Socket {
    join(relay, session, &ticket(relay), Mode::Write, None)
        .await
        .expect("the session opens")
}

/// Everything until the session closes the socket: output and the exit.
async fn drain(socket: &mut Socket) -> (Vec<u8>, serde_json::Value) {
    let (mut bytes, mut exit) = (Vec::new(), serde_json::Value::Null);
    while let Some(Ok(msg)) = socket.next().await {
        match msg {
            Message::Binary(b) => bytes.extend_from_slice(&b),
            Message::Text(t) => exit = serde_json::from_str(&t).unwrap(),
            Message::Close(_) => break,
            _ => {}
        }
    }
    (bytes, exit)
}

/// Reads until `want` shows in the output (or 10 s pass).
async fn read_until(ws: &mut Socket, want: &str) -> String {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text(&seen).contains(want) {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => seen.extend_from_slice(&b),
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    text(&seen)
}

/// The number written right after `key` (the echo of the command shows
/// `key$$`, its output `key123`).
fn number_after(text: &str, key: &str) -> Option<String> {
    text.match_indices(key).find_map(|(i, _)| {
        let n: String = text[i + key.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (!n.is_empty()).then_some(n)
    })
}

async fn type_in(ws: &mut Socket, s: &str) {
    ws.send(Message::Binary(s.as_bytes().to_vec().into()))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_joins_a_session_and_stdin_eof_keeps_the_output() {
    let c = Container::run("ws", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(
        &relay,
        &c.name,
        &["sh", "-c", "cat; echo done >&2; exit 3"],
        false,
    );
    let s = start(&relay, &Open::Exec(exec)).unwrap();
    assert_eq!((s.owner.as_str(), s.tty, s.attach), ("local", false, false));
    assert!(s.command.contains("cat; echo done"), "{}", s.command);

    assert_eq!(
        join(&relay, &s.id, "made-up", Mode::Write, None)
            .await
            .err(),
        Some(401)
    );
    let t = ticket(&relay);
    let own = format!("http://127.0.0.1:{}", relay.port);
    let mut ws = join(&relay, &s.id, &t, Mode::Write, Some(&own))
        .await
        .unwrap();
    // Single use.
    assert_eq!(
        join(&relay, &s.id, &t, Mode::Write, None).await.err(),
        Some(401)
    );

    type_in(&mut ws, "typed\n").await;
    ws.send(Message::Text(r#"{"type":"eof"}"#.into()))
        .await
        .unwrap();
    let (bytes, exit) = drain(&mut ws).await;
    // No TTY: whole multiplexed frames.
    let mut mux = MuxDecoder::new();
    mux.push(&bytes);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while let Some(frame) = mux.next_frame() {
        let frame = frame.unwrap();
        match frame.stream {
            StreamKind::Stdout => out.extend(frame.payload),
            _ => err.extend(frame.payload),
        }
    }
    assert_eq!(
        (text(&out), text(&err)),
        ("typed\n".into(), "done\n".into())
    );
    assert_eq!(exit, serde_json::json!({ "type": "exit", "code": 3 }));
    // An ended session is gone.
    wait_for("the session to go", Duration::from_secs(5), || {
        sessions(&relay, &c.name).is_empty()
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn resize_reaches_the_tty() {
    let c = Container::run("ws-tty", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(&relay, &c.name, &["sh", "-c", "read line; stty size"], true);
    let s = start(&relay, &Open::Exec(exec)).unwrap();
    let mut ws = join_rw(&relay, &s.id).await;
    ws.send(Message::Text(
        r#"{"type":"resize","rows":33,"cols":99}"#.into(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    type_in(&mut ws, "\n").await;
    let (bytes, exit) = drain(&mut ws).await;
    assert!(text(&bytes).contains("33 99"), "{:?}", text(&bytes));
    assert_eq!(exit["code"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_origins_and_policies_close_the_door() {
    let c = Container::run("ws-deny", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(&relay, &c.name, &["sleep", "60"], false);
    let s = start(&relay, &Open::Exec(exec.clone())).unwrap();
    let foreign = join(
        &relay,
        &s.id,
        &ticket(&relay),
        Mode::Write,
        Some("http://evil.example"),
    )
    .await;
    assert_eq!(foreign.err(), Some(403));
    assert_eq!(end(&relay, &s.id), "204");

    // A read-only relay hands out tickets, but no session.
    let ro = Relay::start_with(&engine(), &["--policy", "read-only"]);
    let (code, words) = start(&ro, &Open::Exec(exec)).unwrap_err();
    assert_eq!(code, "403");
    assert!(words.contains("read-only policy"), "{words}");
    // Not an id: refused before any engine call.
    let (code, _) = start(&relay, &Open::Exec("../containers".into())).unwrap_err();
    assert_eq!(code, "400");
    assert_eq!(
        join(&relay, "no-such", &ticket(&relay), Mode::Write, None)
            .await
            .err(),
        Some(404)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_outlives_its_page_and_replays_the_screen() {
    let c = Container::run("ws-keep", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(&relay, &c.name, &["sh"], true);
    let s = start(&relay, &Open::Exec(exec.clone())).unwrap();
    let mut page = join_rw(&relay, &s.id).await;
    type_in(&mut page, "echo shell=$$\n").await;
    let mut first = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while number_after(&first, "shell=").is_none() && std::time::Instant::now() < deadline {
        first.push_str(&read_until(&mut page, "shell=").await);
    }
    let pid = number_after(&first, "shell=").expect("the shell's pid");
    // The page goes (navigated away, reloaded, lost the network).
    drop(page);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listed = sessions(&relay, &c.name);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].viewers, 0);

    // It comes back: the screen as it was, and the same shell.
    let mut back = join_rw(&relay, &s.id).await;
    let replay = read_until(&mut back, "shell=").await;
    assert!(replay.contains("echo shell=$$"), "{replay:?}");
    type_in(&mut back, "echo again=$$\n").await;
    let again = read_until(&mut back, &format!("again={pid}")).await;
    assert!(again.contains(&format!("again={pid}")), "{pid}: {again:?}");
    assert_eq!(end(&relay, &s.id), "204");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_share_a_session_and_a_watcher_cannot_type() {
    let c = Container::run("ws-share", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(&relay, &c.name, &["sh"], true);
    let s = start(&relay, &Open::Exec(exec)).unwrap();
    let mut one = join_rw(&relay, &s.id).await;
    let mut two = join_rw(&relay, &s.id).await;
    let mut watcher = join(&relay, &s.id, &ticket(&relay), Mode::Watch, None)
        .await
        .unwrap();
    type_in(&mut one, "echo from-$((1+1))-one\n").await;
    for ws in [&mut one, &mut two, &mut watcher] {
        assert!(read_until(ws, "from-2-one").await.contains("from-2-one"));
    }
    type_in(&mut watcher, "echo from-watcher\n").await;
    type_in(&mut two, "echo from-$((1+1))-two\n").await;
    let seen = read_until(&mut one, "from-2-two").await;
    assert!(
        seen.contains("from-2-two") && !seen.contains("from-watcher"),
        "{seen:?}"
    );
    assert_eq!(sessions(&relay, &c.name)[0].viewers, 3);
    assert_eq!(end(&relay, &s.id), "204");
}

#[tokio::test(flavor = "multi_thread")]
async fn ending_a_session_ends_its_process() {
    let c = Container::run("ws-end", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(
        &relay,
        &c.name,
        &["sh", "-c", "echo started; sleep 677"],
        false,
    );
    let s = start(&relay, &Open::Exec(exec.clone())).unwrap();
    let mut page = join_rw(&relay, &s.id).await;
    read_until(&mut page, "started").await;
    wait_for("the process to run", Duration::from_secs(10), || {
        docker_ok(&engine(), &["top", &c.name]).contains("sleep 677")
    });
    assert_eq!(end(&relay, &s.id), "204");
    let (_, exit) = drain(&mut page).await;
    assert_eq!(exit["type"], "exit");
    wait_for("the process to end", Duration::from_secs(10), || {
        !docker_ok(&engine(), &["top", &c.name]).contains("sleep 677")
    });
    assert!(sessions(&relay, &c.name).is_empty());
    assert_eq!(end(&relay, &s.id), "404");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_session_ends_by_itself() {
    let c = Container::run("ws-idle", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start_with(&engine(), &["--terminal-idle", "2s"]);
    let exec = create_exec(&relay, &c.name, &["sh", "-c", "sleep 688"], false);
    start(&relay, &Open::Exec(exec)).unwrap();
    assert_eq!(sessions(&relay, &c.name).len(), 1);
    wait_for("the idle session to end", Duration::from_secs(15), || {
        sessions(&relay, &c.name).is_empty()
    });
    wait_for("its process to end", Duration::from_secs(10), || {
        !docker_ok(&engine(), &["top", &c.name]).contains("sleep 688")
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn attach_reaches_the_main_process_and_ending_detaches() {
    for tty in [true, false] {
        let flags = if tty { "-it" } else { "-i" };
        let c = Container::run("attach", &[flags, IMAGE, "sh"]);
        let relay = Relay::start();
        let s = start(&relay, &Open::Attach(c.name.clone())).unwrap();
        assert!(s.attach && s.tty == tty);
        let mut ws = join_rw(&relay, &s.id).await;
        type_in(&mut ws, "echo attached-$((40+2))\n").await;
        let seen = read_until(&mut ws, "attached-42").await;
        assert!(seen.contains("attached-42"), "tty {tty}: {seen:?}");
        if !tty {
            // Without a TTY the frames are multiplexed, as the engine sent them.
            assert_eq!(seen.as_bytes()[0], 1, "a stdout frame header");
        }
        assert_eq!(end(&relay, &s.id), "204");
        drop(ws);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            c.state(),
            "running",
            "ending an attach detaches (tty {tty})"
        );
    }
}
