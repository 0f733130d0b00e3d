//! Group commit: commands queued together share one transaction, and a command that a
//! projection refuses fails alone, whatever else its batch holds.

use std::time::Duration;

use domain::email::Email;
use domain::event::{DomainEvent, EVENT_SCHEMA_VERSION};
use domain::ids::UserId;
use domain::text::Name;
use domain::user::UserEvent;
use store::chain::verify_chain;
use store::{EventMetadata, EventStore, ExpectedVersion, NewEvent, ReadModels, StoreError, StreamId};
use store_sqlite::{SqliteConfig, SqliteStore};

fn registration(n: usize, email: &str) -> (StreamId, NewEvent) {
    let id = format!("usr_group{n}");
    let event = DomainEvent::User(UserEvent::Registered {
        id: UserId::parse(&id).expect("valid id"),
        email: Email::parse(email).expect("valid email"),
        display_name: Name::parse("Group").expect("valid name"),
    });
    let (event_type, payload) = event.encode();
    (StreamId::new("user", &id), NewEvent { event_type, schema_version: EVENT_SCHEMA_VERSION, payload })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_command_fails_alone_in_a_shared_batch() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = SqliteConfig::new(dir.path().join("consailt.db"));
    // The writer takes the first command, then waits for the seven others (a batch closes at
    // eight events) for as long as a busy machine may take to queue them.
    config.max_batch_events = 8;
    config.linger = Duration::from_secs(10);
    let store = SqliteStore::open(config).await.expect("open store");

    // Eight registrations; the last reuses the fourth's email, which the users table refuses.
    let emails: Vec<String> = (0..8).map(|n| format!("member{}@example.com", if n == 7 { 3 } else { n })).collect();
    let tasks: Vec<_> = emails
        .iter()
        .enumerate()
        .map(|(n, email)| {
            let store = store.clone();
            let (stream, event) = registration(n, email);
            tokio::spawn(async move {
                store.append(stream, ExpectedVersion::NoStream, vec![event], EventMetadata::default()).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }

    let refused: Vec<usize> = (0..8).filter(|&n| outcomes[n].is_err()).collect();
    assert_eq!(refused.len(), 1, "exactly one of the two registrations of one email fails: {outcomes:?}");
    assert!(refused[0] == 3 || refused[0] == 7, "only a duplicate fails: {outcomes:?}");
    assert!(matches!(outcomes[refused[0]], Err(StoreError::Rejected(_))), "{outcomes:?}");
    // The seven others were committed in one transaction: they share its time.
    let times: std::collections::BTreeSet<_> =
        outcomes.iter().filter_map(|outcome| outcome.as_ref().ok()).map(|receipt| receipt.recorded_at).collect();
    assert_eq!(times.len(), 1, "the commands were written as one batch");

    let log = store.read_all_after(0, 100).await.expect("read the log");
    let positions: Vec<u64> = log.iter().map(|event| event.position).collect();
    assert_eq!(positions, (1..=7).collect::<Vec<_>>(), "the refused command left no event and no gap");
    let chain = verify_chain(&store).await.expect("verify the chain");
    assert!(chain.first_broken.is_none() && chain.events_checked == 7, "the hash chain holds: {chain:?}");
    let refused_stream = StreamId::new("user", &format!("usr_group{}", refused[0]));
    assert!(store.read_stream(&refused_stream).await.expect("read").is_empty());
    for email in &emails[..7] {
        assert!(store.user_by_email(email).await.expect("read model").is_some(), "{email} is registered");
    }
    let kept = if refused[0] == 3 { 7 } else { 3 };
    let kept = store.user(&format!("usr_group{kept}")).await.expect("read model");
    assert_eq!(kept.map(|user| user.email), Some("member3@example.com".to_owned()), "the other duplicate is kept");
}
