//! `consailt audit verify`: walk the hash chain and report the first broken link.

use store::chain::verify_chain;

use crate::Failure;
use crate::commands::open_store;
use crate::config::StorageArgs;

pub async fn run(args: StorageArgs) -> Result<(), Failure> {
    let (store, _) = open_store(&args).await?;
    let report = verify_chain(&store).await?;
    store.close().await;
    match report.first_broken {
        None => {
            let head = report.head.map_or_else(|| "none (empty log)".to_owned(), hex::encode);
            println!("audit chain intact: {} events verified, head {head}", report.events_checked);
            Ok(())
        }
        Some(broken) => Err(Failure {
            message: format!(
                "audit chain broken at position {} ({} events before it verified): {}",
                broken.position, report.events_checked, broken.reason
            ),
            code: 3,
        }),
    }
}
