//! The `civgrid` command line.

use crate::accounts::handlers::create_account;
use crate::accounts::model::CreateUser;
use crate::areas::import::{self, Options, Source};
use crate::audit::{self, Verdict};
use crate::config::Config;
use crate::db::Db;
use crate::state::AppState;
use civgrid_core::AreaCode;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "civgrid", version, about = "civgrid 市域社会治理平台")]
struct Cli {
    /// Configuration file (default: ./civgrid.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Add a new random data key in front of `key_file` (old keys keep decrypting).
    Rotate,
    /// Re-seal every value still under an old key with the current key.
    Reencrypt,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the API and the web pages.
    Serve,
    /// Create the demo city when absent, print its accounts and serve it.
    Demo {
        #[arg(long, default_value = "./civgrid-demo")]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Password of every demo account.
        #[arg(long, default_value = crate::demo::DEFAULT_PASSWORD)]
        demo_password: String,
        /// Events of history to generate (about six months) when the demo is created.
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// People (in households and houses) to register when the demo is created.
        #[arg(long, default_value_t = 200_000)]
        people: usize,
    },
    /// Apply database migrations.
    Migrate,
    /// Import reference data.
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        what: UserCmd,
    },
    /// Keys of personal data.
    Keys {
        #[command(subcommand)]
        what: KeysCmd,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        what: AuditCmd,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Background jobs (the server runs them every `tick_seconds`).
    Jobs {
        #[command(subcommand)]
        what: JobsCmd,
    },
    /// API keys of external systems (video alarms, the 12345 hotline system …).
    Apikey {
        #[command(subcommand)]
        what: ApikeyCmd,
    },
    /// Measure the speed budgets.
    Bench {
        #[command(subcommand)]
        what: BenchCmd,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// NBS statistical divisions in the china-division CSV layout.
    Divisions {
        /// Folder holding provinces.csv, cities.csv, areas.csv, streets.csv, villages.csv.
        dir: PathBuf,
        /// Only this code's subtree, e.g. 3715 (聊城市).
        #[arg(long)]
        within: Option<String>,
        /// Import nothing when any row is bad.
        #[arg(long)]
        strict: bool,
        /// Division year of the files.
        #[arg(long, default_value_t = 2023)]
        year: i64,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account. The password comes from --password or CIVGRID_NEW_PASSWORD.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// Area or grid code where the account sits.
        #[arg(long)]
        area: String,
        /// Comma-separated roles, e.g. grid_worker or centre_operator,leader.
        #[arg(long)]
        roles: String,
        #[arg(long, env = "CIVGRID_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Subcommand)]
enum JobsCmd {
    /// Run the deadline and webhook job once.
    Run {
        /// The time to run at (RFC 3339); default now.
        #[arg(long)]
        now: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApikeyCmd {
    /// Create a key; it is printed once.
    Add {
        #[arg(long)]
        name: String,
        /// Area the key may report in, e.g. 3715.
        #[arg(long)]
        area: String,
        /// video_alarm (default), hotline or department.
        #[arg(long)]
        source: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Walk the hash chain; exit 1 when a row was edited or deleted.
    Verify,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Point-in-grid lookups per second.
    Locate {
        #[arg(long, default_value_t = 20_000)]
        grids: usize,
        #[arg(long, default_value_t = 50)]
        vertices: usize,
        #[arg(long, default_value_t = 2_000_000)]
        lookups: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Import and re-import of a full division file set.
    Import {
        dir: PathBuf,
        /// PostgreSQL URL; without it, a temporary SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Event intake over HTTP with concurrent grid workers.
    Intake {
        /// PostgreSQL URL; without it, a temporary SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Attach one ~200 KB photo to each report.
        #[arg(long)]
        photo: bool,
    },
    /// People: CSV import, name and ID search, address parsing.
    People {
        /// PostgreSQL URL; without it, a temporary SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        #[arg(long, default_value_t = 1_000)]
        queries: usize,
    },
    /// Whole loops (report → close) over HTTP.
    Loop {
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 2_000)]
        events: usize,
    },
    /// The deadline job over many open events.
    Deadlines {
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 1_000_000)]
        events: i64,
        /// One event in this many has a timer that has fallen due.
        #[arg(long, default_value_t = 1_000)]
        due_every: i64,
    },
    /// A city-month of indicators.
    Stats {
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 5_000_000)]
        events: i64,
    },
    /// Every monthly score of a city (and the month's bulletin).
    Scores {
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 20_000)]
        workers: i64,
        #[arg(long, default_value_t = 5_000_000)]
        events: i64,
        /// Activity rows: shifts, patrols and visits, and one fifth base-record changes.
        #[arg(long, default_value_t = 20_000_000)]
        activities: i64,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Latency of a county's subtree listing over HTTP.
    Subtree {
        #[arg(long, default_value = "371502")]
        county: String,
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
}

pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(cfg: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&cfg.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut cfg = Config::load(cli.config.as_deref())?;
    match cli.cmd {
        Cmd::Serve => {
            let db = open(&cfg).await?;
            let listener = tokio::net::TcpListener::bind(&cfg.listen).await?;
            eprintln!("civgrid 已启动：http://{}", listener.local_addr()?);
            let state = AppState::new(db, cfg).await?;
            crate::events::jobs::spawn(state.clone());
            crate::app::serve(state, listener).await?;
        }
        Cmd::Demo {
            data_dir,
            port,
            demo_password,
            events,
            people,
        } => {
            civgrid_core::password::check_complexity("", &demo_password)
                .map_err(|e| anyhow::anyhow!("--demo-password 不符合密码规则：{e}"))?;
            let path = data_dir.join("civgrid.db");
            let fresh = !path.exists();
            cfg.database_url = format!("sqlite://{}", path.display());
            cfg.files_dir = data_dir.join("files").display().to_string();
            cfg.key_file = data_dir.join("keys.json").display().to_string();
            let db = open(&cfg).await?;
            let accounts = if fresh {
                eprintln!("正在创建演示数据库 {} …", path.display());
                let accounts = crate::demo::seed(&db, &demo_password).await?;
                let t = std::time::Instant::now();
                let h = crate::demo::history::seed(
                    &db,
                    &data_dir.join("files"),
                    events,
                    182,
                    chrono::Utc::now(),
                )
                .await?;
                eprintln!(
                    "已生成近半年的事件 {} 件（流转 {} 次，{:.1} 秒）",
                    h.events,
                    h.moves,
                    t.elapsed().as_secs_f64()
                );
                accounts
            } else {
                crate::demo::accounts(&db).await?
            };
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            let addr = listener.local_addr()?;
            println!("civgrid 演示已启动：http://{addr}/   接口文档：http://{addr}/api/docs");
            println!(
                "演示账号（密码{}）：",
                if fresh {
                    format!("均为 {demo_password}")
                } else {
                    "为首次创建时所设".into()
                }
            );
            for a in &accounts {
                println!(
                    "  {:<16} {:<16} {:<12} {}",
                    a.username, a.role, a.area, a.display_name
                );
            }
            let state = AppState::new(db, cfg).await?;
            if fresh && people > 0 {
                let t = std::time::Instant::now();
                let s = crate::demo::people::seed(&state, people).await?;
                eprintln!(
                    "已登记实有人口 {} 人、房屋 {} 处、组织 {} 个（{:.1} 秒）",
                    s.people,
                    s.houses,
                    s.orgs,
                    t.elapsed().as_secs_f64()
                );
            }
            if fresh {
                let t = std::time::Instant::now();
                let a = crate::demo::activity::seed(&state.db, 70, chrono::Utc::now()).await?;
                eprintln!(
                    "已生成网格员签到 {} 次、巡查 {} 次（轨迹点 {} 个）、走访 {} 次（{:.1} 秒）",
                    a.shifts,
                    a.patrols,
                    a.points,
                    a.visits,
                    t.elapsed().as_secs_f64()
                );
                // The month before last is scored too, so rankings can be compared.
                let now = chrono::Utc::now();
                let before = civgrid_core::evaluation::Period::last_complete(
                    civgrid_core::evaluation::PeriodKind::Month,
                    crate::db::china_day(now),
                )
                .previous();
                crate::evaluation::scoring::compute(&state.db, &before, now).await?;
                let r = crate::evaluation::jobs::tick(&state, now).await?;
                eprintln!(
                    "已完成考核评分（{}），生成通报 {} 份",
                    r.scored.join("、"),
                    r.bulletins
                );
            }
            // Bring every light up to date before the first page is served.
            let r = crate::events::jobs::tick(&state, chrono::Utc::now()).await?;
            if r.timers > 0 {
                eprintln!(
                    "时限预警：黄灯 {}，红灯 {}，自动上报 {}",
                    r.yellow, r.red, r.escalated
                );
            }
            crate::events::jobs::spawn(state.clone());
            crate::app::serve(state, listener).await?;
        }
        Cmd::Keys { what } => match what {
            KeysCmd::Rotate => {
                let id = crate::privacy::Vault::rotate_file(&cfg)?;
                println!(
                    "已生成新的数据密钥 {id}（{}）；旧密钥仍可解密，可运行 civgrid keys reencrypt 迁移",
                    cfg.key_file
                );
            }
            KeysCmd::Reencrypt => {
                let db = open(&cfg).await?;
                let vault = crate::privacy::Vault::load(&cfg)?;
                let n = crate::privacy::reencrypt(&db, &vault).await?;
                println!("已用当前密钥重新加密 {n} 个字段");
            }
        },
        Cmd::Migrate => {
            open(&cfg).await?;
            println!("数据库已是最新结构");
        }
        Cmd::Import {
            what:
                ImportCmd::Divisions {
                    dir,
                    within,
                    strict,
                    year,
                },
        } => {
            let within = within
                .map(|w| AreaCode::parse(&w))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--within：{e}"))?;
            let db = open(&cfg).await?;
            let t = std::time::Instant::now();
            let r = import::import(
                &db,
                Source::Dir(&dir),
                &Options {
                    within,
                    strict,
                    year,
                },
            )
            .await?;
            for e in r.errors.iter().take(200) {
                eprintln!("{}:{}: {} {}", e.file, e.line, e.code, e.message);
            }
            if r.errors.len() > 200 {
                eprintln!("……另有 {} 条错误未列出", r.errors.len() - 200);
            }
            println!(
                "读取 {} 行：有效 {}，无效 {}；新增 {}，更名/调整 {}，撤销 {}，未变 {}（{:.1} 秒）",
                r.read,
                r.valid,
                r.invalid,
                r.inserted,
                r.renamed,
                r.ended,
                r.unchanged,
                t.elapsed().as_secs_f64()
            );
            if r.refused {
                println!("--strict：存在无效行，未导入任何数据");
                return Ok(ExitCode::FAILURE);
            }
        }
        Cmd::User {
            what:
                UserCmd::Add {
                    username,
                    name,
                    area,
                    roles,
                    password,
                },
        } => {
            let db = open(&cfg).await?;
            let req = CreateUser {
                username,
                display_name: name,
                area_code: area,
                roles: roles.split(',').map(str::to_owned).collect(),
                password,
                department_id: None,
            };
            match create_account(&db, None, &req).await {
                Ok(id) => println!("已创建账号 {}（{id}）", req.username),
                Err(e) => {
                    eprintln!("创建失败：{}（{}）", e.user_message(), e.code());
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Cmd::Audit {
            what: AuditCmd::Verify,
        } => {
            let db = open(&cfg).await?;
            match audit::verify(&db.pool).await? {
                Verdict::Intact { rows } => println!("审计日志完整：{rows} 条记录，哈希链校验通过"),
                Verdict::Broken { seq, reason } => {
                    println!("审计日志已被篡改：第 {seq} 条记录处断链（{reason}）");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Cmd::Jobs {
            what: JobsCmd::Run { now },
        } => {
            let db = open(&cfg).await?;
            let state = AppState::new(db, cfg).await?;
            let now = match now {
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .map_err(|e| anyhow::anyhow!("--now：{e}"))?
                    .with_timezone(&chrono::Utc),
                None => chrono::Utc::now(),
            };
            let r = crate::events::jobs::tick(&state, now).await?;
            println!(
                "到期计时 {} 个：黄灯 {}，红灯 {}，自动上报 {}；推送回调 {} 次",
                r.timers, r.yellow, r.red, r.escalated, r.webhooks
            );
        }
        Cmd::Apikey {
            what: ApikeyCmd::Add { name, area, source },
        } => {
            let db = open(&cfg).await?;
            let area = AreaCode::parse(&area).map_err(|e| anyhow::anyhow!("--area：{e}"))?;
            match crate::catalog::handlers::create_key(&db, &name, &area, source.as_deref(), None)
                .await
            {
                Ok((key, id)) => {
                    println!("已创建接口密钥 {name}（{id}）：{key}\n请妥善保存，密钥只显示这一次。")
                }
                Err(e) => {
                    eprintln!("创建失败：{}（{}）", e.user_message(), e.code());
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        Cmd::Openapi => {
            println!("{}", crate::app::openapi().to_pretty_json()?);
        }
        Cmd::Bench { what } => match what {
            BenchCmd::Locate {
                grids,
                vertices,
                lookups,
                runs,
            } => {
                crate::bench::locate(grids, vertices, lookups, runs.max(1));
            }
            BenchCmd::Import {
                dir,
                database_url,
                runs,
            } => {
                crate::bench::import(&dir, database_url.as_deref(), runs.max(1)).await?;
            }
            BenchCmd::Intake {
                database_url,
                clients,
                events,
                photo,
            } => {
                crate::bench::events::intake(database_url.as_deref(), clients, events, photo)
                    .await?;
            }
            BenchCmd::People {
                database_url,
                rows,
                queries,
            } => {
                crate::bench::people::people(database_url.as_deref(), rows.max(1), queries.max(1))
                    .await?;
            }
            BenchCmd::Loop {
                database_url,
                clients,
                events,
            } => {
                crate::bench::events::full_loop(database_url.as_deref(), clients, events).await?;
            }
            BenchCmd::Deadlines {
                database_url,
                events,
                due_every,
            } => {
                crate::bench::events::deadlines(database_url.as_deref(), events, due_every.max(1))
                    .await?;
            }
            BenchCmd::Stats {
                database_url,
                events,
            } => {
                crate::bench::events::stats(database_url.as_deref(), events).await?;
            }
            BenchCmd::Scores {
                database_url,
                workers,
                events,
                activities,
                runs,
            } => {
                crate::bench::scores::scores(
                    database_url.as_deref(),
                    workers.max(1),
                    events,
                    activities,
                    runs,
                )
                .await?;
            }
            BenchCmd::Subtree { county, requests } => {
                crate::bench::subtree(&county, requests.max(10)).await?;
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
