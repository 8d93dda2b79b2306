//! The PostgreSQL backend, for several nodes over one database (`--database-url`).
//!
//! Tables (created by the migrations below, which every node runs at start under an advisory
//! lock, so nodes starting together apply each one once):
//!
//! | table | key | holds |
//! |---|---|---|
//! | `tafel_sessions` | code | the pseudonym key, when it was created |
//! | `tafel_snapshots` | code | the last change included, the automerge bytes |
//! | `tafel_changes` | (code, seq) | the automerge bytes of one batch, and the fence it was written under |
//! | `tafel_tokens` | (code, hash) | whom a token's BLAKE3 hash lets in (JSON) |
//! | `tafel_leases` | code | the owner node, its address, the fencing number, the expiry |
//! | `tafel_wrong_attempts` | address | wrong codes and tokens in the current minute, from every node |
//! | `tafel_cluster` | name | the secret nodes show each other when they forward a connection |
//!
//! A commit is one transaction for every request waiting on the writer thread. It first locks
//! the leases of the sessions it writes (`FOR SHARE`, so no claim can change one until the
//! commit ends, and a claim that came first is seen), checks each request in Rust to answer it
//! on its own, and then writes with statements that are themselves conditional on the lease:
//! a change, a token or a snapshot is written only where the session's current lease has the
//! request's fence (or the session never had a lease and the request carries none). The
//! database, not the node, decides: a node that slept through its lease writes nothing.
//! A transaction's commit waits for PostgreSQL's WAL flush (`synchronous_commit`, on by
//! default), so `Ok` means durable, as with the embedded file.

use super::{
    Backend, Claim, Cluster, LeaseState, NewSession, Owner, SessionMeta, StoredSession, TokenGrant,
    Write,
};
use crate::error::StorageError;
use postgres::{Client, NoTls, Statement};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

/// The schema, one step per entry; a node applies the ones the database has not seen.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE tafel_sessions (
    code text PRIMARY KEY,
    key text NOT NULL,
    created_at bigint NOT NULL
);
CREATE TABLE tafel_snapshots (
    code text PRIMARY KEY REFERENCES tafel_sessions ON DELETE CASCADE,
    upto bigint NOT NULL,
    bytes bytea NOT NULL
);
CREATE TABLE tafel_changes (
    code text NOT NULL REFERENCES tafel_sessions ON DELETE CASCADE,
    seq bigint NOT NULL,
    fence bigint,
    bytes bytea NOT NULL,
    PRIMARY KEY (code, seq)
);
CREATE TABLE tafel_tokens (
    code text NOT NULL REFERENCES tafel_sessions ON DELETE CASCADE,
    hash bytea NOT NULL,
    grant_json text NOT NULL,
    PRIMARY KEY (code, hash)
);
CREATE TABLE tafel_leases (
    code text PRIMARY KEY REFERENCES tafel_sessions ON DELETE CASCADE,
    node text NOT NULL,
    addr text NOT NULL,
    fence bigint NOT NULL,
    expires timestamptz NOT NULL
);
CREATE TABLE tafel_wrong_attempts (
    addr text PRIMARY KEY,
    since timestamptz NOT NULL,
    failures integer NOT NULL
);
CREATE TABLE tafel_cluster (
    name text PRIMARY KEY,
    value text NOT NULL
);
"#];

/// Any number, the same on every node: the advisory lock that serializes migrations.
const MIGRATION_LOCK: i64 = 0x7461_6665_6c00;

/// The write's condition on a session's lease, in SQL over `l` (the lease, left-joined) and a
/// fence `f`: the current lease has the fence, or there never was a lease and there is none.
macro_rules! fenced {
    ($f:literal) => {
        concat!(
            "((l.code IS NULL AND ",
            $f,
            " IS NULL) OR (l.node <> '' AND l.fence = ",
            $f,
            "))"
        )
    };
}

/// The statements of a commit, prepared once per connection.
struct CommitStatements {
    lock_leases: Statement,
    uptos: Statement,
    taken: Statement,
    insert_changes: Statement,
    insert_tokens: Statement,
    update_snapshot: Statement,
    delete_covered: Statement,
}

impl CommitStatements {
    fn prepare(c: &mut Client) -> Result<Self, postgres::Error> {
        Ok(Self {
            lock_leases: c.prepare(
                "SELECT code, fence, node <> '' FROM tafel_leases WHERE code = ANY($1) \
                 ORDER BY code FOR SHARE",
            )?,
            uptos: c.prepare("SELECT code, upto FROM tafel_snapshots WHERE code = ANY($1)")?,
            taken: c.prepare(
                "SELECT c.code, c.seq FROM tafel_changes c \
                 JOIN unnest($1::text[], $2::int8[]) AS w(code, seq) \
                 ON c.code = w.code AND c.seq = w.seq",
            )?,
            insert_changes: c.prepare(concat!(
                "INSERT INTO tafel_changes (code, seq, fence, bytes) \
                 SELECT w.code, w.seq, w.fence, w.bytes \
                 FROM unnest($1::text[], $2::int8[], $3::bytea[], $4::int8[]) \
                 AS w(code, seq, bytes, fence) \
                 LEFT JOIN tafel_leases l ON l.code = w.code WHERE ",
                fenced!("w.fence")
            ))?,
            insert_tokens: c.prepare(concat!(
                "INSERT INTO tafel_tokens (code, hash, grant_json) \
                 SELECT w.code, w.hash, w.grant_json \
                 FROM unnest($1::text[], $2::bytea[], $3::text[], $4::int8[]) \
                 AS w(code, hash, grant_json, fence) \
                 LEFT JOIN tafel_leases l ON l.code = w.code WHERE ",
                fenced!("w.fence"),
                " ON CONFLICT (code, hash) DO UPDATE SET grant_json = EXCLUDED.grant_json"
            ))?,
            update_snapshot: c.prepare(concat!(
                "UPDATE tafel_snapshots s SET upto = $2, bytes = $3 \
                 FROM (SELECT $1::text AS code) w LEFT JOIN tafel_leases l ON l.code = w.code \
                 WHERE s.code = w.code AND s.upto <= $2 AND ",
                fenced!("$4::int8")
            ))?,
            delete_covered: c.prepare("DELETE FROM tafel_changes WHERE code = $1 AND seq <= $2")?,
        })
    }
}

/// Rows written with one statement, a column per array: the session, a key (a change's
/// sequence number or a token's hash), a value, and the request's fence.
#[derive(Default)]
struct Rows<'a, K, V> {
    codes: Vec<&'a str>,
    keys: Vec<K>,
    values: Vec<V>,
    fences: Vec<Option<i64>>,
}

impl<'a, K: postgres::types::ToSql + Sync, V: postgres::types::ToSql + Sync> Rows<'a, K, V> {
    fn push(&mut self, code: &'a str, key: K, value: V, fence: Option<i64>) {
        self.codes.push(code);
        self.keys.push(key);
        self.values.push(value);
        self.fences.push(fence);
    }

    /// The statement's parameters (in the order of its `unnest`) and how many rows, if any.
    fn params(&self) -> Option<([&(dyn postgres::types::ToSql + Sync); 4], usize)> {
        (!self.codes.is_empty()).then(|| {
            let params: [&(dyn postgres::types::ToSql + Sync); 4] =
                [&self.codes, &self.keys, &self.values, &self.fences];
            (params, self.codes.len())
        })
    }
}

/// One connection and its prepared statements.
struct Conn {
    client: Client,
    commit: CommitStatements,
}

/// A PostgreSQL database shared by every node.
pub struct PgBackend {
    config: postgres::Config,
    /// Idle connections. The writer thread takes one per commit; loads, claims and lookups
    /// take others (each blocking call holds one while it runs).
    idle: Mutex<Vec<Conn>>,
}

fn db_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Db(e.to_string())
}

/// A PostgreSQL error with the server's own message, which `Display` leaves out.
fn pg_err(e: postgres::Error) -> StorageError {
    match e.as_db_error() {
        Some(db) => StorageError::Db(format!("{}: {}", db.code().code(), db.message())),
        None => db_err(e),
    }
}

fn seq(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgBackend {
    /// Connects to `url` (`postgres://user@host/db` or `host=/run/postgresql dbname=tafel`)
    /// and applies the migrations this database lacks.
    pub fn open(url: &str) -> Result<Self, StorageError> {
        let mut config = postgres::Config::from_str(url).map_err(db_err)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("tafel");
        }
        let mut client = config.connect(NoTls).map_err(pg_err)?;
        migrate(&mut client).map_err(pg_err)?;
        let backend = Self {
            config,
            idle: Mutex::new(Vec::new()),
        };
        let conn = backend.prepared(client).map_err(pg_err)?;
        backend.idle.lock().expect("poisoned").push(conn);
        Ok(backend)
    }

    fn prepared(&self, mut client: Client) -> Result<Conn, postgres::Error> {
        let commit = CommitStatements::prepare(&mut client)?;
        Ok(Conn { client, commit })
    }

    /// Runs `f` on a pooled connection (a new one if none is idle); a connection that broke
    /// is not put back, so the next call connects afresh.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let idle = self.idle.lock().expect("poisoned").pop();
        let mut conn = match idle {
            Some(conn) if !conn.client.is_closed() => conn,
            _ => {
                let client = self.config.connect(NoTls).map_err(pg_err)?;
                self.prepared(client).map_err(pg_err)?
            }
        };
        let result = f(&mut conn);
        if !conn.client.is_closed() {
            self.idle.lock().expect("poisoned").push(conn);
        }
        result
    }

    fn commit_all(
        conn: &mut Conn,
        requests: &[Vec<Write>],
    ) -> Result<Vec<Result<(), StorageError>>, StorageError> {
        let st = &conn.commit;
        let mut tx = conn.client.transaction().map_err(pg_err)?;
        let mut codes: Vec<&str> = requests.iter().flatten().map(Write::code).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut leases = HashMap::new();
        for row in tx.query(&st.lock_leases, &[&codes]).map_err(pg_err)? {
            let state = if row.get::<_, bool>(2) {
                LeaseState::Held(seq(row.get(1)))
            } else {
                LeaseState::Released
            };
            leases.insert(row.get::<_, String>(0), state);
        }
        let mut uptos: HashMap<String, u64> = HashMap::new();
        for row in tx.query(&st.uptos, &[&codes]).map_err(pg_err)? {
            uptos.insert(row.get(0), seq(row.get(1)));
        }
        let (mut at_codes, mut at_seqs) = (Vec::new(), Vec::new());
        for w in requests.iter().flatten() {
            if let Write::Changes { code, seq, .. } = w {
                at_codes.push(code.as_str());
                at_seqs.push(int(*seq));
            }
        }
        let mut taken: HashSet<(String, u64)> = HashSet::new();
        for row in tx
            .query(&st.taken, &[&at_codes, &at_seqs])
            .map_err(pg_err)?
        {
            taken.insert((row.get(0), seq(row.get(1))));
        }

        // Answer each request on its own, as if applied one after the other.
        let mut results = Vec::with_capacity(requests.len());
        let mut accepted = Vec::new();
        for writes in requests {
            let checked = super::check_request(
                writes,
                |code| Ok(leases.get(code).copied().unwrap_or(LeaseState::Never)),
                |code| Ok(uptos.get(code).copied()),
                |code, seq| Ok(taken.contains(&(code.to_owned(), seq))),
            );
            if checked.is_ok() {
                for w in writes {
                    match w {
                        Write::Changes { code, seq, .. } => {
                            taken.insert((code.clone(), *seq));
                        }
                        Write::Snapshot { code, upto, .. } => {
                            uptos.insert(code.clone(), *upto);
                        }
                        Write::Token { .. } | Write::Fence { .. } => {}
                    }
                }
                accepted.push(writes);
            }
            results.push(checked);
        }

        // Write what passed, each statement conditional on the lease.
        let fence_of = |writes: &[Write], code: &str| {
            writes.iter().find_map(|w| match w {
                Write::Fence { code: c, fence } if c == code => Some(int(*fence)),
                _ => None,
            })
        };
        let (mut changes, mut tokens) = (Rows::default(), Rows::default());
        let mut snapshots = Vec::new();
        for writes in &accepted {
            for w in writes.iter() {
                let fence = fence_of(writes, w.code());
                match w {
                    Write::Changes { code, seq, bytes } => {
                        changes.push(code, int(*seq), bytes.as_slice(), fence);
                    }
                    Write::Token { code, hash, grant } => {
                        let grant = serde_json::to_string(grant).expect("plain structs");
                        tokens.push(code, hash.as_slice(), grant, fence);
                    }
                    Write::Snapshot { code, bytes, upto } => {
                        snapshots.push((code, bytes, int(*upto), fence));
                    }
                    Write::Fence { .. } => {}
                }
            }
        }
        let written = |n: u64, wanted: usize, what: &str| {
            if n == wanted as u64 {
                Ok(())
            } else {
                // The leases are locked and were checked: this is a bug, not a race.
                Err(StorageError::Fenced(format!(
                    "{what}: {n} of {wanted} written under their fence"
                )))
            }
        };
        for (rows, statement, what) in [
            (&changes.params(), &st.insert_changes, "changes"),
            (&tokens.params(), &st.insert_tokens, "tokens"),
        ] {
            if let Some((params, len)) = rows {
                let n = tx.execute(statement, params).map_err(pg_err)?;
                written(n, *len, what)?;
            }
        }
        for (code, bytes, upto, fence) in snapshots {
            let n = tx
                .execute(&st.update_snapshot, &[code, &upto, bytes, &fence])
                .map_err(pg_err)?;
            written(n, 1, "a snapshot")?;
            tx.execute(&st.delete_covered, &[code, &upto])
                .map_err(pg_err)?;
        }
        tx.commit().map_err(pg_err)?;
        Ok(results)
    }
}

/// Applies every migration the database has not seen, each in its own transaction, one node
/// at a time.
fn migrate(client: &mut Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS tafel_migrations (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let done: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM tafel_migrations",
            &[],
        )?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        if version > done {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO tafel_migrations (version) VALUES ($1)",
                &[&version],
            )?;
            tracing::info!(version, "database migrated");
        }
    }
    tx.commit()
}

impl Backend for PgBackend {
    fn create(&self, s: &NewSession) -> Result<(), StorageError> {
        self.with(|conn| {
            let mut tx = conn.client.transaction().map_err(pg_err)?;
            let inserted = tx
                .execute(
                    "INSERT INTO tafel_sessions (code, key, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    &[&s.code, &s.meta.key, &s.meta.created_at],
                )
                .map_err(pg_err)?;
            if inserted == 0 {
                return Err(StorageError::Conflict(format!("session code {}", s.code)));
            }
            tx.execute(
                "INSERT INTO tafel_snapshots (code, upto, bytes) VALUES ($1, 0, $2)",
                &[&s.code, &s.snapshot],
            )
            .map_err(pg_err)?;
            for (hash, grant) in &s.tokens {
                let grant = serde_json::to_string(grant).expect("plain structs");
                tx.execute(
                    "INSERT INTO tafel_tokens (code, hash, grant_json) VALUES ($1, $2, $3)",
                    &[&s.code, &hash.as_slice(), &grant],
                )
                .map_err(pg_err)?;
            }
            tx.commit().map_err(pg_err)
        })
    }

    fn commit(&self, requests: &[Vec<Write>]) -> Vec<Result<(), StorageError>> {
        match self.with(|conn| Self::commit_all(conn, requests)) {
            Ok(results) => results,
            Err(e) => requests.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    fn load(&self, code: &str) -> Result<Option<StoredSession>, StorageError> {
        self.with(|conn| {
            let mut tx = conn
                .client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(pg_err)?;
            let Some(row) = tx
                .query_opt(
                    "SELECT key, created_at FROM tafel_sessions WHERE code = $1",
                    &[&code],
                )
                .map_err(pg_err)?
            else {
                return Ok(None);
            };
            let meta = SessionMeta {
                key: row.get(0),
                created_at: row.get(1),
            };
            let (snapshot_upto, snapshot) = match tx
                .query_opt(
                    "SELECT upto, bytes FROM tafel_snapshots WHERE code = $1",
                    &[&code],
                )
                .map_err(pg_err)?
            {
                Some(row) => (seq(row.get(0)), row.get(1)),
                None => (0, Vec::new()),
            };
            let changes = tx
                .query(
                    "SELECT seq, bytes FROM tafel_changes WHERE code = $1 ORDER BY seq",
                    &[&code],
                )
                .map_err(pg_err)?
                .into_iter()
                .map(|row| (seq(row.get(0)), row.get(1)))
                .collect();
            let mut tokens = Vec::new();
            for row in tx
                .query(
                    "SELECT hash, grant_json FROM tafel_tokens WHERE code = $1",
                    &[&code],
                )
                .map_err(pg_err)?
            {
                let hash: Vec<u8> = row.get(0);
                let hash: [u8; 32] = hash
                    .try_into()
                    .map_err(|_| StorageError::Corrupt("token hash length".into()))?;
                let grant: String = row.get(1);
                let grant: TokenGrant = serde_json::from_str(&grant)
                    .map_err(|e| StorageError::Corrupt(e.to_string()))?;
                tokens.push((hash, grant));
            }
            tx.commit().map_err(pg_err)?;
            Ok(Some(StoredSession {
                meta: Some(meta),
                snapshot,
                snapshot_upto,
                changes,
                tokens,
            }))
        })
    }

    fn delete(&self, code: &str) -> Result<bool, StorageError> {
        // Its snapshot, changes, tokens and lease go with it (ON DELETE CASCADE); PostgreSQL
        // reuses the space, and `VACUUM FULL` gives it back to the file system.
        self.with(|conn| {
            let deleted = conn
                .client
                .execute("DELETE FROM tafel_sessions WHERE code = $1", &[&code])
                .map_err(pg_err)?;
            Ok(deleted > 0)
        })
    }

    fn list(&self) -> Result<Vec<String>, StorageError> {
        self.with(|conn| {
            let rows = conn
                .client
                .query("SELECT code FROM tafel_sessions ORDER BY code", &[])
                .map_err(pg_err)?;
            Ok(rows.into_iter().map(|r| r.get(0)).collect())
        })
    }

    fn cluster(&self) -> Option<&dyn Cluster> {
        Some(self)
    }
}

/// Seconds from now until `expires`, never negative (`$1` is the column or expression).
const EXPIRES_IN: &str = "greatest(extract(epoch FROM expires - now()), 0)::float8";

fn owner(node: String, addr: String, fence: i64, expires_in: f64) -> Owner {
    Owner {
        node,
        addr,
        fence: seq(fence),
        expires_in: Duration::from_secs_f64(expires_in.max(0.0)),
    }
}

impl Cluster for PgBackend {
    fn claim(
        &self,
        code: &str,
        node: &str,
        addr: &str,
        ttl: Duration,
    ) -> Result<Claim, StorageError> {
        self.with(|conn| {
            let mut tx = conn.client.transaction().map_err(pg_err)?;
            let exists = tx
                .query_opt("SELECT 1 FROM tafel_sessions WHERE code = $1", &[&code])
                .map_err(pg_err)?
                .is_some();
            if !exists {
                return Ok(Claim::NoSession);
            }
            tx.execute(
                "INSERT INTO tafel_leases (code, node, addr, fence, expires) \
                 VALUES ($1, '', '', 0, to_timestamp(0)) ON CONFLICT DO NOTHING",
                &[&code],
            )
            .map_err(pg_err)?;
            let row = tx
                .query_one(
                    &format!(
                        "SELECT node, addr, fence, expires > now(), {EXPIRES_IN} \
                         FROM tafel_leases WHERE code = $1 FOR UPDATE"
                    ),
                    &[&code],
                )
                .map_err(pg_err)?;
            let (held_by, live): (String, bool) = (row.get(0), row.get(3));
            if live && !held_by.is_empty() && held_by != node {
                tx.commit().map_err(pg_err)?;
                return Ok(Claim::Held(owner(
                    held_by,
                    row.get(1),
                    row.get(2),
                    row.get(4),
                )));
            }
            let took_over = !live && !held_by.is_empty() && held_by != node;
            let fence: i64 = tx
                .query_one(
                    "UPDATE tafel_leases SET node = $2, addr = $3, fence = fence + 1, \
                     expires = now() + make_interval(secs => $4) WHERE code = $1 \
                     RETURNING fence",
                    &[&code, &node, &addr, &ttl.as_secs_f64()],
                )
                .map_err(pg_err)?
                .get(0);
            tx.commit().map_err(pg_err)?;
            Ok(Claim::Won {
                fence: seq(fence),
                took_over,
            })
        })
    }

    fn renew(
        &self,
        node: &str,
        held: &[(String, u64)],
        ttl: Duration,
    ) -> Result<Vec<String>, StorageError> {
        let codes: Vec<&str> = held.iter().map(|(c, _)| c.as_str()).collect();
        let fences: Vec<i64> = held.iter().map(|(_, f)| int(*f)).collect();
        self.with(|conn| {
            let rows = conn
                .client
                .query(
                    "UPDATE tafel_leases l SET expires = now() + make_interval(secs => $4) \
                     FROM unnest($1::text[], $2::int8[]) AS h(code, fence) \
                     WHERE l.code = h.code AND l.fence = h.fence AND l.node = $3 \
                     RETURNING l.code",
                    &[&codes, &fences, &node, &ttl.as_secs_f64()],
                )
                .map_err(pg_err)?;
            Ok(rows.into_iter().map(|r| r.get(0)).collect())
        })
    }

    fn release(&self, code: &str, fence: u64) -> Result<(), StorageError> {
        self.with(|conn| {
            conn.client
                .execute(
                    "UPDATE tafel_leases SET node = '', addr = '', expires = now() \
                     WHERE code = $1 AND fence = $2",
                    &[&code, &int(fence)],
                )
                .map_err(pg_err)?;
            Ok(())
        })
    }

    fn owners(&self, codes: &[String]) -> Result<Vec<(String, Owner)>, StorageError> {
        self.with(|conn| {
            let rows = conn
                .client
                .query(
                    &format!(
                        "SELECT code, node, addr, fence, {EXPIRES_IN} FROM tafel_leases \
                         WHERE code = ANY($1) AND node <> '' AND expires > now()"
                    ),
                    &[&codes],
                )
                .map_err(pg_err)?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get(0), owner(r.get(1), r.get(2), r.get(3), r.get(4))))
                .collect())
        })
    }

    fn wrong_attempt(&self, addr: &str, window: Duration) -> Result<(u32, Duration), StorageError> {
        self.with(|conn| {
            let row = conn
                .client
                .query_one(
                    "INSERT INTO tafel_wrong_attempts AS w (addr, since, failures) \
                     VALUES ($1, now(), 1) \
                     ON CONFLICT (addr) DO UPDATE SET \
                       failures = CASE WHEN w.since + make_interval(secs => $2) <= now() \
                                  THEN 1 ELSE w.failures + 1 END, \
                       since = CASE WHEN w.since + make_interval(secs => $2) <= now() \
                               THEN now() ELSE w.since END \
                     RETURNING failures, greatest(extract(epoch FROM \
                       since + make_interval(secs => $2) - now()), 0)::float8",
                    &[&addr, &window.as_secs_f64()],
                )
                .map_err(pg_err)?;
            // Old rows go now and then; a failure is rare enough to pay for it.
            conn.client
                .execute(
                    "DELETE FROM tafel_wrong_attempts \
                     WHERE since < now() - make_interval(secs => $1) - interval '1 minute'",
                    &[&window.as_secs_f64()],
                )
                .map_err(pg_err)?;
            let failures: i32 = row.get(0);
            let left: f64 = row.get(1);
            Ok((
                u32::try_from(failures).unwrap_or(0),
                Duration::from_secs_f64(left),
            ))
        })
    }

    fn secret(&self, proposal: &str) -> Result<String, StorageError> {
        self.with(|conn| {
            conn.client
                .execute(
                    "INSERT INTO tafel_cluster (name, value) VALUES ('node_secret', $1) \
                     ON CONFLICT DO NOTHING",
                    &[&proposal],
                )
                .map_err(pg_err)?;
            let row = conn
                .client
                .query_one(
                    "SELECT value FROM tafel_cluster WHERE name = 'node_secret'",
                    &[],
                )
                .map_err(pg_err)?;
            Ok(row.get(0))
        })
    }
}

/// A database of its own for one test or benchmark run, created on the server at a base URL
/// and dropped (with every connection to it) when this is dropped.
pub struct ScratchDatabase {
    admin: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl ScratchDatabase {
    /// The base URL tests use: `TAFEL_TEST_DATABASE_URL`, or the local server's `postgres`
    /// database as the `postgres` user.
    pub fn base_url() -> String {
        std::env::var("TAFEL_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
    }

    /// Creates a fresh database on the server of `base` (a URL whose database may be any).
    /// Works inside an async runtime too: the blocking client runs on a thread of its own.
    pub fn create(base: &str) -> Result<Self, StorageError> {
        let base = base.to_owned();
        std::thread::spawn(move || Self::create_here(&base))
            .join()
            .map_err(|_| db_err("the thread creating the database panicked"))?
    }

    fn create_here(base: &str) -> Result<Self, StorageError> {
        let config = postgres::Config::from_str(base).map_err(db_err)?;
        let mut admin = config.clone();
        admin.connect_timeout(Duration::from_secs(3));
        let mut client = admin.connect(NoTls).map_err(pg_err)?;
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).map_err(db_err)?;
        let name = format!(
            "tafel_test_{}_{}",
            std::process::id(),
            crate::secrets::to_hex(&bytes)
        );
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(pg_err)?;
        let url = match base.rsplit_once('/') {
            Some((server, db)) if base.contains("://") => {
                let params = db.split_once('?').map_or("", |(_, p)| p);
                let sep = if params.is_empty() { "" } else { "?" };
                format!("{server}/{name}{sep}{params}")
            }
            _ => format!("{base} dbname={name}"),
        };
        Ok(Self {
            admin: base.to_owned(),
            name,
            url,
        })
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let drop_it = move || {
            postgres::Config::from_str(&admin)
                .map_err(db_err)
                .and_then(|c| c.connect(NoTls).map_err(pg_err))
                .and_then(|mut c| {
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .map_err(pg_err)
                })
        };
        // On a thread of its own: the blocking client cannot run inside an async runtime.
        let dropped = std::thread::spawn(drop_it)
            .join()
            .unwrap_or_else(|_| Err(db_err("the thread dropping the database panicked")));
        if let Err(e) = dropped {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch database, or `None` (with a loud warning) when no PostgreSQL answers; under
    /// `CI=true` a missing PostgreSQL fails the test.
    fn scratch() -> Option<ScratchDatabase> {
        match ScratchDatabase::create(&ScratchDatabase::base_url()) {
            Ok(db) => Some(db),
            Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!(
                    "\n*** SKIPPED: no PostgreSQL at {} ({e}); set TAFEL_TEST_DATABASE_URL ***\n",
                    ScratchDatabase::base_url()
                );
                None
            }
            Err(e) => panic!(
                "CI=true needs PostgreSQL at {}: {e}",
                ScratchDatabase::base_url()
            ),
        }
    }

    #[test]
    fn keeps_the_backend_contract() {
        let Some(db) = scratch() else { return };
        super::super::contract::check(&PgBackend::open(&db.url).unwrap());
    }

    #[test]
    fn keeps_the_cluster_contract() {
        let Some(db) = scratch() else { return };
        super::super::contract::check_cluster(&PgBackend::open(&db.url).unwrap());
    }

    #[test]
    fn nodes_starting_together_migrate_once() {
        let Some(db) = scratch() else { return };
        let opened: Vec<_> = (0..4)
            .map(|_| {
                let url = db.url.clone();
                std::thread::spawn(move || PgBackend::open(&url).map(|_| ()))
            })
            .collect();
        for o in opened {
            o.join().unwrap().unwrap();
        }
        let b = PgBackend::open(&db.url).unwrap();
        let versions: i64 = b
            .with(|c| {
                c.client
                    .query_one("SELECT count(*) FROM tafel_migrations", &[])
                    .map_err(pg_err)
            })
            .unwrap()
            .get(0);
        assert_eq!(versions, MIGRATIONS.len() as i64);
    }

    /// A writer that still believes it owns the session, holding the commit's lock, makes a
    /// claim wait; a claim that came first makes the writer's fence stale. Either way the
    /// database lets exactly one of them write.
    #[test]
    fn a_claim_and_a_stale_write_never_both_succeed() {
        let Some(db) = scratch() else { return };
        let b = std::sync::Arc::new(PgBackend::open(&db.url).unwrap());
        b.create(&super::super::contract::new_session("RRRRRR"))
            .unwrap();
        let c = b.cluster().unwrap();
        let Claim::Won { fence, .. } = c.claim("RRRRRR", "n1", "a1", Duration::ZERO).unwrap()
        else {
            panic!("claim")
        };
        for round in 1..=20u64 {
            let writer = {
                let b = b.clone();
                std::thread::spawn(move || {
                    b.commit(&[vec![
                        Write::Fence {
                            code: "RRRRRR".into(),
                            fence,
                        },
                        Write::Changes {
                            code: "RRRRRR".into(),
                            seq: round,
                            bytes: vec![1],
                        },
                    ]])
                    .remove(0)
                })
            };
            let claimed = c.claim("RRRRRR", "n2", "a2", Duration::ZERO).unwrap();
            let wrote = writer.join().unwrap();
            assert!(matches!(claimed, Claim::Won { .. }), "{claimed:?}");
            if round > 1 {
                assert!(matches!(wrote, Err(StorageError::Fenced(_))), "{wrote:?}");
            }
        }
        let s = b.load("RRRRRR").unwrap().unwrap();
        assert!(
            s.changes.len() <= 1,
            "at most the first race's write: {:?}",
            s.changes
        );
    }
}
