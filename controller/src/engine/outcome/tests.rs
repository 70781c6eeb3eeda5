//! The rules of `outcome`, one answer at a time.

use bytes::Bytes;
use uuid::Uuid;

use super::*;

fn record() -> Record {
    let now = Timestamp::now();
    let body = json!({"aps": {"id": "r", "type": "t", "revision": 2}, "size": 1});
    serde_json::from_value(json!({
        "task": {
            "id": Uuid::new_v4(), "name": "n", "operation": "provision",
            "application": Uuid::new_v4(),
            "resource": {"id": Uuid::new_v4(), "type": "t", "service": "s", "href": "/"},
            "state": "running", "description": null, "output": null, "attempts": 0,
            "nextCheck": null, "retryAfter": null, "creationTime": now, "lastModified": now,
            "completionTime": null, "revision": 1, "error": null, "statusURI": "/s",
            "resultURI": "/r"
        },
        "work": {
            "transaction_id": Uuid::new_v4(), "phase_async": false, "endpoint": "http://e",
            "body": body, "failures": 0, "deadline": now.plus(Duration::from_secs(60)),
            "callback_url": null, "result": null
        }
    }))
    .unwrap()
}

fn reply(status: u16, info: Option<&str>, body: &str) -> Result<Reply, Unreachable> {
    Ok(Reply {
        status,
        info: info.map(str::to_owned),
        retry: aps_protocol::RetryTimeout::DEFAULT,
        retry_after: None,
        transient: aps_protocol::busy::is_transient(status),
        body: Bytes::from(body.to_owned()),
    })
}

fn context(sent: Option<&Value>) -> Context<'_> {
    Context {
        stored: None,
        sent,
        scale: TimeScale::new(1000.0),
    }
}

fn put(applied: &Applied) -> &Value {
    match &applied.resource {
        ResourceChange::Put(row) => &row.body,
        other => panic!("expected a put, got {other:?}"),
    }
}

#[test]
fn an_aps_that_is_not_an_object_is_replaced_and_said() {
    for aps in [r#""x""#, "9.3e18", "[1]", "null", "true"] {
        let mut r = record();
        let body = format!(r#"{{"aps": {aps}, "size": 5}}"#);
        let applied = apply(&mut r, reply(200, None, &body), context(None));
        assert_eq!(r.task.state, State::Success, "{aps}");
        let stored = put(&applied);
        assert_eq!(stored["size"], 5, "{aps}");
        assert_eq!(stored["aps"]["id"], "r", "{aps}");
        assert_eq!(stored["aps"]["revision"], 3, "{aps}");
        let output = r.task.output.unwrap();
        assert!(output.contains("`aps` is not an object"), "{aps}: {output}");
        // The same on a 202: the task goes on with the repaired resource.
        let mut r = record();
        let applied = apply(&mut r, reply(202, None, &body), context(None));
        assert_eq!(put(&applied)["aps"]["status"], "aps:provisioning", "{aps}");
    }
}

#[test]
fn a_body_that_is_not_an_object_is_ignored_and_said() {
    for body in ["OK, done.", "[1,2]", "\"x\"", "{not json"] {
        let mut r = record();
        let applied = apply(&mut r, reply(200, Some("all set"), body), context(None));
        assert_eq!(r.task.state, State::Success);
        assert_eq!(put(&applied)["size"], 1, "the resource as sent");
        let output = r.task.output.unwrap();
        assert!(
            output.starts_with(
                "all set (the endpoint answered 200, but its body is not a JSON object"
            ),
            "{output}"
        );
    }
    let mut r = record();
    apply(&mut r, reply(204, None, " \n"), context(None));
    assert_eq!(r.task.output, None, "no body is no fault");
}

#[test]
fn the_latest_info_comes_back_after_connection_failures() {
    let mut r = record();
    apply(&mut r, reply(202, Some("step 1"), "{}"), context(None));
    apply(&mut r, reply(202, Some("step 2"), "{}"), context(None));
    for _ in 0..3 {
        let down = Err(Unreachable("connection refused".into()));
        apply(&mut r, down, context(None));
        assert!(
            r.task
                .output
                .as_deref()
                .unwrap()
                .contains("could not be reached")
        );
    }
    apply(&mut r, reply(202, None, "{}"), context(None));
    assert_eq!(r.task.output.as_deref(), Some("step 2"));
    apply(&mut r, Err(Unreachable("reset".into())), context(None));
    apply(&mut r, reply(200, None, "{}"), context(None));
    assert_eq!(r.task.state, State::Success);
    assert_eq!(r.task.output.as_deref(), Some("step 2"));
    assert_eq!(r.task.description.as_deref(), Some("step 1"));
    // The latest is stored with the record: read back (a restart), it still comes back.
    let mut r = record();
    for info in ["first", "second"] {
        apply(&mut r, reply(202, Some(info), "{}"), context(None));
    }
    apply(&mut r, Err(Unreachable("down".into())), context(None));
    let text = serde_json::to_string(&r).unwrap();
    let mut r: Record = serde_json::from_str(&text).unwrap();
    apply(&mut r, reply(200, None, "{}"), context(None));
    assert_eq!(r.task.output.as_deref(), Some("second"));
}

#[test]
fn the_info_history_keeps_the_latest_messages_once_each() {
    let mut r = record();
    for n in 0..60 {
        let info = format!("step {n}");
        // A recheck repeating its message adds no entry.
        apply(&mut r, reply(202, Some(&info), "{}"), context(None));
        apply(&mut r, reply(202, Some(&info), "{}"), context(None));
    }
    let texts: Vec<&str> = r.work.infos.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts.len(), crate::task::INFOS_KEPT);
    assert_eq!(texts.first(), Some(&"step 10"));
    assert_eq!(texts.last(), Some(&"step 59"));
    assert_eq!(r.task.description.as_deref(), Some("step 0"));
}

#[test]
fn a_change_made_while_a_call_was_out_outlives_its_answer() {
    let mut r = record();
    let sent = r.work.body.as_ref().map(JsonText::value);
    // The endpoint changed `size` (PUT /aps/2) while the call carrying size 1 was out.
    let changed = json!({"aps": {"id": "r", "type": "t", "revision": 3}, "size": 7});
    r.work.body = Some(JsonText::new(&changed));
    let answer = reply(202, None, r#"{"aps": {"id": "r"}, "size": 1, "job": "j"}"#);
    let applied = apply(&mut r, answer, context(sent.as_ref()));
    let stored = put(&applied);
    assert_eq!(
        (stored["size"].clone(), stored["job"].clone()),
        (json!(7), json!("j"))
    );
    assert_eq!(stored["aps"]["revision"], 4);
    assert_eq!(r.work.body.unwrap().value(), *stored);
}

#[test]
fn no_delay_outlasts_the_deadline() {
    let mut r = record();
    r.work.deadline = Timestamp::now().plus(Duration::from_secs(2));
    let mut answer = reply(202, None, "{}").unwrap();
    answer.retry = aps_protocol::RetryTimeout::MAX;
    let slow = Context {
        scale: TimeScale::new(1e-20),
        ..context(None)
    };
    let applied = apply(&mut r, Ok(answer), slow);
    let delay = applied.next.unwrap();
    assert!(delay <= Duration::from_secs(2) + PAST_DEADLINE, "{delay:?}");
    assert!(delay > Duration::from_secs(1), "{delay:?}");
}
