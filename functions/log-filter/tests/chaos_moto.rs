//! CHAOS: several log-filter handlers (containers) run concurrently in-process on overlapping
//! rules and keys against moto's DynamoDB, with redeliveries, failures injected at every boundary
//! of the driver, ticks, and the notifier's de-duplication on `alert_id` (slack-notifier's own
//! `dedup` module, on the same table) between the topic and the chat. It asserts:
//!
//! * every distinct event is accounted exactly once: per (rule, key), the sum of `count +
//!   suppressed` over the chat messages equals the distinct matching events (for the rules whose
//!   triggers are their matches: `any`), and no `Matches` metric counts an event twice;
//! * every `alert_id` is delivered as exactly one chat message, and every published one is;
//! * a republished `alert_id` carries exactly the same message;
//! * nothing is lost or left pending: every payload is handled, and after the final ticks nothing
//!   is due and nothing more is published.
//!
//! Faults, each drawn per call from the seeded generator (a wrapper store and a wrapper sink):
//! a state read that fails (the container cache and the commit conditions must keep decisions
//! right); a conditional write that conflicts although nothing changed; a crash before the commit
//! is sent; a crash after the commit (before publishing — or, for the mark-sent commit, after
//! publishing); a commit that was applied but whose answer was lost (`Unavailable`: the engine
//! fails open and publishes directly, the outbox republishes the same ids later); an SNS publish
//! refused; a crash after SNS accepted a publication, before it was marked sent. A crash drops the
//! invocation at that point (as a Lambda timeout would) and the payload is delivered again, as
//! Lambda's retries do; a tick that crashes is simply followed by the next one.
//!
//! Not injected here: a commit that fails outright while DynamoDB is down. That is the fail-open
//! case, which by design trades exactness for delivery (tested in `handler_moto`).
//!
//! `LOGALERT_CHAOS_SEED` (a number, or `clock` for a new seed per run; default [`DEFAULT_SEED`], so
//! the README's test command is deterministic) and `LOGALERT_CHAOS_ROUNDS` (default 3) choose the
//! run; the seed is printed. The seed fixes the deliveries and the faults, not the interleaving of
//! the concurrent handlers.
//!
//! A second test replays the seed that found a guess of the container cache overwriting a pending
//! publication (`LOGALERT_CHAOS_SEED=1796131659058`, fixed): the seed fixes the faults, not the
//! interleaving, so it is a strong check, not an exact replay.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use log_filter::Handler;
use logalert::engine::{AlertSink, Engine, EngineConfig, Publication};
use logalert::state::{DueKey, StateError, StateRecord, StateStore, Write};
use logalert_dynamodb::DynamoStateStore;
use serde_json::{Value, json};
use tokio::sync::Notify;

const RULES: &str = r#"
version: 1
rules:
  - name: errors
    filter_pattern: '{ $.level = "ERROR" }'
    query_key: $.svc
    realert: 2m
    resolve_after: 4m
    max_samples: 2
  - name: loud-a
    filter_pattern: '{ $.level = "ERROR" && $.svc = "a" }'
    realert: 0
  - name: bursts
    type: frequency
    filter_pattern: '{ $.level = "ERROR" }'
    num_events: 3
    timeframe: 1m
    query_key: $.svc
    realert: 1m
"#;

/// Rules whose every match is one trigger (`any`): their accounting is exact per event.
const EXACT_RULES: &[&str] = &["errors", "loud-a"];
const HANDLERS: usize = 4;
const NOTIFIERS: usize = 2;
const PAYLOADS_PER_ROUND: usize = 12;
const SERVICES: &[&str] = &["a", "b", "c"];

// ---------------------------------------------------------------- faults

#[derive(Debug, Clone, Copy)]
struct Odds {
    read_fails: f64,
    spurious_conflict: f64,
    crash_before_commit: f64,
    crash_after_commit: f64,
    commit_answer_lost: f64,
    publish_refused: f64,
    crash_after_publish: f64,
    redeliver: f64,
    sns_duplicate: f64,
}

const ODDS: Odds = Odds {
    read_fails: 0.06,
    spurious_conflict: 0.05,
    crash_before_commit: 0.03,
    crash_after_commit: 0.06,
    commit_answer_lost: 0.04,
    publish_refused: 0.08,
    crash_after_publish: 0.05,
    redeliver: 0.3,
    sns_duplicate: 0.1,
};

/// The seeded dice, shared by every wrapper (draws interleave with the handlers, so the seed
/// fixes the odds and the deliveries, not which call gets which fault).
#[derive(Clone)]
struct Dice(Arc<Mutex<fastrand::Rng>>);

impl Dice {
    fn roll(&self, p: f64) -> bool {
        self.0.lock().unwrap().f64() < p
    }
    fn below(&self, n: usize) -> usize {
        self.0.lock().unwrap().usize(..n)
    }
}

#[derive(Debug, Default)]
struct FaultCounts {
    read_fails: AtomicUsize,
    spurious_conflicts: AtomicUsize,
    crashes_before_commit: AtomicUsize,
    crashes_after_commit: AtomicUsize,
    commit_answers_lost: AtomicUsize,
    publishes_refused: AtomicUsize,
    crashes_after_publish: AtomicUsize,
}

impl FaultCounts {
    fn summary(&self) -> String {
        let l = |a: &AtomicUsize| a.load(Ordering::Relaxed);
        format!(
            "read fails {}, spurious conflicts {}, crashes before commit {}, after commit {}, commit answers lost {}, publishes refused {}, crashes after publish {}",
            l(&self.read_fails),
            l(&self.spurious_conflicts),
            l(&self.crashes_before_commit),
            l(&self.crashes_after_commit),
            l(&self.commit_answers_lost),
            l(&self.publishes_refused),
            l(&self.crashes_after_publish)
        )
    }
}

/// One container's crash switch: a wrapper that "crashes" signals it and never returns, and the
/// worker drops the whole invocation (as a Lambda timeout ends it).
#[derive(Clone, Default)]
struct Crash(Arc<Notify>);

impl Crash {
    async fn now(&self) -> ! {
        self.0.notify_one();
        std::future::pending::<()>().await;
        unreachable!()
    }
}

/// DynamoDB applies each request to an item atomically (a conditional write is checked and
/// applied as one step). moto's server is threaded and does not: two conditional writes racing on
/// one item can both pass their check. So requests to moto go one at a time — the handlers still
/// interleave freely between their requests, which is where the engine's races live.
#[derive(Clone)]
struct Atomic {
    inner: DynamoStateStore,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl StateStore for Atomic {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        let _one = self.gate.lock().await;
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<StateRecord>>, StateError> {
        let _one = self.gate.lock().await;
        self.inner.get_many(keys).await
    }
    async fn put(&self, k: &str, r: &StateRecord, v: Option<u64>) -> Result<(), StateError> {
        let _one = self.gate.lock().await;
        self.inner.put(k, r, v).await
    }
    async fn commit(&self, writes: &[Write]) -> Result<(), StateError> {
        let _one = self.gate.lock().await;
        self.inner.commit(writes).await
    }
    async fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
        let _one = self.gate.lock().await;
        self.inner.due(now_ms, limit).await
    }
}

/// The real DynamoDB store, with faults.
struct ChaosStore {
    inner: Atomic,
    dice: Dice,
    crash: Crash,
    counts: Arc<FaultCounts>,
    /// Faults only while the run is on (the final drain runs clean).
    armed: Arc<AtomicBool>,
}

impl ChaosStore {
    fn fault(&self, p: f64, counter: &AtomicUsize) -> bool {
        let hit = self.armed.load(Ordering::Relaxed) && self.dice.roll(p);
        if hit {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    fn read_fault(&self) -> Result<(), StateError> {
        if self.fault(ODDS.read_fails, &self.counts.read_fails) {
            return Err(StateError::Unavailable("injected: read failed".into()));
        }
        Ok(())
    }
}

impl StateStore for ChaosStore {
    async fn get(&self, key: &str) -> Result<Option<StateRecord>, StateError> {
        self.read_fault()?;
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<StateRecord>>, StateError> {
        self.read_fault()?;
        self.inner.get_many(keys).await
    }

    async fn put(&self, k: &str, r: &StateRecord, v: Option<u64>) -> Result<(), StateError> {
        self.inner.put(k, r, v).await
    }

    async fn commit(&self, writes: &[Write]) -> Result<(), StateError> {
        if self.fault(ODDS.spurious_conflict, &self.counts.spurious_conflicts) {
            return Err(StateError::Conflict);
        }
        if self.fault(ODDS.crash_before_commit, &self.counts.crashes_before_commit) {
            self.crash.now().await;
        }
        self.inner.commit(writes).await?;
        if self.fault(ODDS.crash_after_commit, &self.counts.crashes_after_commit) {
            self.crash.now().await;
        }
        if self.fault(ODDS.commit_answer_lost, &self.counts.commit_answers_lost) {
            return Err(StateError::Unavailable(
                "injected: the commit was applied, its answer lost".into(),
            ));
        }
        Ok(())
    }

    async fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<DueKey>, StateError> {
        self.read_fault()?;
        self.inner.due(now_ms, limit).await
    }
}

/// The topic: every publication SNS accepted, in order (duplicates included).
type Topic = Arc<Mutex<Vec<Publication>>>;

struct ChaosSink {
    topic: Topic,
    dice: Dice,
    crash: Crash,
    counts: Arc<FaultCounts>,
    armed: Arc<AtomicBool>,
}

impl AlertSink for ChaosSink {
    async fn publish(&self, publications: &[Publication]) -> Vec<Result<(), String>> {
        let armed = self.armed.load(Ordering::Relaxed);
        let mut results = Vec::with_capacity(publications.len());
        for p in publications {
            if armed && self.dice.roll(ODDS.publish_refused) {
                self.counts
                    .publishes_refused
                    .fetch_add(1, Ordering::Relaxed);
                results.push(Err("injected: SNS refused".to_string()));
                continue;
            }
            self.topic.lock().unwrap().push(p.clone());
            if armed && self.dice.roll(ODDS.crash_after_publish) {
                self.counts
                    .crashes_after_publish
                    .fetch_add(1, Ordering::Relaxed);
                self.crash.now().await;
            }
            results.push(Ok(()));
        }
        results
    }
}

// ---------------------------------------------------------------- the run

struct Event {
    id: String,
    ts: i64,
    svc: &'static str,
    error: bool,
}

fn message(e: &Event) -> String {
    json!({"level": if e.error { "ERROR" } else { "INFO" }, "svc": e.svc, "id": e.id}).to_string()
}

fn payload(stream: &str, events: &[Event]) -> Value {
    use base64::Engine as _;
    use std::io::Write as _;
    let decoded = json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/chaos/app",
        "logStream": stream, "subscriptionFilters": ["logalert"],
        "logEvents": events.iter().map(|e| json!({"id": e.id, "timestamp": e.ts, "message": message(e)})).collect::<Vec<_>>()});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(decoded.to_string().as_bytes()).unwrap();
    json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())}})
}

enum Job {
    Deliver { payload: Arc<Value>, latest_ts: i64 },
    Tick,
}

struct Shared {
    queue: Mutex<VecDeque<(usize, Job)>>,
    /// Payloads handled successfully at least once (later copies are redeliveries).
    handled: Mutex<HashSet<usize>>,
    clock: AtomicI64,
    matches: Mutex<BTreeMap<String, u64>>,
    crashes: AtomicUsize,
    invocations: AtomicUsize,
}

/// The seed of the README's test command (any seed that is not the known failure above).
const DEFAULT_SEED: u64 = 20_261_201;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

async fn table(aws: &aws_config::SdkConfig) -> String {
    let name = format!(
        "chaos-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    logalert_dynamodb::table::create(&aws_sdk_dynamodb::Client::new(aws), &name)
        .await
        .unwrap();
    name
}

/// One container: takes jobs until the queue is empty and nothing is in flight.
async fn container(
    handler: Handler<ChaosStore, ChaosSink>,
    crash: Crash,
    shared: Arc<Shared>,
    dice: Dice,
    busy: Arc<AtomicUsize>,
) {
    loop {
        let job = shared.queue.lock().unwrap().pop_front();
        let Some((index, job)) = job else {
            if busy.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        busy.fetch_add(1, Ordering::SeqCst);
        shared.invocations.fetch_add(1, Ordering::Relaxed);
        let (event, now) = match &job {
            Job::Deliver { payload, latest_ts } => {
                let now = shared
                    .clock
                    .fetch_add(dice.below(1_500) as i64, Ordering::SeqCst);
                ((**payload).clone(), now.max(*latest_ts + 1))
            }
            Job::Tick => (tick_event(), shared.clock.load(Ordering::SeqCst)),
        };
        let result = tokio::select! {
            biased;
            _ = crash.0.notified() => None,
            inv = handler.process(&event, now) => Some(inv),
        };
        match (result, job) {
            (None, Job::Deliver { payload, latest_ts }) => {
                shared.crashes.fetch_add(1, Ordering::Relaxed);
                push(&shared, &dice, index, Job::Deliver { payload, latest_ts });
            }
            (None, Job::Tick) => {
                shared.crashes.fetch_add(1, Ordering::Relaxed);
            }
            (Some(inv), Job::Deliver { payload, latest_ts }) => {
                if inv.response.is_err() {
                    // Lambda retries a failed asynchronous invocation.
                    push(&shared, &dice, index, Job::Deliver { payload, latest_ts });
                } else {
                    for (rule, (m, _)) in &inv.metrics.per_rule {
                        *shared
                            .matches
                            .lock()
                            .unwrap()
                            .entry(rule.clone())
                            .or_default() += m;
                    }
                    shared.handled.lock().unwrap().insert(index);
                    // At least once: CloudWatch Logs / Lambda may deliver it again, any time later.
                    if dice.roll(ODDS.redeliver) {
                        push(&shared, &dice, index, Job::Deliver { payload, latest_ts });
                    }
                }
            }
            (Some(inv), Job::Tick) => {
                assert!(
                    inv.response.is_ok(),
                    "a tick never fails: {:?}",
                    inv.response
                );
            }
        }
        busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Put a job back at a random place in the queue (retries and redeliveries come at any time).
fn push(shared: &Shared, dice: &Dice, index: usize, job: Job) {
    let mut q = shared.queue.lock().unwrap();
    let at = dice.below(q.len() + 1);
    q.insert(at, (index, job));
}

fn tick_event() -> Value {
    json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
}

/// The notifier's side: take each message off the topic (SNS may deliver one twice), de-duplicate
/// on its alert_id exactly as slack-notifier does, and "post" it to the chat.
async fn notifier(
    store: Atomic,
    topic: Topic,
    next: Arc<AtomicUsize>,
    chat: Arc<Mutex<Vec<Publication>>>,
    dice: Dice,
    done: Arc<AtomicBool>,
    worker: usize,
) {
    use slack_notifier::dedup::{Claim, Settled, alert_key, claim, settle};
    let mut retry: VecDeque<Publication> = VecDeque::new();
    let mut request = 0u64;
    loop {
        let next_message = retry.pop_front().or_else(|| {
            let topic = topic.lock().unwrap();
            let i = next.load(Ordering::SeqCst);
            (i < topic.len()
                && next
                    .compare_exchange(i, i + 1, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok())
            .then(|| topic[i].clone())
        });
        let Some(p) = next_message else {
            if done.load(Ordering::SeqCst)
                && next.load(Ordering::SeqCst) >= topic.lock().unwrap().len()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        if dice.roll(ODDS.sns_duplicate) {
            retry.push_back(p.clone());
        }
        request += 1;
        // The notifier's marker is keyed by the alert's id (`alert#<alert_id>`), as slack-notifier
        // keys it: a publication SNS delivered twice, or log-filter published twice, is one key.
        let key = alert_key(&p.alert.alert_id);
        let now = wall_ms();
        let request_id = format!("notifier-{worker}-{request}");
        match claim(&store, &key, &request_id, now + 60_000, now, 86_400).await {
            Claim::Owned { version } => {
                chat.lock().unwrap().push(p.clone());
                settle(
                    &store,
                    &key,
                    version,
                    Settled::Delivered,
                    &p.alert.channel,
                    now,
                    86_400,
                )
                .await
                .expect("settle");
            }
            Claim::Delivered | Claim::MaybeDelivered => {}
            Claim::InFlight { .. } => retry.push_back(p),
            Claim::Unavailable(e) => panic!("the notifier's table failed: {e}"),
        }
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_every_event_once_every_alert_once() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto or scripts/test"
    );
    let seed = match std::env::var("LOGALERT_CHAOS_SEED")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        Some("clock") => wall_ms() as u64,
        _ => env_u64("LOGALERT_CHAOS_SEED").unwrap_or(DEFAULT_SEED),
    };
    let rounds = env_u64("LOGALERT_CHAOS_ROUNDS").unwrap_or(3) as usize;
    chaos_run(seed, rounds).await;
}

/// The seed that found a guess of the container cache overwriting a pending publication (a
/// commit applied but its answer lost, then a failed read answered from the cache): one event of
/// svc `a` went unreported for two rules. Fixed in `state_cache.rs` (`confirm_guesses`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chaos_a_lost_commit_answer_then_a_failed_read() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run through scripts/with-moto or scripts/test"
    );
    chaos_run(1_796_131_659_058, 3).await;
}

async fn chaos_run(seed: u64, rounds: usize) {
    eprintln!("chaos: LOGALERT_CHAOS_SEED={seed} LOGALERT_CHAOS_ROUNDS={rounds}");
    let dice = Dice(Arc::new(Mutex::new(fastrand::Rng::with_seed(seed))));
    let aws = aws_config::load_from_env().await;
    let table = table(&aws).await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let gate = Arc::new(tokio::sync::Mutex::new(()));
    let dynamo = Atomic {
        inner: DynamoStateStore::new(client.clone(), &table),
        gate,
    };

    // The events: rounds of payloads over overlapping services, ~2 s apart in event time.
    let t0 = wall_ms();
    let mut truth: BTreeMap<(String, Option<String>), u64> = BTreeMap::new();
    let mut jobs: Vec<(usize, Job)> = Vec::new();
    let mut n = 0;
    for i in 0..rounds * PAYLOADS_PER_ROUND {
        let events: Vec<Event> = (0..1 + dice.below(6))
            .map(|_| {
                n += 1;
                Event {
                    id: format!("{n:056}"),
                    ts: t0 + i as i64 * 2_000 + dice.below(1_000) as i64,
                    svc: SERVICES[dice.below(SERVICES.len())],
                    error: dice.below(5) > 0,
                }
            })
            .collect();
        for e in events.iter().filter(|e| e.error) {
            *truth
                .entry(("errors".into(), Some(e.svc.into())))
                .or_default() += 1;
            if e.svc == "a" {
                *truth.entry(("loud-a".into(), None)).or_default() += 1;
            }
        }
        let latest_ts = events.iter().map(|e| e.ts).max().unwrap();
        let stream = format!("stream-{}", dice.below(3));
        jobs.push((
            i,
            Job::Deliver {
                payload: Arc::new(payload(&stream, &events)),
                latest_ts,
            },
        ));
        if i % 4 == 3 {
            jobs.push((usize::MAX, Job::Tick));
        }
    }
    let payloads = rounds * PAYLOADS_PER_ROUND;
    let shared = Arc::new(Shared {
        queue: Mutex::new(jobs.into()),
        handled: Mutex::new(HashSet::new()),
        clock: AtomicI64::new(t0),
        matches: Mutex::new(BTreeMap::new()),
        crashes: AtomicUsize::new(0),
        invocations: AtomicUsize::new(0),
    });

    let topic: Topic = Arc::default();
    let counts = Arc::new(FaultCounts::default());
    let armed = Arc::new(AtomicBool::new(true));
    let rules = || logalert::rules::load(RULES, "rules.yaml").unwrap();
    let make_handler = |crash: &Crash| {
        Handler::new(
            Engine::new(rules(), EngineConfig::new("us-east-1")),
            ChaosStore {
                inner: dynamo.clone(),
                dice: dice.clone(),
                crash: crash.clone(),
                counts: counts.clone(),
                armed: armed.clone(),
            },
            ChaosSink {
                topic: topic.clone(),
                dice: dice.clone(),
                crash: crash.clone(),
                counts: counts.clone(),
                armed: armed.clone(),
            },
            "logalert",
        )
    };

    // The notifiers run alongside from the start.
    let chat: Arc<Mutex<Vec<Publication>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let notifying = Arc::new(AtomicBool::new(false));
    let notifiers: Vec<_> = (0..NOTIFIERS)
        .map(|w| {
            tokio::spawn(notifier(
                dynamo.clone(),
                topic.clone(),
                next.clone(),
                chat.clone(),
                dice.clone(),
                notifying.clone(),
                w,
            ))
        })
        .collect();

    // The storm: containers side by side until every payload is handled and no retry is owed.
    let busy = Arc::new(AtomicUsize::new(0));
    let containers: Vec<_> = (0..HANDLERS)
        .map(|_| {
            let crash = Crash::default();
            tokio::spawn(container(
                make_handler(&crash),
                crash,
                shared.clone(),
                dice.clone(),
                busy.clone(),
            ))
        })
        .collect();
    for c in containers {
        c.await.unwrap();
    }
    assert_eq!(
        shared.handled.lock().unwrap().len(),
        payloads,
        "every payload was handled"
    );

    // Time passes with no events: clean ticks (one container) until nothing more comes out.
    armed.store(false, Ordering::Relaxed);
    let drain = make_handler(&Crash::default());
    let mut now = shared.clock.load(Ordering::SeqCst);
    let mut quiet = 0;
    for _ in 0..40 {
        now += 60_000;
        let inv = drain.process(&tick_event(), now).await;
        let out = inv.response.unwrap();
        quiet = if out["published"] == 0 { quiet + 1 } else { 0 };
        if quiet >= 8 {
            break;
        }
    }
    let due = drain.store.inner().inner.due(i64::MAX, 10).await.unwrap();
    assert!(due.is_empty(), "nothing left due: {due:?}");
    notifying.store(true, Ordering::SeqCst);
    for n in notifiers {
        n.await.unwrap();
    }

    let topic = topic.lock().unwrap().clone();
    let chat = chat.lock().unwrap().clone();
    let context = format!(
        "seed {seed}, {rounds} rounds: {} invocations, {} crashes, {} published, {} chat messages; faults: {}",
        shared.invocations.load(Ordering::Relaxed),
        shared.crashes.load(Ordering::Relaxed),
        topic.len(),
        chat.len(),
        counts.summary()
    );
    eprintln!("chaos: {context}");

    // Every alert_id exactly one chat message, and every published one delivered.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for p in &chat {
        *seen.entry(&p.alert.alert_id).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "alert_ids posted twice: {twice:?} ({context})"
    );
    let published: HashSet<&str> = topic.iter().map(|p| p.alert.alert_id.as_str()).collect();
    assert_eq!(
        published,
        seen.keys().copied().collect::<HashSet<_>>(),
        "every published alert reached the chat ({context})"
    );
    // A republished alert_id is the same message.
    let mut bodies: HashMap<&str, &str> = HashMap::new();
    for p in &topic {
        let first = bodies.entry(&p.alert.alert_id).or_insert(&p.body);
        assert_eq!(
            *first,
            p.body.as_str(),
            "alert {} changed between publications ({context})",
            p.alert.alert_id
        );
    }
    // Every distinct event accounted exactly once.
    let mut reported: BTreeMap<(String, Option<String>), u64> = BTreeMap::new();
    for p in &chat {
        if EXACT_RULES.contains(&p.alert.rule.name.as_str()) {
            *reported
                .entry((p.alert.rule.name.clone(), p.alert.query_key.clone()))
                .or_default() += p.alert.count + p.alert.suppressed;
        }
    }
    assert_eq!(
        reported, truth,
        "count + suppressed per rule and key ({context})"
    );
    // Metrics never count an event twice (a crash after a commit loses that invocation's lines,
    // so they may count fewer).
    let matches = shared.matches.lock().unwrap().clone();
    for (rule, n) in &matches {
        let distinct: u64 = match rule.as_str() {
            "bursts" => truth
                .iter()
                .filter(|((r, _), _)| r == "errors")
                .map(|(_, n)| n)
                .sum(),
            r => truth
                .iter()
                .filter(|((tr, _), _)| tr == r)
                .map(|(_, n)| n)
                .sum(),
        };
        assert!(
            *n <= distinct,
            "{rule}: Matches {n} > {distinct} distinct events ({context})"
        );
    }
    // Something happened: the run exercised alerts, summaries and every kind of fault.
    assert!(chat.iter().any(|p| p.alert.kind == "summary"), "{context}");
    assert!(chat.iter().any(|p| p.alert.kind == "resolved"), "{context}");
    assert!(
        chat.iter().any(|p| p.alert.rule.name == "bursts"),
        "{context}"
    );
}
