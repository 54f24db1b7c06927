//! `civgrid import divisions`: counts, idempotence, history on a newer year, bad rows.

use crate::both;
use crate::support::*;
use civgrid_server::areas::import::LIAOCHENG;
use reqwest::StatusCode;
use std::path::Path;

fn write_set(dir: &Path, edit: impl Fn(&str, String) -> String) {
    for (name, content) in LIAOCHENG {
        std::fs::write(dir.join(name), edit(name, content.to_string())).unwrap();
    }
}

fn stdout(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn import_is_idempotent_and_keeps_history(b: Backend) {
    // spawn_app already imported the fixture: importing the same files again writes nothing.
    let app = spawn_app(b).await;
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), |_, c| c);
    let rows = app.scalar("SELECT COUNT(*) FROM areas").await;
    let audits = app.scalar("SELECT COUNT(*) FROM audit_log").await;
    let out = app.cli(&["import", "divisions", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("新增 0，更名/调整 0，撤销 0，未变 2554"),
        "{}",
        stdout(&out)
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM areas").await, rows);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM audit_log").await,
        audits,
        "nothing written, not even audit"
    );
    assert_eq!(rows, 1 + 1 + 8 + 136 + 2408);

    // A newer year: one community renamed, one abolished, one new.
    let year = tempfile::tempdir().unwrap();
    write_set(year.path(), |name, c| match name {
        "villages.csv" => c
            .replace("371502001001,\"", "371502001001,\"新东关")
            .replace("371502001002,", "371502001999,"),
        _ => c,
    });
    let out = app.cli(&[
        "import",
        "divisions",
        year.path().to_str().unwrap(),
        "--year",
        "2024",
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("新增 1，更名/调整 1，撤销 1"),
        "{}",
        stdout(&out)
    );
    // History keeps the old names with their years; the abolished code is end-dated.
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM areas WHERE code = '371502001001'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
    let (to,): (Option<i64>,) =
        sqlx::query_as("SELECT valid_to FROM areas WHERE code = '371502001002'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(to, Some(2024));
    // An older year is refused.
    let out = app.cli(&[
        "import",
        "divisions",
        dir.path().to_str().unwrap(),
        "--year",
        "2022",
    ]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("更早"), "{}", stdout(&out));

    // Through the API: the renamed community shows its new name and its history.
    app.add_user("admin", "管理员", "3715", "admin").await;
    let api = app.login("admin").await;
    let (s, body) = api.get("/api/areas/371502001001/history").await;
    assert_eq!(s, StatusCode::OK);
    let versions = body.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["valid_to"], 2024);
    assert!(versions[1]["name"].as_str().unwrap().starts_with("新东关"));
    let (s, body) = api.get("/api/areas/371502001002").await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("area_not_found"))
    );
}
both!(import_is_idempotent_and_keeps_history);

async fn bad_rows_are_reported_with_lines(b: Backend) {
    let (db, url, _tmp) = fresh_db_empty(b).await;
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), |name, c| match name {
        // Line 3: wrong length; line 4: unknown parent; the duplicate is at the end.
        "villages.csv" => {
            let mut lines: Vec<String> = c.lines().map(str::to_owned).collect();
            lines[2] = lines[2].replacen("371502001002", "37150200100", 1);
            lines[3] = lines[3]
                .replacen("371502001003,", "371502999003,", 1)
                .replacen(",371502001,", ",371502999,", 1);
            let dup = lines[1].clone();
            lines.push(dup);
            lines.join("\n") + "\n"
        }
        _ => c,
    });
    let mut bytes = std::fs::read(dir.path().join("streets.csv")).unwrap();
    // Bad encoding in the name on the last line (the last byte of its last character).
    let pos = bytes.iter().rposition(|&c| c == b'"').unwrap() - 1;
    bytes[pos] = 0xFF;
    std::fs::write(dir.path().join("streets.csv"), bytes).unwrap();

    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
            .args(args)
            .env("CIVGRID_DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let path = dir.path().to_str().unwrap();
    let out = run(&["import", "divisions", path, "--strict"]);
    assert!(!out.status.success(), "strict refuses");
    let text = stdout(&out);
    assert!(text.contains("villages.csv:3: bad_code_length"), "{text}");
    assert!(text.contains("villages.csv:4: unknown_parent"), "{text}");
    assert!(text.contains("duplicate_code"), "{text}");
    assert!(text.contains("streets.csv:137: bad_encoding"), "{text}");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM areas")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "strict imported nothing");

    let out = run(&["import", "divisions", path]);
    assert!(out.status.success(), "{}", stdout(&out));
    let text = stdout(&out);
    // The bad township's 2 villages fail as unknown parents too.
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM areas")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(n > 2400 && n < 2554, "{n}: {text}");
    assert!(text.contains(&format!("有效 {}", n)), "{text}");
    // Within a prefix: only 东昌府区 and its ancestors.
    let (db2, url2, _t2) = fresh_db_empty(b).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .args(["import", "divisions", path, "--within", "371503"])
        .env("CIVGRID_DATABASE_URL", &url2)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM areas")
        .fetch_one(&db2.pool)
        .await
        .unwrap();
    assert_eq!(n, 1 + 1 + 1 + 14 + 88);
}
both!(bad_rows_are_reported_with_lines);

/// A fresh migrated database with no divisions.
async fn fresh_db_empty(b: Backend) -> (civgrid_server::db::Db, String, tempfile::TempDir) {
    let (db, url, tmp) = fresh_db(b).await;
    sqlx::query("DELETE FROM areas")
        .execute(&db.pool)
        .await
        .unwrap();
    (db, url, tmp)
}
