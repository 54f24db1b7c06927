//! The event closed loop over HTTP: intake, every move and role, conflicts, idempotency,
//! timers across a restart, webhooks and indicators — on both databases.

use crate::both;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The demo grid worker's grid, its township and a point inside it.
async fn place(app: &TestApp) -> (String, String, (f64, f64)) {
    let worker = app.login("grid_worker").await;
    let (_, me) = worker.get("/api/auth/me").await;
    let grid = me["area_code"].as_str().unwrap().to_owned();
    let pt = point_in(&worker, &grid).await;
    (grid.clone(), grid[..9].to_owned(), pt)
}

async fn report(api: &Api, cat: &str, pt: (f64, f64), photos: &[Vec<u8>]) -> Value {
    let (s, b) = api
        .post_form(
            "/api/events",
            json!({"category": cat, "description": "测试事件", "lon": pt.0, "lat": pt.1}),
            photos,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["event"].clone()
}

async fn mv(api: &Api, id: &str, body: Value) -> (StatusCode, Value) {
    api.post(&format!("/api/events/{id}/moves"), body).await
}

async fn ok(api: &Api, id: &str, body: Value) -> Value {
    let (s, b) = mv(api, id, body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{body} → {b}");
    b
}

async fn unread(api: &Api) -> i64 {
    api.get("/api/notifications/unread-count").await.1["unread"]
        .as_i64()
        .unwrap()
}

async fn whole_loop(b: Backend) {
    let app = TestApp::demo(b).await;
    let (grid, township, pt) = place(&app).await;
    let worker = app.login("grid_worker").await;
    let town = app.login("town_centre").await;
    let liaison = app.login("dept_liaison").await;

    // 网格员上报（带照片）→ 待受理, with the grid found from the position.
    let ev = report(&worker, "0606", pt, &[jpeg(1)]).await;
    let id = ev["id"].as_str().unwrap().to_owned();
    assert_eq!(ev["grid_code"], grid);
    assert_eq!(ev["centre_area"], township);
    assert_eq!(ev["state"], "reported");
    let case = ev["case_no"].as_str().unwrap();
    assert!(case.starts_with("3715") && case.len() == 17, "{case}");

    // 受理 → 派遣 to 区城管局 with the catalog's deadline.
    let d = ok(&town, &id, json!({"action": "accept"})).await;
    assert_eq!(d["state"], "accepted");
    // No open event of its kind nearby: nothing to merge into, so no 合并.
    assert!(
        !d["actions"].as_array().unwrap().contains(&json!("merge")),
        "{d}"
    );
    assert!(
        d["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("dispatch"))
    );
    let (s, deps) = town.get(&format!("/api/departments?area={township}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        deps.as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == "371502-cgj")
    );
    let d = ok(
        &town,
        &id,
        json!({"action": "dispatch", "department_id": "371502-cgj", "note": "请处置"}),
    )
    .await;
    assert_eq!(d["state"], "dispatched");
    assert_eq!(d["current"]["step"], "sign");
    assert!(unread(&liaison).await >= 1, "the liaison is told");

    // 签收 → 处置反馈（带照片）.
    let d = ok(&liaison, &id, json!({"action": "sign_for"})).await;
    assert_eq!(d["state"], "handling");
    let (s, d) = liaison
        .post_form(
            &format!("/api/events/{id}/moves"),
            json!({"action": "handle", "note": "已清理占道摊点"}),
            &[jpeg(2)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["state"], "verifying");

    // 核查 by the grid worker (not the handler), 评价 by the centre → 已结案.
    assert!(unread(&worker).await >= 1);
    let d = ok(
        &worker,
        &id,
        json!({"action": "verify_pass", "note": "现场已恢复"}),
    )
    .await;
    assert_eq!(d["state"], "evaluating");
    let d = ok(
        &town,
        &id,
        json!({"action": "evaluate", "evaluation": "satisfied", "note": "群众满意"}),
    )
    .await;
    assert_eq!(d["state"], "closed");
    assert_eq!(d["evaluation"], "satisfied");
    assert!(d["actions"].as_array().unwrap().is_empty());
    // Names, not codes, for the grid, the centre and the department.
    assert!(
        d["grid_name"].as_str().unwrap().contains("网格"),
        "{}",
        d["grid_name"]
    );
    assert_eq!(d["centre_name"], "古楼街道");
    assert!(
        d["assignee_name"]
            .as_str()
            .unwrap()
            .contains("综合行政执法"),
        "{}",
        d["assignee_name"]
    );

    // The timeline: every move with who, role, from → to; photos on the report and feedback.
    let tl = d["timeline"].as_array().unwrap();
    let actions: Vec<&str> = tl.iter().map(|m| m["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "report",
            "accept",
            "dispatch",
            "sign_for",
            "handle",
            "verify_pass",
            "evaluate"
        ]
    );
    assert_eq!(tl[2]["actor_role"], "centre_operator");
    assert_eq!(tl[2]["from_state"], "accepted");
    assert_eq!(tl[2]["to_state"], "dispatched");
    assert_eq!(tl[2]["detail"]["department_id"], "371502-cgj");
    assert_eq!(tl[0]["photos"].as_array().unwrap().len(), 1);
    assert_eq!(tl[4]["photos"].as_array().unwrap().len(), 1);
    let url = tl[4]["photos"][0]["url"].as_str().unwrap();
    let (s, ct, bytes) = town.get_bytes(url).await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "image/jpeg"));
    assert_eq!(bytes, jpeg(2));
    let thumb = tl[4]["photos"][0]["thumb_url"].as_str().unwrap();
    assert_eq!(thumb, format!("{url}&thumb=1"));
    let (s, ct, _) = town.get_bytes(thumb).await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "image/jpeg"));
    // Without the event, the photo is found through the events that carry it; an event that
    // does not carry it gives nothing.
    let bare = url.split('?').next().unwrap();
    assert_eq!(town.get_bytes(bare).await.0, StatusCode::OK);
    let sha = bare.rsplit('/').next().unwrap();
    assert_eq!(
        town.get_bytes(&format!("/api/files/{sha}?event=another-event"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Another township's operator sees neither the event nor its photo.
    let other = app.login("town_centre2").await;
    assert_eq!(
        other.get(&format!("/api/events/{id}")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(other.get_bytes(url).await.0, StatusCode::FORBIDDEN);
    // The reporter hears of the closure; the inbox can be read and marked.
    let (_, inbox) = worker.get("/api/notifications?unread=true").await;
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "closed"),
        "{inbox}"
    );
    let (s, m) = worker.post("/api/notifications/read-all", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert!(m["marked"].as_u64().unwrap() >= 2);
    assert_eq!(unread(&worker).await, 0);
    // Every move left an audit row and the chain holds.
    let out = app.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
both!(whole_loop);

async fn bad_input_and_roles(b: Backend) {
    let cfg = civgrid_server::config::Config {
        max_photo_bytes: 20_000,
        ..Default::default()
    };
    let app = TestApp::demo_with(b, cfg).await;
    let (_, township, pt) = place(&app).await;
    let worker = app.login("grid_worker").await;
    let town = app.login("town_centre").await;
    let citizen = app.login("citizen").await;

    let post = |body: Value| {
        let w = worker.clone();
        async move { w.post("/api/events", body).await }
    };
    let base = json!({"category": "0504", "description": "夜间施工噪声", "lon": pt.0, "lat": pt.1});
    // Unknown category; a group is not a category either.
    for cat in ["9999", "05"] {
        let mut x = base.clone();
        x["category"] = json!(cat);
        let (s, e) = post(x).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_category"))
        );
    }
    // A photo-required category without a photo.
    let mut x = base.clone();
    x["category"] = json!("0602");
    let (s, e) = post(x).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("photo_required"))
    );
    // Not an image, and too large.
    let (s, e) = worker
        .post_form(
            "/api/events",
            base.clone(),
            &[b"GIF89a not really".to_vec()],
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let big = vec![0xFFu8; 30_000];
    let (s, e) = worker.post_form("/api/events", base.clone(), &[big]).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("photo_too_large"))
    );
    // Outside every grid: 422 naming the nearest.
    let mut x = base.clone();
    x["lon"] = json!(pt.0 + 0.3);
    let (s, e) = post(x).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("location_outside")),
        "{e}"
    );
    assert!(
        e["details"]["nearest_name"]
            .as_str()
            .is_some_and(|n| n.contains("网格")),
        "{e}"
    );
    let mut x = base.clone();
    x["lon"] = json!(200.0);
    assert_eq!(post(x).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // A source the role does not have.
    let mut x = base.clone();
    x["source"] = json!("hotline");
    assert_eq!(post(x).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    // Not on the admission list for grid workers: refused, then requested and approved.
    let mut heating = base.clone();
    heating["category"] = json!("0905");
    let (s, e) = post(heating.clone()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("category_not_admitted")
        )
    );
    let (_, list) = worker.get("/api/catalog/admission").await;
    assert!(!list.as_array().unwrap().iter().any(|c| c["code"] == "0905"));
    let (s, r) = worker
        .post(
            "/api/catalog/admission-requests",
            json!({"area_code": township, "category_code": "0905", "reason": "冬季供暖问题多"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_str().unwrap();
    // Only the same level's centre decides.
    let county = app.login("county_centre").await;
    assert_eq!(
        county
            .post(
                &format!("/api/catalog/admission-requests/{rid}/approve"),
                json!({})
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (s, r) = town
        .post(
            &format!("/api/catalog/admission-requests/{rid}/approve"),
            json!({"note": "同意"}),
        )
        .await;
    assert_eq!(
        (s, r["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    assert_eq!(
        town.post(
            &format!("/api/catalog/admission-requests/{rid}/reject"),
            json!({})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (s, e) = post(heating).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let (_, list) = worker.get("/api/catalog/admission").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "0905" && c["origin"] == "approved")
    );

    // Wrong role, illegal move, out of scope.
    let (s, b) = post(base.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["event"]["id"].as_str().unwrap().to_owned();
    let (s, e) = mv(&citizen, &id, json!({"action": "accept"})).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "citizens see only their own events: {e}"
    );
    let (s, e) = mv(&worker, &id, json!({"action": "accept"})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let (s, e) = mv(
        &town,
        &id,
        json!({"action": "dispatch", "department_id": "371502-sthj"}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("move_not_allowed"))
    );
    assert!(e["message"].as_str().unwrap().contains("待受理"), "{e}");
    let (s, e) = mv(&town, &id, json!({"action": "void"})).await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note"))
    );
    let (s, _) = mv(&town, &id, json!({"action": "fly"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let other = app.login("town_centre2").await;
    let (s, e) = mv(&other, &id, json!({"action": "accept"})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("out_of_scope"))
    );
    // Dispatch only to departments at or above the centre.
    ok(&town, &id, json!({"action": "accept"})).await;
    let (s, e) = mv(
        &town,
        &id,
        json!({"action": "dispatch", "department_id": "371503-sthj"}),
    )
    .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("department_id"))
    );
    let (s, e) = mv(
        &town,
        &id,
        json!({"action": "dispatch", "department_id": "nope"}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("department_not_found"))
    );
    // Nothing was written by the refused attempts.
    let (_, d) = town.get(&format!("/api/events/{id}")).await;
    assert_eq!(d["timeline"].as_array().unwrap().len(), 2);
    assert_eq!(d["state"], "accepted");
}
both!(bad_input_and_roles);

async fn conflicts_and_retries(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, township, pt) = place(&app).await;
    app.add_user("town_centre_b", "第二值班员", &township, "centre_operator")
        .await;
    let worker = app.login("grid_worker").await;
    let a = app.login("town_centre").await;
    let bb = app.login("town_centre_b").await;

    // A retried offline submission (same idempotency key) creates one event.
    let body = json!({"category": "0504", "description": "广场舞噪声", "lon": pt.0, "lat": pt.1,
                      "idempotency_key": "field-7f3a-0001"});
    let (s1, r1) = worker.post("/api/events", body.clone()).await;
    let (s2, r2) = worker.post("/api/events", body.clone()).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK), "{r1} {r2}");
    assert_eq!(r1["event"]["id"], r2["event"]["id"]);
    assert_eq!(r2["replayed"], true);
    let (x, y) = tokio::join!(
        worker.post("/api/events", body.clone()),
        worker.post("/api/events", body.clone())
    );
    assert_eq!((x.0, y.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM events WHERE idempotency_key = 'field-7f3a-0001'")
            .await,
        1
    );
    // A second report nearby is offered the first as a duplicate candidate.
    let (s, r3) = worker
        .post(
            "/api/events",
            json!({"category": "0504", "description": "又是噪声", "lon": pt.0, "lat": pt.1}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(r3["duplicates"][0]["id"], r1["event"]["id"], "{r3}");
    assert_eq!(r3["duplicates"][0]["distance_m"], 0.0);

    // Two operators accept at once: exactly one wins, the other gets a conflict.
    let id = r1["event"]["id"].as_str().unwrap();
    let v = r1["event"]["version"].as_i64().unwrap();
    let (x, y) = tokio::join!(
        mv(&a, id, json!({"action": "accept", "version": v})),
        mv(&bb, id, json!({"action": "accept", "version": v}))
    );
    let mut codes = [x.0, y.0];
    codes.sort();
    assert_eq!(
        codes,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} {}",
        x.1,
        y.1
    );
    let loser = if x.0 == StatusCode::CONFLICT {
        &x.1
    } else {
        &y.1
    };
    assert_eq!(loser["code"], "conflict", "{loser}");
    // Without a version, the later of two identical moves meets the state machine instead.
    let (s, e) = mv(&bb, id, json!({"action": "accept"})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("move_not_allowed"))
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM event_moves WHERE event_id = '{id}' AND action = 'accept'"
        ))
        .await,
        1
    );
    // Many moves at once share the writer's transactions: one stale move among them is
    // refused alone, and every other one lands exactly once.
    let mut ids = Vec::new();
    for i in 0..6 {
        let (s, r) = worker
            .post(
                "/api/events",
                json!({"category": "0504", "description": format!("并发受理 {i}"), "lon": pt.0, "lat": pt.1}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        ids.push((
            r["event"]["id"].as_str().unwrap().to_owned(),
            r["event"]["version"].as_i64().unwrap(),
        ));
    }
    let mut burst: Vec<_> = ids
        .iter()
        .map(|(id, v)| mv(&a, id, json!({"action": "accept", "version": v})))
        .collect();
    let (twice, v0) = &ids[0];
    burst.push(mv(&bb, twice, json!({"action": "accept", "version": v0})));
    let results = futures_util::future::join_all(burst).await;
    let mut statuses: Vec<StatusCode> = results.iter().map(|r| r.0).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [[StatusCode::OK; 6].as_slice(), &[StatusCode::CONFLICT]].concat(),
        "{results:?}"
    );
    for (id, _) in &ids {
        assert_eq!(
            app.scalar(&format!(
                "SELECT COUNT(*) FROM event_moves WHERE event_id = '{id}' AND action = 'accept'"
            ))
            .await,
            1
        );
    }
    // Merge the duplicate (offered because a candidate is near); both reporters are told.
    let dup = r3["event"]["id"].as_str().unwrap();
    let (_, d) = a.get(&format!("/api/events/{dup}")).await;
    assert!(
        d["actions"].as_array().unwrap().contains(&json!("merge")),
        "{d}"
    );
    let d = ok(&a, dup, json!({"action": "merge", "target_id": id})).await;
    assert_eq!(d["state"], "merged");
    assert_eq!(d["merged_into"], id);
    let (_, kept) = a.get(&format!("/api/events/{id}")).await;
    assert!(
        kept["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["action"] == "merged_in")
    );
    let (_, inbox) = worker.get("/api/notifications").await;
    assert_eq!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "merged")
            .count(),
        1,
        "both reporters are the same person, told once: {inbox}"
    );
}
both!(conflicts_and_retries);

async fn timers_survive_a_restart(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, township, pt) = place(&app).await;
    let worker = app.login("grid_worker").await;
    let town = app.login("town_centre").await;
    let county = app.login("county_centre").await;
    // Tuesday 2026-12-01 09:00: 井盖 (urgent, auto-escalating; dispatch limit 4 working hours).
    set_clock(&app, "2026-12-01T09:00:00+08:00");
    let ev = report(&worker, "0602", pt, &[jpeg(3)]).await;
    let id = ev["id"].as_str().unwrap().to_owned();
    let d = ok(&town, &id, json!({"action": "accept"})).await;
    // 09:00 + 4 working hours = 14:30 (lunch 12:00–13:30 excluded).
    assert_eq!(d["current"]["deadline"], "2026-12-01T06:30:00.000000Z");
    assert_eq!(d["current"]["light"], "green");
    // The server stops; the job runs later in another process (the timers are rows).
    let (s, _) = town.get("/api/health").await;
    assert_eq!(s, StatusCode::OK);
    let out = app.cli(&["jobs", "run", "--now", "2026-12-01T14:00:00+08:00"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("黄灯 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    set_clock(&app, "2026-12-01T14:00:00+08:00");
    let (_, d) = town.get(&format!("/api/events/{id}")).await;
    assert_eq!(d["light"], "yellow");
    assert_eq!(d["current"]["light"], "yellow");
    let (_, inbox) = town.get("/api/notifications").await;
    assert!(
        inbox
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "yellow" && n["event_id"] == id.as_str())
    );
    // Running again changes nothing (the notice is not repeated).
    let out = app.cli(&["jobs", "run", "--now", "2026-12-01T14:10:00+08:00"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("到期计时 0 个"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Overdue: red, and escalated to the county centre automatically.
    let out = app.cli(&["jobs", "run", "--now", "2026-12-01T15:00:00+08:00"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("红灯 1，自动上报 1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    set_clock(&app, "2026-12-01T15:00:00+08:00");
    let (_, d) = county.get(&format!("/api/events/{id}")).await;
    assert_eq!(d["centre_area"], "371502");
    assert_eq!(d["state"], "accepted");
    assert_eq!(d["escalation_count"], 1);
    let last = d["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["actor_role"].as_str()),
        (Some("escalate"), Some("system"))
    );
    assert!(
        d["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("dispatch"))
    );
    assert!(unread(&county).await >= 1);
    assert_eq!(
        app.scalar(&format!(
            "SELECT dispatch_late FROM events WHERE id = '{id}'"
        ))
        .await,
        1
    );
    // The township no longer holds it.
    assert_eq!(
        mv(
            &town,
            &id,
            json!({"action": "dispatch", "department_id": "371502-cgj"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let _ = township;
}
both!(timers_survive_a_restart);

async fn every_other_move(b: Backend) {
    let app = TestApp::demo(b).await;
    let (grid, township, pt) = place(&app).await;
    let worker = app.login("grid_worker").await;
    let chief = app.login("grid_chief").await;
    let town = app.login("town_centre").await;
    let county = app.login("county_centre").await;
    let leader = app.login("leader").await;
    let cgj = app.login("dept_liaison").await;
    let sthj = app.login("liaison_sthj").await;

    // 自行处置 with a photo; the one who fixed it cannot verify it (采办分离); the chief can.
    let ev = report(&worker, "0504", pt, &[]).await;
    let id = ev["id"].as_str().unwrap().to_owned();
    let (s, e) = mv(
        &worker,
        &id,
        json!({"action": "self_handle", "note": "已劝导"}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("photo_required"))
    );
    let (s, d) = worker
        .post_form(
            &format!("/api/events/{id}/moves"),
            json!({"action": "self_handle", "note": "已劝导停止施工"}),
            &[jpeg(9)],
        )
        .await;
    assert_eq!(
        (s, d["state"].as_str()),
        (StatusCode::OK, Some("verifying")),
        "{d}"
    );
    let (s, e) = mv(&worker, &id, json!({"action": "verify_pass"})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("separation_of_duties"))
    );
    ok(&chief, &id, json!({"action": "verify_pass"})).await;
    // The grid worker who reported does not close it either; the centre does.
    let (s, _) = mv(
        &worker,
        &id,
        json!({"action": "evaluate", "evaluation": "satisfied"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = mv(
        &town,
        &id,
        json!({"action": "evaluate", "evaluation": "great"}),
    )
    .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("evaluation"))
    );
    assert_eq!(
        ok(
            &town,
            &id,
            json!({"action": "evaluate", "evaluation": "basically_satisfied"})
        )
        .await["state"],
        "closed"
    );

    // Return, re-dispatch, extension, hold/resume, 督办 and reply, rework, escalation.
    let ev = report(&worker, "0504", pt, &[]).await;
    let id = ev["id"].as_str().unwrap().to_owned();
    ok(&town, &id, json!({"action": "accept"})).await;
    ok(
        &town,
        &id,
        json!({"action": "dispatch", "department_id": "371502-cgj"}),
    )
    .await;
    assert_eq!(
        mv(&sthj, &id, json!({"action": "sign_for"})).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, e) = mv(&cgj, &id, json!({"action": "return"})).await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note"))
    );
    let d = ok(
        &cgj,
        &id,
        json!({"action": "return", "note": "噪声属生态环境部门职责"}),
    )
    .await;
    assert_eq!(
        (d["state"].as_str(), d["return_count"].as_i64()),
        (Some("accepted"), Some(1))
    );
    ok(
        &town,
        &id,
        json!({"action": "dispatch", "department_id": "371502-sthj"}),
    )
    .await;
    ok(&sthj, &id, json!({"action": "sign_for"})).await;
    // 延期审批 is offered only while a request waits.
    let has = |d: &Value, a: &str| d["actions"].as_array().unwrap().contains(&json!(a));
    let (_, d) = town.get(&format!("/api/events/{id}")).await;
    assert!(!has(&d, "decide_extension"), "{}", d["actions"]);
    let d = ok(
        &sthj,
        &id,
        json!({"action": "request_extension", "days": 3, "note": "需联合执法"}),
    )
    .await;
    let (_, d2) = town.get(&format!("/api/events/{id}")).await;
    assert!(has(&d2, "decide_extension"), "{}", d2["actions"]);
    let ext = d["extensions"][0]["id"].as_str().unwrap().to_owned();
    let limit = d["current"]["limit_minutes"].as_i64().unwrap();
    let (s, _) = mv(
        &sthj,
        &id,
        json!({"action": "request_extension", "days": 2, "note": "再延"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "one pending request at a time");
    assert_eq!(
        mv(
            &sthj,
            &id,
            json!({"action": "decide_extension", "extension_id": ext, "approve": true})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let d = ok(
        &town,
        &id,
        json!({"action": "decide_extension", "extension_id": ext, "approve": true}),
    )
    .await;
    assert_eq!(
        d["current"]["limit_minutes"].as_i64().unwrap(),
        limit + 3 * 480
    );
    assert_eq!(d["extensions"][0]["status"], "approved");
    let d = ok(
        &town,
        &id,
        json!({"action": "hold", "note": "等待天气好转"}),
    )
    .await;
    assert_eq!(
        (d["state"].as_str(), d["current"]["on_hold"].as_bool()),
        (Some("on_hold"), Some(true))
    );
    assert!(d["actions"].as_array().unwrap().contains(&json!("resume")));
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM event_timers WHERE event_id = '{id}'"
        ))
        .await,
        0,
        "no clock on hold"
    );
    let d = ok(&town, &id, json!({"action": "resume"})).await;
    assert_eq!(d["state"], "handling");
    assert!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM event_timers WHERE event_id = '{id}'"
        ))
        .await
            > 0
    );
    // 督办回复 is offered only once there is a supervision to answer.
    let acts = |d: &Value| d["actions"].as_array().unwrap().clone();
    let (_, d) = sthj.get(&format!("/api/events/{id}")).await;
    assert!(!acts(&d).contains(&json!("reply")), "{:?}", acts(&d));
    // 督办: the township cannot supervise itself; the county centre and the leader can.
    assert_eq!(
        mv(&town, &id, json!({"action": "supervise", "note": "加快"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let d = ok(
        &county,
        &id,
        json!({"action": "supervise", "note": "请三日内办结", "reply_days": 3}),
    )
    .await;
    let sup = d["supervisions"][0]["id"].as_str().unwrap().to_owned();
    let (_, d) = sthj.get(&format!("/api/events/{id}")).await;
    assert!(acts(&d).contains(&json!("reply")), "{:?}", acts(&d));
    assert_eq!(d["supervisions"][0]["by_area"], "371502");
    ok(
        &leader,
        &id,
        json!({"action": "supervise", "note": "领导关注"}),
    )
    .await;
    let (s, _) = mv(
        &sthj,
        &id,
        json!({"action": "reply", "supervision_id": "nope", "note": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let d = ok(
        &sthj,
        &id,
        json!({"action": "reply", "supervision_id": sup, "note": "已联合执法，今日办结"}),
    )
    .await;
    assert!(d["supervisions"][0]["replied_at"].is_string());
    let (_, q) = county.get("/api/events?queue=supervised").await;
    assert_eq!(q["total"], 1);
    ok(
        &sthj,
        &id,
        json!({"action": "handle", "note": "已责令停工"}),
    )
    .await;
    let d = ok(
        &worker,
        &id,
        json!({"action": "verify_fail", "note": "仍有施工噪声"}),
    )
    .await;
    assert_eq!(
        (d["state"].as_str(), d["rework_count"].as_i64()),
        (Some("handling"), Some(1))
    );
    // 上报上级: the township passes it up; the county dispatches again.
    let ev = report(&worker, "0504", pt, &[]).await;
    let id2 = ev["id"].as_str().unwrap().to_owned();
    ok(&town, &id2, json!({"action": "accept"})).await;
    let d = ok(
        &town,
        &id2,
        json!({"action": "escalate", "note": "涉及多个街道"}),
    )
    .await;
    assert_eq!(
        (d["centre_area"].as_str(), d["state"].as_str()),
        (Some("371502"), Some("accepted"))
    );
    // The county may dispatch to the township centre below it (a lower centre).
    let d = ok(
        &county,
        &id2,
        json!({"action": "dispatch", "centre_area": township}),
    )
    .await;
    assert_eq!(d["assignee_kind"], "centre");
    ok(&town, &id2, json!({"action": "sign_for"})).await;
    let (s, e) = mv(
        &county,
        &id2,
        json!({"action": "dispatch", "centre_area": "371503001"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    // Lists: filters and queues, scoped.
    let (_, l) = town
        .get(&format!(
            "/api/events?state=handling&category=05&area={grid}"
        ))
        .await;
    assert_eq!(l["total"], 2, "{l}");
    let (_, l) = town.get("/api/events?queue=handling").await;
    assert!(l["total"].as_i64().unwrap() >= 1);
    let (_, l) = sthj.get("/api/events").await;
    assert_eq!(
        l["total"], 1,
        "a liaison sees their department's events: {l}"
    );
    let (_, l) = app.login("town_centre2").await.get("/api/events").await;
    assert_eq!(l["total"], 0);
    let (s, _) = town.get("/api/events?light=purple").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, l) = town
        .get(&format!(
            "/api/events?q={}",
            &ev["case_no"].as_str().unwrap()
        ))
        .await;
    assert_eq!(l["total"], 1);
    let (_, l) = town.get("/api/events?per_page=2&page=2").await;
    assert_eq!(
        (
            l["total"].as_i64(),
            l["items"].as_array().unwrap().len(),
            l["page"].as_i64()
        ),
        (Some(3), 1, Some(2))
    );
}
both!(every_other_move);

async fn webhooks_and_api_keys(b: Backend) {
    use axum::routing::post;
    use std::sync::{Arc, Mutex};
    let app = TestApp::demo(b).await;
    let (_, _, pt) = place(&app).await;
    let admin = app.login("admin").await;
    let worker = app.login("grid_worker").await;
    let town = app.login("town_centre").await;

    // A receiver that fails once, then accepts.
    type Seen = Arc<Mutex<Vec<(String, String, String)>>>;
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let recv = axum::Router::new().route(
        "/hook",
        post(move |h: axum::http::HeaderMap, body: String| {
            let s2 = s2.clone();
            async move {
                let mut v = s2.lock().unwrap();
                let get = |k: &str| {
                    h.get(k)
                        .and_then(|x| x.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                v.push((get("x-civgrid-signature"), get("x-civgrid-timestamp"), body));
                if v.len() == 1 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, recv).await.unwrap() });
    let secret = "s3cret-s3cret-s3cret";
    let (s, e) = admin
        .put(
            "/api/departments/371502-cgj/webhook",
            json!({"url": "ftp://x", "secret": secret}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        admin
            .put(
                "/api/departments/371502-cgj/webhook",
                json!({"url": url, "secret": secret})
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        town.put("/api/departments/371502-cgj/webhook", json!({"url": null}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    set_clock(&app, "2026-12-02T09:00:00+08:00");
    let ev = report(&worker, "0606", pt, &[jpeg(4)]).await;
    let id = ev["id"].as_str().unwrap().to_owned();
    ok(&town, &id, json!({"action": "accept"})).await;
    ok(
        &town,
        &id,
        json!({"action": "dispatch", "department_id": "371502-cgj"}),
    )
    .await;
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-02T09:00:05+08:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let r = civgrid_server::events::jobs::tick(&app.state, t0)
        .await
        .unwrap();
    assert_eq!(r.webhooks, 1);
    // Failed once: retried only after the back-off.
    let r = civgrid_server::events::jobs::tick(&app.state, t0 + chrono::Duration::seconds(10))
        .await
        .unwrap();
    assert_eq!(r.webhooks, 0);
    let r = civgrid_server::events::jobs::tick(&app.state, t0 + chrono::Duration::seconds(31))
        .await
        .unwrap();
    assert_eq!(r.webhooks, 1);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let (sig, ts, body) = &seen[1];
    assert_eq!(
        sig,
        &civgrid_server::notifications::webhooks::sign(secret, ts.parse().unwrap(), body)
    );
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (payload["kind"].as_str(), payload["event"]["id"].as_str()),
        (Some("dispatch"), Some(id.as_str()))
    );
    let liaison = app.login("dept_liaison").await;
    let (s, log) = liaison.get("/api/departments/371502-cgj/deliveries").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (log[0]["status"].as_str(), log[0]["attempts"].as_i64()),
        (Some("delivered"), Some(2)),
        "{log}"
    );
    assert_eq!(
        app.login("liaison_gaj")
            .await
            .get("/api/departments/371502-cgj/deliveries")
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // An external system (video alarm) reports with an API key, only where the catalog lets it.
    let (s, k) = admin
        .post(
            "/api/api-keys",
            json!({"name": "东昌府区视频平台", "area_code": "3715"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let key = k["key"].as_str().unwrap();
    let cam = |cat: &str| {
        let key = key.to_owned();
        let base = app.base.clone();
        let body =
            json!({"category": cat, "description": "视频识别：占道经营", "lon": pt.0, "lat": pt.1});
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/api/events"))
                .header("x-api-key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, e) = cam("0504").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("category_not_admitted")
        )
    );
    let (s, e) = cam("0606").await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "0606 needs a photo: {e}"
    );
    let (s, e) = cam("0202").await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(e["event"]["source"], "video_alarm");
    let r = reqwest::Client::new()
        .get(format!("{}/api/events", app.base))
        .header("x-api-key", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
both!(webhooks_and_api_keys);

/// Indicators on hand-built timelines with known answers.
async fn indicators(b: Backend) {
    let app = TestApp::demo(b).await;
    let (grid, township, pt) = place(&app).await;
    let worker = app.login("grid_worker").await;
    let town = app.login("town_centre").await;
    let cgj = app.login("dept_liaison").await;
    let sthj = app.login("liaison_sthj").await;
    let at = |t: &str| set_clock(&app, &format!("2026-12-{t}+08:00"));
    let new = |t: &'static str| {
        let worker = worker.clone();
        let app = &app;
        async move {
            set_clock(app, &format!("2026-12-{t}+08:00"));
            let (s, r) = worker
                .post(
                    "/api/events",
                    json!({"category": "0504", "description": "噪声", "lon": pt.0, "lat": pt.1}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{r}");
            r["event"]["id"].as_str().unwrap().to_owned()
        }
    };
    // E1 (Thu 3rd): everything on time → closed on time, satisfied. 0504: dispatch 4h, handle 3d.
    let e1 = new("03T09:00:00").await;
    at("03T09:30:00");
    ok(&town, &e1, json!({"action": "accept"})).await;
    at("03T10:00:00");
    ok(
        &town,
        &e1,
        json!({"action": "dispatch", "department_id": "371502-sthj"}),
    )
    .await;
    at("03T11:00:00");
    ok(&sthj, &e1, json!({"action": "sign_for"})).await;
    at("04T10:00:00");
    ok(&sthj, &e1, json!({"action": "handle", "note": "已处理"})).await;
    at("04T11:00:00");
    ok(&worker, &e1, json!({"action": "verify_pass"})).await;
    at("04T11:30:00");
    ok(
        &town,
        &e1,
        json!({"action": "evaluate", "evaluation": "satisfied"}),
    )
    .await;
    // E2: wrong department (returned), then reworked once → closed on time, basically satisfied.
    let e2 = new("03T09:10:00").await;
    at("03T09:40:00");
    ok(&town, &e2, json!({"action": "accept"})).await;
    ok(
        &town,
        &e2,
        json!({"action": "dispatch", "department_id": "371502-cgj"}),
    )
    .await;
    at("03T10:40:00");
    ok(&cgj, &e2, json!({"action": "return", "note": "非本部门"})).await;
    ok(
        &town,
        &e2,
        json!({"action": "dispatch", "department_id": "371502-sthj"}),
    )
    .await;
    ok(&sthj, &e2, json!({"action": "sign_for"})).await;
    at("03T15:00:00");
    ok(&sthj, &e2, json!({"action": "handle", "note": "处理"})).await;
    ok(
        &worker,
        &e2,
        json!({"action": "verify_fail", "note": "未处理好"}),
    )
    .await;
    at("04T09:00:00");
    ok(&sthj, &e2, json!({"action": "handle", "note": "再处理"})).await;
    ok(&worker, &e2, json!({"action": "verify_pass"})).await;
    ok(
        &town,
        &e2,
        json!({"action": "evaluate", "evaluation": "basically_satisfied"}),
    )
    .await;
    // E3: voided.
    let e3 = new("03T09:20:00").await;
    ok(&town, &e3, json!({"action": "void", "note": "重复上报"})).await;
    // E4: dispatched late (accept Thu 3rd 10:00, dispatch Mon 7th) and handled late → closed late.
    let e4 = new("03T09:30:00").await;
    at("03T10:00:00");
    ok(&town, &e4, json!({"action": "accept"})).await;
    at("07T09:00:00");
    ok(
        &town,
        &e4,
        json!({"action": "dispatch", "department_id": "371502-sthj"}),
    )
    .await;
    ok(&sthj, &e4, json!({"action": "sign_for"})).await;
    at("11T17:00:00");
    ok(&sthj, &e4, json!({"action": "handle", "note": "迟办"})).await;
    ok(&worker, &e4, json!({"action": "verify_pass"})).await;
    ok(
        &town,
        &e4,
        json!({"action": "evaluate", "evaluation": "unsatisfied"}),
    )
    .await;
    // E5: handled with a hold in between (the hold does not count): on time.
    let e5 = new("03T09:40:00").await;
    ok(&town, &e5, json!({"action": "accept"})).await;
    ok(
        &town,
        &e5,
        json!({"action": "dispatch", "department_id": "371502-sthj"}),
    )
    .await;
    ok(&sthj, &e5, json!({"action": "sign_for"})).await;
    at("03T10:00:00");
    ok(&town, &e5, json!({"action": "hold", "note": "等待"})).await;
    at("10T10:00:00");
    ok(&town, &e5, json!({"action": "resume"})).await;
    at("10T11:00:00");
    ok(&sthj, &e5, json!({"action": "handle", "note": "处理"})).await;
    ok(&worker, &e5, json!({"action": "verify_pass"})).await;
    at("10T11:20:00");
    ok(
        &town,
        &e5,
        json!({"action": "evaluate", "evaluation": "satisfied"}),
    )
    .await;
    // E6: a duplicate of E7, merged; E7 stays dispatched and goes overdue unhandled.
    let e7 = new("03T09:50:00").await;
    ok(&town, &e7, json!({"action": "accept"})).await;
    ok(
        &town,
        &e7,
        json!({"action": "dispatch", "department_id": "371502-cgj"}),
    )
    .await;
    ok(&cgj, &e7, json!({"action": "sign_for"})).await;
    let e6 = new("03T09:55:00").await;
    ok(&town, &e6, json!({"action": "merge", "target_id": e7})).await;
    let out = app.cli(&["jobs", "run", "--now", "2026-12-11T18:00:00+08:00"]);
    assert!(out.status.success());
    at("11T18:00:00");

    let (s, st) = town
        .get(&format!(
            "/api/stats/events?area={township}&from=2026-12-01&to=2026-12-31"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{st}");
    let c = &st["total"]["counts"];
    let expect = json!({
        "reported": 7, "voided": 1, "merged": 1,
        // E1 E2 E4 E5 E7 were dispatched; E4 late.
        "should_dispatch": 5, "dispatched_on_time": 4, "returned": 1,
        // handled: E1 E2 E4 E5; overdue unhandled: E7.
        "should_close": 5, "closed": 4, "closed_on_time": 3, "reworks": 1,
        "should_verify": 4, "verified_on_time": 4,
        "evaluated": 4, "satisfied": 2, "basically_satisfied": 1, "unsatisfied": 1,
    });
    for (k, v) in expect.as_object().unwrap() {
        assert_eq!(&c[k], v, "{k}: {c}");
    }
    let r = &st["total"]["rates"];
    assert_eq!(r["closure_rate"], 80.0);
    assert_eq!(r["on_time_closure_rate"], 60.0);
    assert_eq!(r["rework_rate"], 20.0);
    assert_eq!(r["on_time_dispatch_rate"], 80.0);
    assert_eq!(r["accurate_dispatch_rate"], 80.0);
    assert_eq!(r["satisfaction_rate"], 72.5); // (2 + 0.9) / 4
    assert_eq!(r["valid_report_rate"], 85.71);
    // Working minutes report → close, hold excluded: E1 Thu 09:00 → Fri 11:30 = 480 + 150.
    assert_eq!(
        app.scalar(&format!(
            "SELECT work_minutes FROM events WHERE id = '{e1}'"
        ))
        .await,
        630
    );
    // E5: 03rd 09:40 → 10th 11:20 minus the hold 03rd 10:00 → 10th 10:00 (5 working days).
    assert_eq!(
        app.scalar(&format!(
            "SELECT work_minutes FROM events WHERE id = '{e5}'"
        ))
        .await,
        100
    );
    // By department and by area.
    let (_, st) = town
        .get(&format!(
            "/api/stats/events?area={township}&by=department&from=2026-12-01&to=2026-12-31"
        ))
        .await;
    let rows = st["rows"].as_array().unwrap();
    let sthj_row = rows.iter().find(|r| r["key"] == "371502-sthj").unwrap();
    assert_eq!(sthj_row["counts"]["closed"], 4);
    assert!(sthj_row["name"].as_str().unwrap().contains("生态环境"));
    let (_, st) = town
        .get(&format!(
            "/api/stats/events?area={}&from=2026-12-01&to=2026-12-31",
            &grid[..12]
        ))
        .await;
    assert_eq!(st["rows"][0]["key"], grid);
    assert_eq!(st["rows"][0]["counts"]["reported"], 7);
    // The heat layer: every grid of the township with its counts.
    let (_, st) = town
        .get(&format!(
            "/api/stats/events?area={township}&by=grid&from=2026-12-01&to=2026-12-31"
        ))
        .await;
    let rows = st["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{st}");
    assert_eq!(
        (&rows[0]["key"], &rows[0]["counts"]["reported"]),
        (&json!(grid), &json!(7))
    );
    assert!(!rows[0]["name"].as_str().unwrap().is_empty());

    // Work queues: only E7 is open (handled by 城管, red after the job).
    let counts = |v: Value| -> Vec<(String, i64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    q["queue"].as_str().unwrap().to_owned(),
                    q["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let q = |pairs: &[(&str, i64)]| -> Vec<(String, i64)> {
        pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    };
    let (s, v) = town.get("/api/events/queues").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v[0]["label"], "待受理");
    assert_eq!(
        counts(v),
        q(&[
            ("to_accept", 0),
            ("to_dispatch", 0),
            ("to_sign", 0),
            ("handling", 1),
            ("to_verify", 0),
            ("to_evaluate", 0),
            ("supervised", 0),
            ("overdue", 1),
            ("mine", 0)
        ])
    );
    assert_eq!(
        counts(cgj.get("/api/events/queues").await.1),
        q(&[("to_sign", 0), ("handling", 1), ("overdue", 1)])
    );
    assert_eq!(
        counts(worker.get("/api/events/queues").await.1),
        q(&[("to_verify", 0), ("mine", 7)])
    );
    // The map: open events only by default, all with `state`.
    let (s, p) = town
        .get(&format!("/api/events/points?area={township}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["total"].as_i64(), p["truncated"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(p["items"][0]["id"], json!(e7));
    assert_eq!(p["items"][0]["light"], "red");
    assert_eq!(p["items"][0]["category_name"], "噪声扰民");
    let (_, p) = town
        .get(&format!("/api/events/points?area={township}&state=closed"))
        .await;
    assert_eq!(p["total"], 4);
    assert_eq!(
        town.get("/api/events/points?area=371503").await.0,
        StatusCode::FORBIDDEN
    );
    // Out of scope, bad dates.
    assert_eq!(
        town.get("/api/stats/events?area=371503").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        town.get("/api/stats/events?from=2026-13-01").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        worker.get("/api/stats/events").await.0,
        StatusCode::FORBIDDEN
    );
    let _ = (e3, e6);
}
both!(indicators);

async fn catalog_admin(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, township, pt) = place(&app).await;
    let admin = app.login("admin").await;
    let town = app.login("town_centre").await;
    let worker = app.login("grid_worker").await;

    // The tree with ≥ 40 categories; limits overridden for one township only.
    let (s, tree) = town.get("/api/catalog/categories").await;
    assert_eq!(s, StatusCode::OK);
    let n: usize = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["categories"].as_array().unwrap().len())
        .sum();
    assert!(n >= 40, "{n}");
    let lim =
        json!({"accept": "1h", "dispatch": "2h", "sign": "2h", "handle": "2d", "verify": "1d"});
    let (s, e) = town.put("/api/catalog/categories/0504/limits", json!({"area_code": township, "limits": {"accept": "1w", "dispatch": "2h", "sign": "2h", "handle": "2d", "verify": "1d"}})).await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("limits.accept"))
    );
    assert_eq!(
        town.put(
            "/api/catalog/categories/0504/limits",
            json!({"area_code": "371502", "limits": lim})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        town.put(
            "/api/catalog/categories/0504/limits",
            json!({"area_code": township, "limits": lim})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, tree) = town.get("/api/catalog/categories").await;
    let c = tree
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["categories"].as_array().unwrap().clone())
        .find(|c| c["code"] == "0504")
        .unwrap();
    assert_eq!(
        (c["limits"]["handle"].as_str(), c["limits_from"].as_str()),
        (Some("2d"), Some(township.as_str()))
    );
    set_clock(&app, "2026-12-01T09:00:00+08:00");
    let ev = report(&worker, "0504", pt, &[]).await;
    let (_, d) = town
        .get(&format!("/api/events/{}", ev["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        d["current"]["limit_minutes"], 60,
        "the township's accept limit applies"
    );
    // Category edits are for administrators.
    assert_eq!(
        town.put(
            "/api/catalog/categories/0504",
            json!({"photo_required": true})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin
            .put(
                "/api/catalog/categories/0504",
                json!({"duplicate_radius_m": 9000})
            )
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin
            .put(
                "/api/catalog/categories/0504",
                json!({"photo_required": true, "duplicate_radius_m": 200})
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (s, e) = worker
        .post(
            "/api/events",
            json!({"category": "0504", "description": "噪声", "lon": pt.0, "lat": pt.1}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("photo_required"))
    );
    // Departments.
    let (s, d) = admin
        .post(
            "/api/departments",
            json!({"area_code": "371502", "code": "tyj", "name": "东昌府区体育局"}),
        )
        .await;
    assert_eq!(
        (s, d["id"].as_str()),
        (StatusCode::CREATED, Some("371502-tyj")),
        "{d}"
    );
    assert_eq!(
        admin
            .post(
                "/api/departments",
                json!({"area_code": "371502", "code": "tyj", "name": "重复"})
            )
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        admin
            .post(
                "/api/departments",
                json!({"area_code": "371502", "code": "TY J", "name": "x"})
            )
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The calendar is data: a 2027 file can be added and is used at once.
    let (_, info) = town.get("/api/calendar").await;
    assert_eq!(
        (info["years"].clone(), info["minutes_per_day"].as_i64()),
        (json!([2025, 2026]), Some(480))
    );
    let y2027 = json!({"year": 2027, "holidays": [{"from": "2027-01-01", "to": "2027-01-03", "name": "元旦"}], "workdays": []});
    let (s, e) = admin
        .put(
            "/api/calendar/2027",
            json!({"year": 2026, "holidays": [], "workdays": []}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_calendar"))
    );
    assert_eq!(
        town.put("/api/calendar/2027", y2027.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin.put("/api/calendar/2027", y2027).await.0,
        StatusCode::NO_CONTENT
    );
    // Thu 2026-12-31 17:30 + 1 working hour: Fri 2027-01-01 is now a holiday → Mon 01-04 09:00.
    let (s, d) = town
        .get("/api/calendar/deadline?start=2026-12-31T17:30:00%2B08:00&limit=1h")
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert!(
        d["deadline"]
            .as_str()
            .unwrap()
            .starts_with("2027-01-04T09:00:00"),
        "{d}"
    );
    // 2026's real dates: 国庆 Oct 1–7, then Sat Oct 10 is a working day.
    let (_, d) = town
        .get("/api/calendar/deadline?start=2026-09-30T17:00:00%2B08:00&limit=2h")
        .await;
    assert!(
        d["deadline"]
            .as_str()
            .unwrap()
            .starts_with("2026-10-08T09:30:00"),
        "{d}"
    );
    let (_, d) = town
        .get("/api/calendar/deadline?start=2026-10-09T17:00:00%2B08:00&limit=2h")
        .await;
    assert!(
        d["deadline"]
            .as_str()
            .unwrap()
            .starts_with("2026-10-10T09:30:00"),
        "{d}"
    );
    let (_, d) = town
        .get("/api/calendar/deadline?start=2026-02-13T17:00:00%2B08:00&limit=1d")
        .await;
    assert!(
        d["deadline"]
            .as_str()
            .unwrap()
            .starts_with("2026-02-14T17:00:00"),
        "调休 Saturday: {d}"
    );
    let (_, d) = town
        .get("/api/calendar/deadline?start=2026-02-14T17:30:00%2B08:00&limit=1h")
        .await;
    assert!(
        d["deadline"]
            .as_str()
            .unwrap()
            .starts_with("2026-02-24T09:00:00"),
        "春节: {d}"
    );
}
both!(catalog_admin);

/// The demo's history is made by the real workflow: every closed event was verified and
/// evaluated, and the indicators over it make sense.
async fn demo_history(b: Backend) {
    let app = TestApp::demo(b).await;
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T16:00:00+08:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let h = civgrid_server::demo::history::seed(
        &app.db,
        std::path::Path::new(&app.state.cfg.files_dir),
        400,
        60,
        now,
    )
    .await
    .expect("history");
    assert!(h.events >= 400 && h.moves > 1500, "{h:?}");
    // A live report on a day of the history continues its case numbers.
    let taken = app
        .scalar("SELECT COALESCE(MAX(CAST(substr(case_no, 13) AS INTEGER)), 0) FROM events WHERE case_no LIKE '371520261127%'")
        .await;
    assert!(taken > 0, "the history reaches its last day");
    let counter = "SELECT n FROM case_counters WHERE prefix = '3715' AND day = '20261127'";
    assert_eq!(app.scalar(counter).await, taken);
    // Databases whose history did not reserve its numbers are repaired by migration 0003.
    for sql in [
        "DELETE FROM case_counters WHERE day >= '20261101'",
        "DELETE FROM schema_migrations WHERE name = '0003_case_counters'",
    ] {
        sqlx::query(sql).execute(&app.db.pool).await.expect(sql);
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM case_counters WHERE day = '20261127'")
            .await,
        0
    );
    app.db.migrate().await.expect("migrate");
    assert_eq!(app.scalar(counter).await, taken);
    set_clock(&app, "2026-11-27T17:00:00+08:00");
    let (_, _, pt) = place(&app).await;
    let (s, r) = app
        .login("grid_worker")
        .await
        .post(
            "/api/events",
            json!({"category": "0504", "description": "历史之后的上报", "lon": pt.0, "lat": pt.1}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(
        r["event"]["case_no"],
        format!("371520261127{:05}", taken + 1)
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM events WHERE state = 'closed' AND (verified_at IS NULL OR evaluation IS NULL)").await, 0);
    assert!(
        app.scalar("SELECT COUNT(*) FROM events WHERE state = 'closed'")
            .await
            > 250
    );
    assert!(
        app.scalar("SELECT COUNT(*) FROM events WHERE state NOT IN ('closed', 'voided', 'merged')")
            .await
            > 0,
        "recent events are open"
    );
    assert!(
        app.scalar("SELECT COUNT(*) FROM events WHERE return_count > 0")
            .await
            > 0
    );
    assert!(
        app.scalar("SELECT COUNT(*) FROM events WHERE rework_count > 0")
            .await
            > 0
    );
    assert!(
        app.scalar("SELECT COUNT(*) FROM events WHERE handle_late = 1")
            .await
            > 0
    );
    // History events carry an address and name their departments (not their ids); only the
    // live report above has no address.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM events WHERE address IS NULL")
            .await,
        1
    );
    assert!(
        app.scalar(
            "SELECT COUNT(*) FROM event_moves WHERE action = 'dispatch' AND detail LIKE '%局%'"
        )
        .await
            > 100
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM event_moves WHERE action = 'dispatch' AND detail LIKE '%\"department_name\":\"3715%'")
            .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM events e WHERE (SELECT COUNT(*) FROM event_moves m WHERE m.event_id = e.id) <> e.version").await,
        0,
        "one timeline row per version"
    );
    let leader = app.login("leader").await;
    let (s, st) = leader
        .get("/api/stats/events?area=3715&from=2026-09-01&to=2026-11-30")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        st["total"]["counts"]["reported"].as_i64().unwrap(),
        app.scalar("SELECT COUNT(*) FROM events").await
    );
    let closure = st["total"]["rates"]["closure_rate"].as_f64().unwrap();
    assert!((50.0..=100.0).contains(&closure), "{st}");

    // The rollup kept move by move (and by the deadline job) equals one rebuilt from the events,
    // and the city's statistics (from the rollup) equal the sum over its grids (from the events).
    let out = app.cli(&["jobs", "run", "--now", "2026-11-30T18:00:00+08:00"]);
    assert!(out.status.success());
    let facts = || async {
        let cols = civgrid_core::indicators::Counts::FIELDS
            .iter()
            .map(|f| format!("CAST({f} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT day || county || category_code || dept_id || ':' || {cols} FROM event_facts
              WHERE reported <> 0 ORDER BY day, county, category_code, dept_id"
        ))
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
    };
    let kept = facts().await;
    assert!(kept.len() > 100, "{}", kept.len());
    let mut c = app.db.pool.acquire().await.unwrap();
    civgrid_server::events::store::rebuild_facts(&mut c, app.db.backend)
        .await
        .unwrap();
    drop(c);
    assert_eq!(kept, facts().await);
    for county in ["371502", "371503"] {
        let q = |by: &str| {
            format!("/api/stats/events?area={county}&from=2026-09-01&to=2026-11-30&by={by}")
        };
        let (_, by_dept) = leader.get(&q("department")).await;
        let (_, by_grid) = leader.get(&q("grid")).await;
        let mut sum = civgrid_core::indicators::Counts::default();
        for r in by_grid["rows"].as_array().unwrap() {
            let c: std::collections::HashMap<String, i64> =
                serde_json::from_value(r["counts"].clone()).unwrap();
            let mut a = [0; 17];
            for (i, f) in civgrid_core::indicators::Counts::FIELDS.iter().enumerate() {
                a[i] = c[*f];
            }
            sum.add(&civgrid_core::indicators::Counts::from_array(a));
        }
        assert_eq!(
            by_dept["total"]["counts"],
            serde_json::to_value(sum).unwrap(),
            "{county}"
        );
    }
    let (_, l) = leader.get("/api/events?per_page=5").await;
    assert_eq!(l["items"].as_array().unwrap().len(), 5);
    let id = l["items"][0]["id"].as_str().unwrap();
    let (s, _) = leader.get(&format!("/api/events/{id}")).await;
    assert_eq!(s, StatusCode::OK);
}
both!(demo_history);
