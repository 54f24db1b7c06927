//! Field work and evaluation over HTTP: shifts, patrols with tracks, visits, supervisors'
//! views; scores with known answers, ties and scheme versions; bulletins (PDF with Chinese
//! text, xlsx); the weekly and monthly jobs; online patrol; the dashboard — on both databases.

use crate::both;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADDR: &str = "东昌府区古楼街道古城社区光明路12号3号楼2单元301室";

/// A valid ID number of 东昌府区 born on 1990-01-01 with sequence `seq`.
fn id_no(seq: u32) -> String {
    let first = format!("37150219900101{seq:03}");
    format!(
        "{first}{}",
        civgrid_core::ids::id_check_char(first.as_bytes())
    )
}

async fn ok(api: &Api, path: &str, body: Value) -> Value {
    let (s, b) = api.post(path, body.clone()).await;
    assert!(s.is_success(), "{path} {body} → {s} {b}");
    b
}

/// Points about 111 m apart (0.001° of latitude) starting at `(lon, lat)`, one a minute.
fn walk(start: &str, lon: f64, lat: f64, n: usize) -> Value {
    let t0 = chrono::DateTime::parse_from_rfc3339(start).unwrap();
    let pts: Vec<Value> = (0..n)
        .map(|i| {
            json!({"at": (t0 + chrono::Duration::minutes(i as i64)).to_rfc3339(),
                   "lon": lon, "lat": lat + 0.001 * i as f64, "accuracy": 8.0})
        })
        .collect();
    json!({ "points": pts })
}

/// A worker's day: check in, heartbeats, a patrol with its track, a visit to a person.
/// Returns the patrol.
async fn day_of_work(app: &TestApp, worker: &Api, person: &str, (lon, lat): (f64, f64)) -> Value {
    set_clock(app, "2026-11-10T09:00:00+08:00");
    ok(
        worker,
        "/api/field/check-in",
        json!({"lon": lon, "lat": lat}),
    )
    .await;
    set_clock(app, "2026-11-10T09:02:00+08:00");
    ok(worker, "/api/field/heartbeat", json!({})).await;
    let patrol_id = uuid::Uuid::now_v7().to_string();
    let p = ok(worker, "/api/field/patrols", json!({"id": patrol_id})).await;
    assert_eq!(p["id"], patrol_id.as_str());
    ok(
        worker,
        "/api/field/track",
        walk("2026-11-10T09:03:00+08:00", lon, lat, 3),
    )
    .await;
    set_clock(app, "2026-11-10T09:30:00+08:00");
    let p = ok(
        worker,
        &format!("/api/field/patrols/{patrol_id}/finish"),
        json!({"note": "巡查古城社区，未见异常"}),
    )
    .await;
    let (s, _) = worker
        .post_form(
            "/api/field/visits",
            json!({"subject_kind": "person", "subject_id": person, "note": "入户走访，了解家庭情况"}),
            &[jpeg(7)],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    p
}

async fn shifts_patrols_tracks_and_visits(b: Backend) {
    let app = TestApp::demo(b).await;
    let worker = app.login("grid_worker").await;
    let (_, me) = worker.get("/api/auth/me").await;
    let grid = me["area_code"].as_str().unwrap().to_owned();
    let wid = me["id"].as_str().unwrap().to_owned();
    let (lon, lat) = point_in(&worker, &grid).await;

    set_clock(&app, "2026-11-10T08:50:00+08:00");
    let (s, e) = worker.post("/api/field/heartbeat", json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_checked_in"))
    );
    let (_, st) = worker.get("/api/field/status").await;
    assert_eq!(st["shift"], Value::Null);

    let (s, pr) = worker
        .post(
            "/api/people",
            json!({"kind": "registered", "name": "李建国", "id_no": id_no(31), "address": ADDR}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pr}");
    let person = pr["id"].as_str().unwrap().to_owned();

    let p = day_of_work(&app, &worker, &person, (lon, lat)).await;
    // Three points 111 m apart: 222 m, measured from the track.
    assert_eq!(p["points"], 3);
    let m = p["meters"].as_i64().unwrap();
    assert!((215..=230).contains(&m), "{m}");
    assert_eq!(p["note"], "巡查古城社区，未见异常");
    // The same start again is the same patrol; the same points again are not stored twice.
    let (_, again) = worker
        .post("/api/field/patrols", json!({"id": p["id"]}))
        .await;
    assert_eq!(again["points"], 3);
    let (_, acc) = worker
        .post(
            "/api/field/track",
            walk("2026-11-10T09:03:00+08:00", lon, lat, 3),
        )
        .await;
    assert_eq!(acc["accepted"], 0);
    // Bad points are refused whole.
    let (s, e) = worker
        .post(
            "/api/field/track",
            json!({"points": [{"at": "2026-11-10T09:40:00+08:00", "lon": lon, "lat": 95.0}]}),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("points"))
    );
    let (s, _) = worker
        .post(
            "/api/field/track",
            json!({"points": [{"at": "2026-11-10T12:00:00+08:00", "lon": lon, "lat": lat}]}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a point from the future"
    );

    // Online time: 2 minutes, then heartbeats credit at most 3 minutes each.
    set_clock(&app, "2026-11-10T10:00:00+08:00");
    let shift = ok(&worker, "/api/field/heartbeat", json!({})).await;
    assert_eq!(shift["online_minutes"], 5);
    let out = ok(&worker, "/api/field/check-out", json!({})).await;
    assert!(out["ended_at"].is_string());

    let (_, wk) = worker.get("/api/field/week?day=2026-11-12").await;
    assert_eq!(
        (
            &wk["from"],
            &wk["to"],
            &wk["patrols"],
            &wk["visits"],
            &wk["online_minutes"]
        ),
        (
            &json!("2026-11-09"),
            &json!("2026-11-15"),
            &json!(1),
            &json!(1),
            &json!(5)
        ),
        "{wk}"
    );

    // Visits: a retry with the same id is the same visit; unknown subjects are refused.
    let vid = uuid::Uuid::now_v7().to_string();
    let body = json!({"id": vid, "subject_kind": "person", "subject_id": person, "note": "复访"});
    assert_eq!(
        worker.post("/api/field/visits", body.clone()).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        worker.post("/api/field/visits", body).await.0,
        StatusCode::OK
    );
    let (s, e) = worker
        .post(
            "/api/field/visits",
            json!({"subject_kind": "person", "subject_id": "nobody", "note": "x"}),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("subject_id"))
    );
    let (_, visits) = worker
        .get(&format!("/api/field/visits?subject_id={person}"))
        .await;
    assert_eq!(visits.as_array().unwrap().len(), 2);
    assert_eq!(visits[1]["subject_label"], "李建国");
    let sha = visits[1]["photos"][0].as_str().unwrap();
    let visit = visits[1]["id"].as_str().unwrap();
    let (s, _, bytes) = worker
        .get_bytes(&format!("/api/files/{sha}?visit={visit}"))
        .await;
    assert_eq!((s, bytes.len() > 100), (StatusCode::OK, true));

    // Tracks are for supervisors in scope, and each view is audited.
    assert_eq!(
        worker.get("/api/field/workers").await.0,
        StatusCode::FORBIDDEN
    );
    app.add_user("gw_peer", "网格员同事", &grid, "grid_worker")
        .await;
    let other = app.login("gw_peer").await;
    let (s, _) = other
        .get(&format!("/api/field/track?user_id={wid}&day=2026-11-10"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let far = app.login("town_centre2").await;
    let (s, _) = far
        .get(&format!("/api/field/track?user_id={wid}&day=2026-11-10"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let town = app.login("town_centre").await;
    let (s, tr) = town
        .get(&format!("/api/field/track?user_id={wid}&day=2026-11-10"))
        .await;
    assert_eq!(s, StatusCode::OK, "{tr}");
    assert_eq!(tr["points"].as_array().unwrap().len(), 3);
    assert_eq!(tr["points"][0]["patrol_id"], p["id"]);
    assert_eq!(tr["patrols"][0]["user_name"], "网格员张丽");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'track.view'")
            .await,
        1
    );
    let (_, ws) = town.get("/api/field/workers").await;
    let me_row = ws
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["user_id"] == wid.as_str())
        .cloned();
    assert!(me_row.is_some_and(|w| w["online"] == false), "{ws}");
    let (_, ps) = town.get(&format!("/api/field/patrols?user_id={wid}")).await;
    assert_eq!(ps.as_array().unwrap().len(), 1);

    // A finish sent late from offline ends the patrol when the worker finished it.
    set_clock(&app, "2026-11-10T11:00:00+08:00");
    let p2 = ok(&worker, "/api/field/patrols", json!({})).await;
    let finish = format!("/api/field/patrols/{}/finish", p2["id"].as_str().unwrap());
    set_clock(&app, "2026-11-10T12:00:00+08:00");
    let (s, e) = worker
        .post(&finish, json!({"ended_at": "2026-11-10T10:59:00+08:00"}))
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("ended_at"))
    );
    let f = ok(
        &worker,
        &finish,
        json!({"ended_at": "2026-11-10T11:20:00+08:00"}),
    )
    .await;
    assert_eq!(f["ended_at"], "2026-11-10T03:20:00.000000Z");
}
both!(shifts_patrols_tracks_and_visits);

async fn scores_bulletins_jobs_and_online_patrol(b: Backend) {
    let app = TestApp::demo(b).await;
    let worker = app.login("grid_worker").await;
    let (_, me) = worker.get("/api/auth/me").await;
    let grid = me["area_code"].as_str().unwrap().to_owned();
    let (lon, lat) = point_in(&worker, &grid).await;
    // Two more workers in the same grid.
    for (u, n) in [("gw_b", "网格员乙"), ("gw_c", "网格员丙")] {
        app.add_user(u, n, &grid, "grid_worker").await;
        sqlx::query(
            "INSERT INTO grid_members (grid_code, user_id, duty, assigned_at) \
             SELECT $1, id, 'worker', '2026-01-01' FROM users WHERE username = $2",
        )
        .bind(&grid)
        .bind(u)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    let (s, pr) = worker
        .post(
            "/api/people",
            json!({"kind": "registered", "name": "赵秀英", "id_no": id_no(45), "address": ADDR}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pr}");
    let person = pr["id"].as_str().unwrap().to_owned();

    // A November scheme for workers: a visit is worth 25 of 50, a patrol 50 of 50.
    let leader = app.login("leader").await;
    let (s, e) = leader
        .post(
            "/api/evaluation/schemes",
            json!({"subject_kind": "worker", "name": "x", "valid_from": "2026-11-01",
                   "items": [{"key": "visits", "weight": 0, "target": 2}], "bands": []}),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("items"))
    );
    let bands = json!([{"grade": "A", "min": 90, "stars": 5}, {"grade": "B", "min": 75, "stars": 4},
                       {"grade": "C", "min": 60, "stars": 3}, {"grade": "D", "min": 0, "stars": 1}]);
    let (s, v2) = leader
        .post(
            "/api/evaluation/schemes",
            json!({"subject_kind": "worker", "name": "网格员月度考核（试行）", "valid_from": "2026-11-01",
                   "items": [{"key": "visits", "weight": 50, "target": 2},
                             {"key": "patrols", "weight": 50, "target": 1}], "bands": bands}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(
        worker.post("/api/evaluation/schemes", json!({})).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // 甲 and 乙 each patrol once and visit once (a tie); 丙 only patrols.
    let b_api = app.login("gw_b").await;
    let c_api = app.login("gw_c").await;
    day_of_work(&app, &worker, &person, (lon, lat)).await;
    day_of_work(&app, &b_api, &person, (lon, lat)).await;
    set_clock(&app, "2026-11-11T09:00:00+08:00");
    let p = ok(&c_api, "/api/field/patrols", json!({})).await;
    ok(
        &c_api,
        &format!("/api/field/patrols/{}/finish", p["id"].as_str().unwrap()),
        json!({}),
    )
    .await;

    let (s, _) = leader
        .post(
            "/api/evaluation/compute",
            json!({"period_kind": "month", "period": "2026-12-01"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a month that has not begun"
    );
    let rep = ok(
        &leader,
        "/api/evaluation/compute",
        json!({"period_kind": "month", "period": "2026-11-10"}),
    )
    .await;
    assert!(rep["scores"].as_i64().unwrap() > 3, "{rep}");
    ok(
        &leader,
        "/api/evaluation/compute",
        json!({"period_kind": "month", "period": "2026-10-10"}),
    )
    .await;

    let (_, board) = leader
        .get(&format!("/api/evaluation/scores?period_kind=month&period=2026-11-30&subject_kind=worker&area={grid}"))
        .await;
    let rows: Vec<(String, f64, i64, String, i64)> = board["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["subject_name"].as_str().unwrap().to_owned(),
                r["score"].as_f64().unwrap(),
                r["rank"].as_i64().unwrap(),
                r["grade"].as_str().unwrap().to_owned(),
                r["stars"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(board["scheme"]["version"], 2);
    assert_eq!(board["period_label"], "2026年11月");
    assert_eq!(rows.len(), 3, "{board}");
    assert_eq!(
        (rows[0].1, rows[0].2, rows[0].3.as_str(), rows[0].4),
        (75.0, 1, "B", 4)
    );
    assert_eq!((rows[1].1, rows[1].2), (75.0, 1), "a tie shares the rank");
    assert_eq!(
        (rows[2].0.as_str(), rows[2].1, rows[2].2, rows[2].3.as_str()),
        ("网格员丙", 50.0, 3, "D")
    );

    // A score explains itself.
    let first = board["rows"][0]["id"].as_str().unwrap();
    let (_, d) = leader.get(&format!("/api/evaluation/scores/{first}")).await;
    let visits = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "visits")
        .unwrap()
        .clone();
    assert_eq!(
        (
            &visits["value"],
            &visits["attainment"],
            &visits["points"],
            &visits["weight"]
        ),
        (&json!(1.0), &json!(0.5), &json!(25.0), &json!(50.0))
    );
    assert_eq!(visits["raw"][0]["value"], 1.0);
    assert_eq!(d["scheme"]["version"], 2);

    // October is scored under the scheme in force then (version 1).
    let (_, oct) = leader
        .get(&format!("/api/evaluation/scores?period_kind=month&period=2026-10-01&subject_kind=worker&area={grid}"))
        .await;
    assert_eq!(oct["scheme"]["version"], 1);
    assert!(
        oct["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["score"] == 0.0),
        "{oct}"
    );

    // The grid is scored too, and areas out of scope are refused.
    let (_, grids) = leader
        .get("/api/evaluation/scores?period_kind=month&period=2026-11-01&subject_kind=grid")
        .await;
    assert!(
        grids["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["subject_code"] == grid.as_str())
    );
    let far = app.login("town_centre2").await;
    let (s, _) = far.get(&format!("/api/evaluation/scores/{first}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Bulletins: the template is editable; the PDF carries the Chinese text; xlsx too.
    let (_, mut t) = leader
        .get("/api/bulletins/template?period_kind=month")
        .await;
    t["title"] = json!("{area}{period}网格化工作月度通报");
    let (s, _) = leader.put("/api/bulletins/template", t.clone()).await;
    assert_eq!(s, StatusCode::OK);
    t["top_n"] = json!(1);
    assert_eq!(
        leader.put("/api/bulletins/template", t).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (s, bl) = leader
        .post(
            "/api/bulletins",
            json!({"period_kind": "month", "period": "2026-11-10"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{bl}");
    assert_eq!(bl["title"], "聊城市2026年11月网格化工作月度通报");
    let (s, mime, pdf) = leader
        .get_bytes(&format!(
            "/api/bulletins/{}/pdf",
            bl["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((s, mime.as_str()), (StatusCode::OK, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF"));
    let text: String = pdftotext(&pdf)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for want in [
        "工作通报",
        "聊城市2026年11月网格化工作月度通报",
        "网格员考核排名",
        "网格员丙",
        "东昌府区",
    ] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
    let (s, _, xlsx) = leader
        .get_bytes(&format!(
            "/api/bulletins/{}/xlsx",
            bl["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((s, &xlsx[..2]), (StatusCode::OK, &b"PK"[..]));
    let (_, list) = worker.get("/api/bulletins").await;
    assert_eq!(
        list["code"], "forbidden",
        "grid workers do not read bulletins"
    );
    let (_, list) = app.login("town_centre").await.get("/api/bulletins").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "a city bulletin reaches the townships"
    );

    // The jobs: on 1 December the week and November are scored and bulletins issued, once.
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00+08:00")
        .unwrap()
        .to_utc();
    let r = civgrid_server::evaluation::jobs::tick(&app.state, now)
        .await
        .unwrap();
    assert_eq!(
        r.scored,
        vec!["week 2026-11-23".to_owned(), "month 2026-11-01".to_owned()]
    );
    assert_eq!(r.bulletins, 2);
    let r = civgrid_server::evaluation::jobs::tick(&app.state, now)
        .await
        .unwrap();
    assert!(r.scored.is_empty() && r.bulletins == 0);

    // Online patrol: the new person record is drawn, returned, fixed and passed.
    let town = app.login("town_centre").await;
    let today = chrono::Utc::now()
        .with_timezone(&civgrid_core::calendar::cst())
        .date_naive();
    let (s, e) = town
        .post(
            "/api/inspections/draw",
            json!({"from": today.to_string(), "to": today.to_string(), "random": 500}),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("random"))
    );
    let rep = ok(&town, "/api/inspections/draw",
        json!({"from": (today - chrono::Duration::days(1)).to_string(), "to": today.to_string(), "random": 0})).await;
    assert_eq!(rep["new_records"], 1, "{rep}");
    let again = ok(
        &town,
        "/api/inspections/draw",
        json!({"from": today.to_string(), "to": today.to_string(), "random": 5}),
    )
    .await;
    assert_eq!(
        again["drawn"], 0,
        "a record under review is not drawn twice"
    );
    let (_, page) = town.get("/api/inspections?status=pending").await;
    let item = page["items"][0].clone();
    assert_eq!(
        (item["record_label"].as_str(), item["reason_label"].as_str()),
        (Some("赵秀英"), Some("新增登记"))
    );
    let iid = item["id"].as_str().unwrap();
    let (s, _) = town
        .post(
            &format!("/api/inspections/{iid}/review"),
            json!({"result": "returned"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a return needs a reason"
    );
    ok(
        &town,
        &format!("/api/inspections/{iid}/review"),
        json!({"result": "returned", "note": "联系电话未登记"}),
    )
    .await;
    let (_, mine) = worker.get("/api/inspections/mine").await;
    assert_eq!(mine[0]["note"], "联系电话未登记");
    let (_, n) = worker.get("/api/notifications?unread=true").await;
    assert!(
        n.as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "inspection_returned"),
        "{n}"
    );
    let (s, _) = b_api
        .post(
            &format!("/api/inspections/{iid}/fixed"),
            json!({"note": "已补录"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "only the worker who entered it replies"
    );
    ok(
        &worker,
        &format!("/api/inspections/{iid}/fixed"),
        json!({"note": "已补录联系电话"}),
    )
    .await;
    let done = ok(
        &town,
        &format!("/api/inspections/{iid}/review"),
        json!({"result": "fine"}),
    )
    .await;
    assert_eq!(done["status"], "fine");
    let (s, e) = town
        .post(
            &format!("/api/inspections/{iid}/review"),
            json!({"result": "fine"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("move_not_allowed"))
    );

    // The dashboard.
    let (s, dash) = leader.get("/api/dashboard").await;
    assert_eq!(s, StatusCode::OK, "{dash}");
    assert!(dash["today"]["workers"].as_i64().unwrap() >= 3);
    assert_eq!(dash["ranking"]["period_start"], "2026-11-01");
    assert_eq!(dash["ranking"]["subject_kind"], "county");
    assert_eq!(dash["area_name"], "聊城市");
    // Thirty days, ending today, quiet days as zeros.
    let trend = dash["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 30);
    assert_eq!(trend[29]["day"], "2026-11-11");
    assert!(trend.iter().all(|d| d["reported"] == 0));
}
both!(scores_bulletins_jobs_and_online_patrol);

/// The text of a PDF, by poppler's `pdftotext` (installed by the test command).
fn pdftotext(pdf: &[u8]) -> String {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", &f.path().display().to_string(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) must be installed: scripts/test installs it");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
