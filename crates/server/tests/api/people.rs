//! Base data: people, households, houses, organisations and addresses — validation to the
//! national standards, masking and audited unmasking, history, search, import and export,
//! and encryption at rest.

use crate::both;
use crate::support::*;
use civgrid_core::ids::id_check_char;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A valid ID number of `county` born on `date` (YYYYMMDD) with sequence `seq`.
fn id(county: &str, date: &str, seq: u32) -> String {
    let first = format!("{county}{date}{seq:03}");
    format!("{first}{}", id_check_char(first.as_bytes()))
}

const ADDR: &str = "东昌府区古楼街道古城社区光明路12号3号楼2单元301室";

fn person(name: &str, id_no: &str) -> Value {
    json!({"kind": "registered", "name": name, "id_no": id_no, "phone": "13806351234",
           "nation": "汉族", "marriage": "20", "address": ADDR})
}

fn issues(body: &Value) -> Vec<String> {
    body["details"]["issues"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    format!(
                        "{}:{}",
                        i["field"].as_str().unwrap_or(""),
                        i["code"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn register_mask_unmask_and_history(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let idn = id("371502", "19800101", 11);
    let (s, p) = town.post("/api/people", person("王芳", &idn)).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    // Masked, with sex and birth date derived from the number.
    assert_eq!(p["id_no"], format!("371502********{}", &idn[14..]));
    assert_eq!(p["phone"], "138****1234");
    assert_eq!(p["sex"], "1");
    assert_eq!(p["birth_date"], "1980-01-01");
    assert_eq!(p["nation"], "01", "labels are taken as codes");
    assert!(
        p["area_code"].as_str().unwrap().starts_with("371502001001"),
        "{p}"
    );
    assert!(!p.to_string().contains(&idn), "never in clear");
    let pid = p["id"].as_str().unwrap().to_owned();

    // The same number again is refused.
    let (s, e) = town.post("/api/people", person("王芳芳", &idn)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issues(&e), vec!["id_no:duplicate"]);

    // 五码关联: the address, and the events reported with the person's phone.
    let (s, d) = town.get(&format!("/api/people/{pid}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["address"]["road"], "光明路");
    assert_eq!(d["address"]["room"], "301");
    assert_eq!(d["phone"], "138****1234");

    // Edit: new phone and a move to nowhere else; the history names the fields.
    let mut edit = person("王芳", &idn);
    edit["phone"] = json!("0635-8221234");
    edit["occupation"] = json!("教师");
    edit["version"] = json!(1);
    let (s, u) = town.put(&format!("/api/people/{pid}"), edit.clone()).await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["phone"], "0635-822****");
    assert_eq!(u["version"], 2);
    let (s, _) = town.put(&format!("/api/people/{pid}"), edit).await;
    assert_eq!(s, StatusCode::CONFLICT, "a stale version loses");
    let (_, h) = town.get(&format!("/api/people/{pid}/history")).await;
    let fields: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"phone") && fields.contains(&"occupation") && fields.contains(&"record"),
        "{h}"
    );
    let phone = h
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "phone")
        .unwrap();
    assert_eq!(
        phone["old_value"], "138****1234",
        "history keeps masked values"
    );

    // Unmasking: grid workers may not; a reason is required; it is audited.
    let gw = app.login("grid_worker").await;
    let (s, _) = gw
        .post(
            &format!("/api/people/{pid}/unmask"),
            json!({"reason": "核实身份信息"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = town
        .post(
            &format!("/api/people/{pid}/unmask"),
            json!({"reason": "查"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    let audits = app
        .scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'person.unmask'")
        .await;
    assert_eq!(audits, 0);
    let (s, clear) = town
        .post(
            &format!("/api/people/{pid}/unmask"),
            json!({"reason": "入户走访核实身份"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{clear}");
    assert_eq!(clear["id_no"], idn.as_str());
    assert_eq!(clear["phone"], "0635-8221234");
    let (reason,): (String,) =
        sqlx::query_as("SELECT detail FROM audit_log WHERE action = 'person.unmask'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(reason, "入户走访核实身份");

    // Another township's centre cannot read it.
    let other = app.login("town_centre2").await;
    let (s, _) = other.get(&format!("/api/people/{pid}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // States, never deletes.
    let (s, m) = town
        .post(
            &format!("/api/people/{pid}/state"),
            json!({"state": "moved_out", "note": "迁往济南", "version": 2}),
        )
        .await;
    assert_eq!(
        (s, m["state"].as_str()),
        (StatusCode::OK, Some("moved_out")),
        "{m}"
    );
    let (_, l) = town.get("/api/people?q=王芳").await;
    assert_eq!(
        l["items"].as_array().unwrap().len(),
        0,
        "moved out is not in the default list"
    );
    let (_, l) = town.get("/api/people?q=王芳&state=all").await;
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
}
both!(register_mask_unmask_and_history);

async fn checks_follow_the_standards(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let good = id("371502", "19900315", 22);
    let mut bad_check = good.clone();
    bad_check.pop();
    bad_check.push(if good.ends_with('0') { '1' } else { '0' });
    let (s, e) = town.post("/api/people", person("李强", &bad_check)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issues(&e), vec!["id_no:id_check"], "{e}");
    // Sex and birth date entered must agree with the number (22 is even: female).
    let mut p = person("李强", &good);
    p["sex"] = json!("1");
    p["birth_date"] = json!("1990-03-16");
    p["nation"] = json!("火星族");
    p["phone"] = json!("12345");
    let (s, e) = town.post("/api/people", p).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let mut got = issues(&e);
    got.sort();
    assert_eq!(
        got,
        vec![
            "birth_date:birth_mismatch",
            "nation:unknown_code",
            "phone:phone_format",
            "sex:sex_mismatch"
        ],
        "{e}"
    );
    // A 15-digit legacy number is upgraded; an unknown county code is only a warning.
    let (s, p) = town
        .post("/api/people", person("赵敏", "371502900101002"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["birth_date"], "1990-01-01");
    let (s, p) = town
        .post("/api/people", person("钱多", &id("379999", "19700101", 33)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(p["warnings"][0]["code"], "county_unknown");
    // An address the parser cannot place is an error on the field.
    let mut p = person("孙丽", &id("371502", "19850101", 44));
    p["address"] = json!("不知道在哪里");
    let (s, e) = town.post("/api/people", p).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issues(&e), vec!["address:address_unplaced"]);
    // Wrong role.
    let leader = app.login("leader").await;
    let (s, _) = leader
        .post("/api/people", person("周杰", &id("371502", "19850101", 55)))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
both!(checks_follow_the_standards);

async fn search_by_name_tail_phone_and_address(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let a = id("371502", "19750505", 66);
    let c = id("371502", "19760606", 77);
    for (name, idn, phone, addr) in [
        (
            "王芳",
            &a,
            "13906351111",
            "东昌府区古楼街道古城社区幸福小区5号楼1单元101室",
        ),
        (
            "张小明",
            &c,
            "13906352222",
            "东昌府区古楼街道古城社区建设路8号",
        ),
    ] {
        let mut p = person(name, idn);
        p["phone"] = json!(phone);
        p["address"] = json!(addr);
        let (s, r) = town.post("/api/people", p).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, r) = town.get("/api/people?q=王芳").await;
    assert_eq!(names(&r), vec!["王芳"], "two-character names");
    let (_, r) = town.get("/api/people?q=小明").await;
    assert_eq!(names(&r), vec!["张小明"], "part of a name");
    let (_, r) = town.get(&format!("/api/people?q={}", &c[14..])).await;
    assert_eq!(names(&r), vec!["张小明"], "last four of the ID");
    let (_, r) = town.get(&format!("/api/people?q={}", &a[12..])).await;
    assert_eq!(names(&r), vec!["王芳"], "last six of the ID");
    let (_, r) = town.get(&format!("/api/people?q={a}")).await;
    assert_eq!(names(&r), vec!["王芳"], "the whole ID");
    let (_, r) = town.get("/api/people?q=13906352222").await;
    assert_eq!(names(&r), vec!["张小明"], "phone");
    let (_, r) = town.get("/api/people?address=幸福小区").await;
    assert_eq!(names(&r), vec!["王芳"], "address fragment");
    let (s, e) = town.get("/api/people?q=王").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    // Scoped: the other township's centre finds nobody.
    let other = app.login("town_centre2").await;
    let (_, r) = other.get("/api/people?q=王芳").await;
    assert!(names(&r).is_empty());
    // Addresses by fragment, and everything at one.
    let (_, addrs) = town.get("/api/addresses?q=建设路").await;
    let aid = addrs[0]["id"].as_str().unwrap().to_owned();
    let (_, at) = town.get(&format!("/api/addresses/{aid}")).await;
    assert_eq!(at["people"][0]["name"], "张小明");
    let (_, parsed) = town
        .post(
            "/api/addresses/parse",
            json!({"text": "聊城东昌府古楼古城社区建设路8号"}),
        )
        .await;
    assert_eq!(parsed["parsed"]["village"], "371502001001");
    assert_eq!(parsed["matches"][0]["address"]["id"], aid.as_str());
}
both!(search_by_name_tail_phone_and_address);

fn csv(rows: &[String]) -> Vec<u8> {
    let header = "人员类别,姓名,证件类型,证件号码,性别,出生日期,民族,籍贯,婚姻状况,政治面貌,学历,宗教信仰,职业,服务处所,联系电话,现住地址,网格编码,户号,与户主关系,居住方式";
    let mut s = format!("\u{feff}{header}\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s.into_bytes()
}

fn row(name: &str, idn: &str, hh: &str, rel: &str) -> String {
    format!(
        "户籍人口,{name},居民身份证,{idn},,,汉族,,已婚,群众,,,,,13806351234,{ADDR},,{hh},{rel},房主自住"
    )
}

async fn import_strict_valid_only_idempotent_and_export(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let good = vec![
        row("刘洋", &id("371502", "19700101", 101), "000000001", "户主"),
        row("陈静", &id("371502", "19720202", 102), "000000001", "配偶"),
    ];
    let mut with_bad = good.clone();
    with_bad.push(row("错号", "371502197001010000", "", "户主"));
    let people = app.scalar("SELECT COUNT(*) FROM people").await;
    // Strict: one bad row, nothing written; the report names row and column.
    let (s, e) = town
        .post_file("/api/people/import?mode=strict", "p.csv", csv(&with_bad))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("import_rejected")),
        "{e}"
    );
    assert_eq!(e["details"]["errors"][0]["row"], 4);
    assert_eq!(e["details"]["errors"][0]["column"], "证件号码");
    assert_eq!(e["details"]["errors"][0]["code"], "id_check");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM people").await,
        people,
        "all or nothing"
    );
    // Valid only: the good rows.
    let (s, r) = town
        .post_file(
            "/api/people/import?mode=valid_only",
            "p.csv",
            csv(&with_bad),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["created"].as_u64(), r["failed"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    // The same file again changes nothing, not even the audit log.
    let audits = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let changes = app.scalar("SELECT COUNT(*) FROM record_changes").await;
    let (s, r) = town
        .post_file("/api/people/import?mode=strict", "p.csv", csv(&good))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["created"].as_u64(),
            r["unchanged"].as_u64(),
            r["written"].as_bool()
        ),
        (Some(0), Some(2), Some(false)),
        "{r}"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, audits);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM record_changes").await,
        changes
    );
    // One household, headed by its 户主, at one standard address.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM households WHERE household_no = '000000001'")
            .await,
        1
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM households h JOIN people p ON p.id = h.head_person_id WHERE p.name = '刘洋'").await, 1);
    // A changed row updates and is kept in the history.
    let mut changed = good.clone();
    changed[1] = changed[1].replace("13806351234", "13906359999");
    let (_, r) = town
        .post_file("/api/people/import", "p.csv", csv(&changed))
        .await;
    assert_eq!(
        (r["updated"].as_u64(), r["unchanged"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    // Malformed files.
    let (s, e) = town
        .post_file("/api/people/import", "p.xlsx", b"not a zip".to_vec())
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid_import_file")
        )
    );
    let (s, e) = town
        .post_file(
            "/api/people/import",
            "p.csv",
            "姓名,鞋码\r\n张三,42\r\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid_import_file")
        ),
        "{e}"
    );
    // The xlsx template has the headers and its code table.
    let (s, ct, bytes) = town.get_bytes("/api/people/template?format=xlsx").await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.contains("spreadsheetml"));
    {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        assert_eq!(wb.sheet_names(), vec!["实有人口", "代码表"]);
        let r = wb.worksheet_range("实有人口").unwrap();
        assert_eq!(r.get((0, 0)).unwrap().to_string(), "人员类别*");
    }
    // The template, filled in and uploaded as xlsx, imports.
    {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("实有人口").unwrap();
        let header = "人员类别,姓名,证件类型,证件号码,性别,出生日期,民族,籍贯,婚姻状况,政治面貌,学历,宗教信仰,职业,服务处所,联系电话,现住地址,网格编码,户号,与户主关系,居住方式";
        for (i, h) in header.split(',').enumerate() {
            ws.write_string(0, i as u16, h).unwrap();
        }
        let r = row("黄磊", &id("371502", "19880808", 103), "", "户主");
        for (i, v) in r.split(',').enumerate() {
            ws.write_string(1, i as u16, v).unwrap();
        }
        let (s, r) = town
            .post_file("/api/people/import", "p.xlsx", wb.save_to_buffer().unwrap())
            .await;
        assert_eq!((s, r["created"].as_u64()), (StatusCode::OK, Some(1)), "{r}");
    }
    // Export: scoped and masked.
    let (s, _, bytes) = town.get_bytes("/api/people/export?format=csv").await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains("刘洋") && text.contains("371502********"),
        "{text}"
    );
    assert!(!text.contains(&id("371502", "19700101", 101)), "masked");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'people.export'")
            .await,
        1
    );
    let gw = app.login("grid_worker").await;
    let (s, _) = gw
        .post_file("/api/people/import", "p.csv", csv(&good))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
both!(import_strict_valid_only_idempotent_and_export);

async fn nothing_personal_in_clear_at_rest(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let idn = id("371502", "19660606", 201);
    let mut p = person("吴敏", &idn);
    p["phone"] = json!("13712345678");
    let (s, r) = town.post("/api/people", p).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (s, _) = town
        .post(
            &format!("/api/people/{}/unmask", r["id"].as_str().unwrap()),
            json!({"reason": "核实户籍信息"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    match b {
        Backend::Sqlite => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&app.db.pool)
                .await
                .unwrap();
            let path = app.url.trim_start_matches("sqlite://");
            let mut raw = std::fs::read(path).unwrap();
            raw.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            let hay = String::from_utf8_lossy(&raw);
            assert!(!hay.contains(&idn), "ID number in the database file");
            assert!(!hay.contains("13712345678"), "phone in the database file");
            assert!(hay.contains("吴敏"), "the check reads the real file");
        }
        Backend::Postgres => {
            for t in [
                "people",
                "audit_log",
                "record_changes",
                "search_grams",
                "addresses",
            ] {
                let n = app.scalar(&format!("SELECT COUNT(*) FROM {t} x WHERE CAST(x AS TEXT) LIKE '%{idn}%' OR CAST(x AS TEXT) LIKE '%13712345678%'")).await;
                assert_eq!(n, 0, "{t}");
            }
            assert_eq!(
                app.scalar("SELECT COUNT(*) FROM people x WHERE CAST(x AS TEXT) LIKE '%吴敏%'")
                    .await,
                1
            );
        }
    }
}
both!(nothing_personal_in_clear_at_rest);

async fn houses_orgs_and_code_tables(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let owner = id("371502", "19600101", 301);
    let (s, h) = town.post("/api/houses", json!({"address": "东昌府区古楼街道古城社区运河路66号", "purpose": "住宅",
        "floor_area": 96.5, "owner_name": "马强", "owner_id_no": owner, "owner_phone": "13800000001", "is_rental": true})).await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    assert_eq!(h["purpose"], "01");
    assert_eq!(h["owner_id_no"], format!("371502********{}", &owner[14..]));
    let hid = h["id"].as_str().unwrap().to_owned();
    // A tenant at the house: the house lists everyone living there.
    let mut t = person("何洁", &id("410102", "19950101", 302));
    t["kind"] = json!("floating");
    t["house_id"] = json!(hid);
    t["residence"] = json!("tenant");
    t["address"] = Value::Null;
    let (s, tp) = town.post("/api/people", t).await;
    assert_eq!(s, StatusCode::CREATED, "{tp}");
    let (_, d) = town.get(&format!("/api/houses/{hid}")).await;
    assert_eq!(d["residents"][0]["name"], "何洁");
    assert_eq!(d["residents"][0]["residence"], "tenant");
    let (s, clear) = town
        .post(
            &format!("/api/houses/{hid}/unmask"),
            json!({"reason": "出租房屋核查"}),
        )
        .await;
    assert_eq!(
        (s, clear["id_no"].as_str()),
        (StatusCode::OK, Some(owner.as_str()))
    );
    // A house number with a '-' is searched as a number, not as a name.
    let (s, n) = town
        .post(
            "/api/houses",
            json!({"address": "东昌府区古楼街道古城社区运河路67号", "house_no": "GL-0067"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{n}");
    let (s, found) = town.get("/api/houses?q=GL-0067").await;
    assert_eq!(
        (s, &found["items"][0]["id"]),
        (StatusCode::OK, &n["id"]),
        "{found}"
    );
    let (_, list) = town.get("/api/houses?rental=true&address=运河路").await;
    assert_eq!(list["items"][0]["id"], hid.as_str());
    // Its address lists it, let, as every house view does (a boolean).
    let (_, at) = town
        .get(&format!(
            "/api/addresses/{}",
            h["address_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(at["houses"][0]["is_rental"], json!(true), "{at}");
    // An edit without the owner's ID number keeps it; sent empty, the number is removed.
    let masked = format!("371502********{}", &owner[14..]);
    let edit = |v: &Value, id_no: Option<&str>| {
        let mut b = json!({"purpose": "住宅", "owner_name": "马强", "is_rental": true,
                           "version": v["house"]["version"]});
        if let Some(n) = id_no {
            b["owner_id_no"] = json!(n);
        }
        b
    };
    let path = format!("/api/houses/{hid}");
    let (s, kept) = town.put(&path, edit(&town.get(&path).await.1, None)).await;
    assert_eq!(
        (s, kept["owner_id_no"].as_str()),
        (StatusCode::OK, Some(masked.as_str())),
        "{kept}"
    );
    let (s, gone) = town
        .put(&path, edit(&town.get(&path).await.1, Some("")))
        .await;
    assert_eq!(
        (s, &gone["owner_id_no"]),
        (StatusCode::OK, &Value::Null),
        "{gone}"
    );
    // Organisations: the USCC is checked to GB 32100.
    let (s, e) = town.post("/api/orgs", json!({"kind": "nonpublic", "name": "聊城鑫华商贸有限公司", "uscc": "91350100M000100Y44",
        "address": "东昌府区古楼街道古城社区运河路68号"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issues(&e), vec!["uscc:uscc_invalid"]);
    let (s, o) = town.post("/api/orgs", json!({"kind": "非公有制经济组织", "name": "聊城鑫华商贸有限公司", "uscc": "91350100M000100Y43",
        "address": "东昌府区古楼街道古城社区运河路68号", "legal_rep_name": "马强", "legal_rep_id_no": owner, "employees": 12,
        "phone": "13900000002"})).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let opath = format!("/api/orgs/{}", o["id"].as_str().unwrap());
    let (s, kept) = town
        .put(
            &opath,
            json!({"kind": "nonpublic", "name": "聊城鑫华商贸有限公司",
        "uscc": "91350100M000100Y43", "legal_rep_name": "马强", "version": o["version"]}),
        )
        .await;
    assert_eq!(
        (s, kept["legal_rep_id_no"].as_str()),
        (StatusCode::OK, Some(masked.as_str())),
        "{kept}"
    );
    let (s, gone) = town
        .put(
            &opath,
            json!({"kind": "nonpublic", "name": "聊城鑫华商贸有限公司",
        "uscc": "91350100M000100Y43", "legal_rep_name": "马强", "legal_rep_id_no": "",
        "version": kept["version"]}),
        )
        .await;
    assert_eq!(
        (s, &gone["legal_rep_id_no"]),
        (StatusCode::OK, &Value::Null),
        "{gone}"
    );
    // Its own phone, masked like the others, is shown in clear with theirs.
    assert_eq!(gone["phone"], "139****0002");
    let (s, clear) = town
        .post(
            &format!("{opath}/unmask"),
            json!({"reason": "核实单位电话"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{clear}");
    assert_eq!(
        (&clear["org_phone"], &clear["id_no"]),
        (&json!("13900000002"), &Value::Null)
    );
    let (_, found) = town.get("/api/orgs?q=鑫华").await;
    assert_eq!(found["items"][0]["uscc"], "91350100M000100Y43");
    let (_, found) = town.get("/api/orgs?q=91350100M000100Y43").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    // Code tables: read, and a new version of one code.
    let (_, dicts) = town.get("/api/dicts").await;
    let nations = dicts
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["dict_type"] == "nation")
        .count();
    assert_eq!(nations, 58);
    let admin = app.login("admin").await;
    let (s, v) = admin
        .put("/api/dicts/inflow_reason/06", json!({"label": "拆迁安置"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, dicts) = town.get("/api/dicts").await;
    assert!(
        dicts
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["dict_type"] == "inflow_reason" && d["label"] == "拆迁安置")
    );
    let (s, _) = app
        .login("grid_worker")
        .await
        .put("/api/dicts/inflow_reason/07", json!({"label": "x"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
both!(houses_orgs_and_code_tables);

async fn special_data_and_key_rotation(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let mut p = person("郑磊", &id("371502", "19820202", 401));
    p["special_type"] = json!("mental");
    p["special"] = json!({"risk_level": "3", "guardian_name": "郑强"});
    let (s, r) = town.post("/api/people", p).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["special"]["risk_level"], "3");
    let pid = r["id"].as_str().unwrap().to_owned();
    // Leaders read people but not special populations.
    let leader = app.login("leader").await;
    let (s, v) = leader.get(&format!("/api/people/{pid}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["person"]["special"].is_null() && v["person"]["special_type"].is_null(),
        "{v}"
    );
    let (s, _) = leader.get("/api/people?special_type=any").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, l) = town.get("/api/people?special_type=mental").await;
    assert_eq!(l["items"][0]["id"], pid.as_str());
    // Rotate the data key and re-seal: values still open, now under the new key.
    let out = app.cli(&["keys", "rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = app.cli(&["keys", "reencrypt"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("重新加密 2 个字段"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM people WHERE id_enc LIKE 'k2:%' AND phone_enc LIKE 'k2:%'"
        )
        .await,
        1
    );
    let vault = civgrid_server::privacy::Vault::load(&app.state.cfg).unwrap();
    let (enc,): (String,) = sqlx::query_as("SELECT id_enc FROM people")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(vault.open(&enc).unwrap(), id("371502", "19820202", 401));
}
both!(special_data_and_key_rotation);

fn sheet(header: &str, rows: &[&str]) -> Vec<u8> {
    let mut s = format!("\u{feff}{header}\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s.into_bytes()
}

async fn houses_and_orgs_import_and_export(b: Backend) {
    let app = TestApp::demo(b).await;
    let town = app.login("town_centre").await;
    let owner = id("371502", "19650505", 201);
    let hh = "房屋编号,房屋地址,网格编码,房屋名称,建筑用途,房屋用途,建筑面积,隐患类型,房主姓名,房主证件类型,房主证件号码,房主联系电话,是否出租,经纬度";
    let good = [
        format!(
            "GL-TEST-0001,{ADDR},,光明小区3号楼301,住宅,出租,89.5,,王芳,居民身份证,{owner},13806351234,是,"
        ),
        "GL-TEST-0002,东昌府区古楼街道古城社区光明路14号,,,商业,门面,45,,,,,,否,\"115.98,36.45\""
            .to_string(),
    ];
    let bad = "GL-TEST-0003,东昌府区古楼街道古城社区光明路16号,,,住宅,,很大,,,,,,也许,";
    let houses = app.scalar("SELECT COUNT(*) FROM houses").await;
    let rows: Vec<&str> = good.iter().map(String::as_str).chain([bad]).collect();
    // Strict: nothing written; each bad cell reported on its column.
    let (s, e) = town
        .post_file("/api/houses/import?mode=strict", "h.csv", sheet(hh, &rows))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("import_rejected")),
        "{e}"
    );
    assert_eq!(e["details"]["errors"][0]["row"], 4, "{e}");
    assert_eq!(e["details"]["errors"][0]["column"], "建筑面积", "{e}");
    assert_eq!(e["details"]["errors"][1]["column"], "是否出租", "{e}");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM houses").await, houses);
    // Valid only: the good rows, a let house among them.
    let (s, r) = town
        .post_file(
            "/api/houses/import?mode=valid_only",
            "h.csv",
            sheet(hh, &rows),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["created"].as_u64(), r["failed"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM houses WHERE house_no = 'GL-TEST-0001' AND is_rental = 1")
            .await,
        1
    );
    // The same file again changes nothing, not even the audit log.
    let good_rows: Vec<&str> = good.iter().map(String::as_str).collect();
    let audits = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let (s, r) = town
        .post_file("/api/houses/import", "h.csv", sheet(hh, &good_rows))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["unchanged"].as_u64(), r["written"].as_bool()),
        (Some(2), Some(false)),
        "{r}"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM audit_log").await, audits);
    // A changed cell updates the house and its history.
    let changed = good[1].replace(",门面,45,", ",门面,60,");
    let (_, r) = town
        .post_file(
            "/api/houses/import",
            "h.csv",
            sheet(hh, &[&good[0], &changed]),
        )
        .await;
    assert_eq!(
        (r["updated"].as_u64(), r["unchanged"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    // Export: scoped, owner masked, audited; the template opens as xlsx.
    let (s, _, bytes) = town.get_bytes("/api/houses/export?format=csv").await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains("GL-TEST-0001") && text.contains("王芳"),
        "{text}"
    );
    assert!(
        !text.contains(&owner) && !text.contains("13806351234"),
        "masked"
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'houses.export'")
            .await,
        1
    );
    let (s, _, bytes) = town.get_bytes("/api/houses/template?format=xlsx").await;
    assert_eq!(s, StatusCode::OK);
    {
        use calamine::{Reader, Xlsx};
        let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(wb.sheet_names(), vec!["实有房屋", "代码表"]);
    }

    // A grid that does not exist is reported on its column.
    let (s, e) = town
        .post_file(
            "/api/houses/import",
            "h.csv",
            sheet(
                hh,
                &[",东昌府区古楼街道古城社区光明路30号,371502001001999,,,,,,,,,,否,"],
            ),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["details"]["errors"][0]["column"], "网格编码", "{e}");

    // Organisations: matched by USCC, or by name at the same address.
    let oh = "组织类别,组织名称,统一社会信用代码,组织类型,组织地址,网格编码,联系电话,法定代表人,法定代表人联系电话,从业人数";
    let orgs = [
        "非公有制经济组织,聊城鑫华商贸有限公司,91350100M000100Y43,有限责任公司,东昌府区古楼街道古城社区光明路12号,,0635-8881234,李强,13806351234,12",
        "社会组织,古城社区书画协会,,社会团体,东昌府区古楼街道古城社区光明路18号,,,,,",
    ];
    let (s, r) = town
        .post_file("/api/orgs/import", "o.csv", sheet(oh, &orgs))
        .await;
    assert_eq!((s, r["created"].as_u64()), (StatusCode::OK, Some(2)), "{r}");
    let (_, r) = town
        .post_file("/api/orgs/import", "o.csv", sheet(oh, &orgs))
        .await;
    assert_eq!(r["unchanged"].as_u64(), Some(2), "{r}");
    let (s, e) = town
        .post_file(
            "/api/orgs/import",
            "o.csv",
            sheet(oh, &["非公有制经济组织,坏代码公司,91350100M000100Y44,,东昌府区古楼街道古城社区光明路20号,,,,,"]),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        e["details"]["errors"][0]["column"], "统一社会信用代码",
        "{e}"
    );
    let (s, _, bytes) = town.get_bytes("/api/orgs/export?format=xlsx").await;
    assert_eq!(s, StatusCode::OK);
    {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let r = wb.worksheet_range("组织").unwrap();
        let all: Vec<String> = r.cells().map(|(_, _, c)| c.to_string()).collect();
        assert!(all.iter().any(|c| c == "聊城鑫华商贸有限公司"));
        assert!(!all.iter().any(|c| c == "13806351234"), "masked");
    }
    let gw = app.login("grid_worker").await;
    let (s, _) = gw
        .post_file("/api/orgs/import", "o.csv", sheet(oh, &orgs))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A client-chosen id: the same create sent again (an offline queue retrying after a lost
    // answer) is answered 200 with the stored record, even for a house without a number.
    let id = "0192f0c4-7a3e-7000-8000-00000000c1d0";
    let body =
        json!({"id": id, "address": "东昌府区古楼街道古城社区光明路22号", "purpose": "住宅"});
    let (s, first) = gw.post("/api/houses", body.clone()).await;
    assert_eq!(
        (s, first["id"].as_str()),
        (StatusCode::CREATED, Some(id)),
        "{first}"
    );
    let (s, again) = gw.post("/api/houses", body).await;
    assert_eq!(
        (s, &again["house_no"]),
        (StatusCode::OK, &first["house_no"]),
        "{again}"
    );
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM houses WHERE id = '{id}'"))
            .await,
        1
    );
    let oid = "0192f0c4-7a3e-7000-8000-00000000c1d1";
    let org = json!({"id": oid, "kind": "社会组织", "name": "光明路象棋协会", "address": "东昌府区古楼街道古城社区光明路24号"});
    let (s, _) = gw.post("/api/orgs", org.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, again) = gw.post("/api/orgs", org).await;
    assert_eq!(
        (s, again["id"].as_str()),
        (StatusCode::OK, Some(oid)),
        "{again}"
    );
    let (s, e) = gw
        .post(
            "/api/houses",
            json!({"id": "not-a-uuid", "address": "东昌府区古楼街道古城社区光明路26号"}),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("id")),
        "{e}"
    );
}
both!(houses_and_orgs_import_and_export);
