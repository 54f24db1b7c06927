//! Test harness: the real server on port 0 with a fresh database, SQLite or PostgreSQL.

use civgrid_server::areas::import::{self, LIAOCHENG, Options, Source};
use civgrid_server::config::Config;
use civgrid_server::db::Db;
use civgrid_server::state::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const PW: &str = civgrid_server::demo::DEFAULT_PASSWORD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs one async test body on both databases: `both!(name)` defines `name::sqlite` and
/// `name::postgres`. A PostgreSQL leg that cannot connect fails; it never skips.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    /// The running server's state (its clock can be set).
    pub state: AppState,
    /// The database URL, for running the `civgrid` binary against the same database.
    pub url: String,
    _tmp: tempfile::TempDir,
}

pub fn pg_base_url() -> String {
    std::env::var("CIVGRID_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, migrated database with 聊城市's divisions.
pub async fn fresh_db(backend: Backend) -> (Db, String, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", tmp.path().join("test.db").display()),
        Backend::Postgres => {
            let base = pg_base_url();
            let admin = Db::connect(&base).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {base} is required for the postgres leg: {e:#}")
            });
            drop_stale_schemas(&admin).await;
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
                .execute(&admin.pool)
                .await
                .expect("create schema");
            admin.pool.close().await;
            format!("{base}?options=-c%20search_path%3D{schema}")
        }
    };
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let r = import::import(
        &db,
        Source::Embedded(LIAOCHENG),
        &Options {
            within: None,
            strict: true,
            year: 2023,
        },
    )
    .await
    .expect("import fixture");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    (db, url, tmp)
}

/// Test schemas are named `t_<UUIDv7>`, whose first 48 bits are the creation time in ms:
/// schemas older than ten minutes are left over from earlier runs and are dropped.
async fn drop_stale_schemas(admin: &Db) {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT CAST(nspname AS TEXT) FROM pg_namespace WHERE nspname LIKE 't\\_%'")
            .fetch_all(&admin.pool)
            .await
            .expect("list schemas");
    let now_ms = chrono::Utc::now().timestamp_millis();
    for (name,) in names {
        let created = name
            .get(2..14)
            .and_then(|h| i64::from_str_radix(h, 16).ok());
        if created.is_some_and(|t| now_ms - t > 600_000) {
            let _ = sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .execute(&admin.pool)
                .await;
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_with(backend, Config::default()).await
}

pub async fn spawn_with(backend: Backend, mut cfg: Config) -> TestApp {
    let (db, url, tmp) = fresh_db(backend).await;
    cfg.database_url = url.clone();
    start(db, url, tmp, cfg).await
}

async fn start(db: Db, url: String, tmp: tempfile::TempDir, mut cfg: Config) -> TestApp {
    cfg.files_dir = tmp.path().join("files").display().to_string();
    cfg.key_file = tmp.path().join("keys.json").display().to_string();
    let state = AppState::new(db.clone(), cfg).await.expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(civgrid_server::app::serve(state.clone(), listener));
    TestApp {
        base,
        db,
        state,
        url,
        _tmp: tmp,
    }
}

impl TestApp {
    /// The demo city (grids of two counties, an account for every role) on a fresh database.
    pub async fn demo(backend: Backend) -> TestApp {
        Self::demo_with(backend, Config::default()).await
    }

    pub async fn demo_with(backend: Backend, mut cfg: Config) -> TestApp {
        let (db, url, tmp) = fresh_db(backend).await;
        civgrid_server::demo::seed(&db, PW)
            .await
            .expect("seed demo");
        cfg.database_url = url.clone();
        start(db, url, tmp, cfg).await
    }

    /// Creates an account (password `PW`) the way the API and the CLI do.
    pub async fn add_user(&self, username: &str, display_name: &str, area: &str, role: &str) {
        civgrid_server::accounts::handlers::create_account(
            &self.db,
            None,
            &civgrid_server::accounts::model::CreateUser {
                username: username.into(),
                display_name: display_name.into(),
                area_code: area.into(),
                roles: vec![role.into()],
                password: PW.into(),
                department_id: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("add user {username}: {e:?}"));
    }

    pub fn anon(&self) -> Api {
        Api {
            base: self.base.clone(),
            client: reqwest::Client::new(),
            token: None,
        }
    }

    /// Signs in and returns a client that sends the bearer token.
    pub async fn login(&self, username: &str) -> Api {
        self.login_pw(username, PW).await
    }

    pub async fn login_pw(&self, username: &str, password: &str) -> Api {
        let anon = self.anon();
        let (s, body) = anon
            .post(
                "/api/auth/login",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "login {username}: {body}");
        Api {
            token: Some(body["token"].as_str().unwrap().to_owned()),
            ..anon
        }
    }

    /// Runs the `civgrid` binary against this app's database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
            .args(args)
            .env("CIVGRID_DATABASE_URL", &self.url)
            .env("CIVGRID_KEY_FILE", &self.state.cfg.key_file)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run civgrid")
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&self.db.pool)
            .await
            .expect(sql);
        n
    }
}

/// A small HTTP client that answers (status, JSON body).
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub token: Option<String>,
}

impl Api {
    fn req(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(m, format!("{}{}", self.base, path));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let res = r.send().await.expect("request");
        let s = res.status();
        let text = res.text().await.unwrap_or_default();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::POST, path).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::PUT, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        Self::send(self.req(reqwest::Method::PATCH, path).json(&body)).await
    }

    /// `multipart/form-data`: `data` as JSON and each photo as a `photo` part.
    pub async fn post_form(
        &self,
        path: &str,
        data: Value,
        photos: &[Vec<u8>],
    ) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new().text("data", data.to_string());
        for (i, p) in photos.iter().enumerate() {
            form = form.part(
                "photo",
                reqwest::multipart::Part::bytes(p.clone()).file_name(format!("p{i}.jpg")),
            );
        }
        Self::send(self.req(reqwest::Method::POST, path).multipart(form)).await
    }

    /// Uploads one file as the `file` part of a multipart form.
    pub async fn post_file(&self, path: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        Self::send(self.req(reqwest::Method::POST, path).multipart(form)).await
    }

    /// Raw bytes of a GET (status, content type, body).
    pub async fn get_bytes(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let res = self
            .req(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request");
        let s = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (s, ct, res.bytes().await.unwrap_or_default().to_vec())
    }
}

/// A closed square ring as GeoJSON.
pub fn square(x: f64, y: f64, s: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]]})
}

/// A small JPEG photo (different content for different seeds).
pub fn jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 ^ seed, y as u8, seed]));
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .expect("encode");
    out
}

/// Sets the server's clock (China time, e.g. "2026-12-01T09:00:00+08:00").
pub fn set_clock(app: &TestApp, t: &str) {
    let t = chrono::DateTime::parse_from_rfc3339(t).expect("time");
    app.state.clock.set(Some(t.with_timezone(&chrono::Utc)));
}

/// A point inside a grid, found by probing its bounding box with the locate API.
pub async fn point_in(api: &Api, grid: &str) -> (f64, f64) {
    let (s, g) = api.get(&format!("/api/grids/{grid}")).await;
    assert_eq!(s, StatusCode::OK, "{g}");
    let ring = g["boundary"]["coordinates"][0]
        .as_array()
        .cloned()
        .or_else(|| g["geometry"]["coordinates"][0].as_array().cloned())
        .unwrap_or_else(|| panic!("grid geometry: {g}"));
    let xs: Vec<f64> = ring.iter().map(|p| p[0].as_f64().unwrap()).collect();
    let ys: Vec<f64> = ring.iter().map(|p| p[1].as_f64().unwrap()).collect();
    let (x0, x1) = (
        xs.iter().cloned().fold(f64::MAX, f64::min),
        xs.iter().cloned().fold(f64::MIN, f64::max),
    );
    let (y0, y1) = (
        ys.iter().cloned().fold(f64::MAX, f64::min),
        ys.iter().cloned().fold(f64::MIN, f64::max),
    );
    for i in 1..8 {
        for j in 1..8 {
            let (x, y) = (
                x0 + (x1 - x0) * i as f64 / 8.0,
                y0 + (y1 - y0) * j as f64 / 8.0,
            );
            let (_, l) = api.get(&format!("/api/grids/locate?lon={x}&lat={y}")).await;
            if l["match_type"] == "inside" && l["grid"]["code"] == grid {
                return (x, y);
            }
        }
    }
    panic!("no point found inside {grid}");
}
