//! The WebSocket bridge to exec (issue 3's tickets and Origin check; the
//! console's terminal builds on it).

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

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(
    relay: &Relay,
    exec: &str,
    ticket: &str,
    origin: Option<&str>,
) -> Result<Socket, u16> {
    open_at(relay, &format!("/_berth/exec/{exec}/ws"), ticket, origin).await
}

async fn open_at(
    relay: &Relay,
    path: &str,
    ticket: &str,
    origin: Option<&str>,
) -> Result<Socket, u16> {
    let url = format!("ws://127.0.0.1:{}{path}?ticket={ticket}", relay.port);
    let mut req = url.into_client_request().unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("Origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// Everything until the bridge closes: output bytes and the exit message.
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

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_opens_one_terminal_and_stdin_eof_keeps_the_output() {
    let c = Container::run("ws", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(
        &relay,
        &c.name,
        &["sh", "-c", "cat; echo done >&2; exit 3"],
        false,
    );

    assert_eq!(open(&relay, &exec, "made-up", None).await.err(), Some(401));
    let t = ticket(&relay);
    let own = format!("http://127.0.0.1:{}", relay.port);
    let mut ws = open(&relay, &exec, &t, Some(&own))
        .await
        .expect("the terminal opens");
    // Single use.
    assert_eq!(open(&relay, &exec, &t, None).await.err(), Some(401));

    ws.send(Message::Binary(b"typed\n".to_vec().into()))
        .await
        .unwrap();
    ws.send(Message::Text(r#"{"type":"eof"}"#.into()))
        .await
        .unwrap();
    let (bytes, exit) = drain(&mut ws).await;
    // No TTY: the bytes are the engine's multiplexed frames, as they came.
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
}

#[tokio::test(flavor = "multi_thread")]
async fn resize_reaches_the_tty() {
    let c = Container::run("ws-tty", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(&relay, &c.name, &["sh", "-c", "read line; stty size"], true);
    let mut ws = open(&relay, &exec, &ticket(&relay), None).await.unwrap();
    ws.send(Message::Text(
        r#"{"type":"resize","rows":33,"cols":99}"#.into(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    ws.send(Message::Binary(b"\n".to_vec().into()))
        .await
        .unwrap();
    let (bytes, exit) = drain(&mut ws).await;
    assert!(text(&bytes).contains("33 99"), "{:?}", text(&bytes));
    assert_eq!(exit["code"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_origins_and_policies_close_the_door() {
    let c = Container::run("ws-deny", &[IMAGE, "sleep", "600"]);
    let relay = Relay::start();
    let exec = create_exec(&relay, &c.name, &["true"], false);
    let foreign = open(&relay, &exec, &ticket(&relay), Some("http://evil.example")).await;
    assert_eq!(foreign.err(), Some(403));

    // A read-only relay hands out tickets, but no terminal.
    let ro = Relay::start_with(&engine(), &["--policy", "read-only"]);
    assert_eq!(open(&ro, &exec, &ticket(&ro), None).await.err(), Some(403));
    // Not an exec id: refused before any engine call.
    assert_eq!(
        open(&relay, "..%2Fcontainers", &ticket(&relay), None)
            .await
            .err(),
        Some(400)
    );
}

/// Reads until `want` shows in the output (or 10 s pass).
async fn read_until(ws: &mut Socket, want: &str) -> String {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !text(&seen).contains(want) {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => seen.extend_from_slice(&b),
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    text(&seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn attach_reaches_the_main_process_and_closing_detaches() {
    for tty in [true, false] {
        let flags = if tty { "-it" } else { "-i" };
        let c = Container::run("attach", &[flags, IMAGE, "sh"]);
        let relay = Relay::start();
        let path = format!("/_berth/attach/{}/ws", c.name);
        let mut ws = open_at(&relay, &path, &ticket(&relay), None).await.unwrap();
        ws.send(Message::Binary(
            b"echo attached-$((40+2))\n".to_vec().into(),
        ))
        .await
        .unwrap();
        let seen = read_until(&mut ws, "attached-42").await;
        assert!(seen.contains("attached-42"), "tty {tty}: {seen:?}");
        if !tty {
            // Without a TTY the frames are multiplexed, as the engine sent them.
            assert_eq!(seen.as_bytes()[0], 1, "a stdout frame header");
        }
        ws.close(None).await.unwrap();
        drop(ws);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(
            c.state(),
            "running",
            "closing the socket detaches (tty {tty})"
        );
    }
    // Container names are ids too, but nothing that could leave the segment.
    let relay = Relay::start();
    let bad = open_at(
        &relay,
        "/_berth/attach/..%2Fimages/ws",
        &ticket(&relay),
        None,
    )
    .await;
    assert_eq!(bad.err(), Some(400));
}
