//! Gate a feature server-side: `check`, do the work, then `track`.
//!
//! ```text
//! AUTUMN_SECRET_KEY=am_sk_... cargo run --example check_track -- user_123
//! ```

use autumn_tower::models::{CheckParams, TrackParams};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let customer = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "user_123".to_owned());
    let client = match autumn_tower::Client::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };

    let answer = client
        .balances()
        .check(&CheckParams::new(&customer, "messages"))
        .await?;
    if !answer.allowed {
        println!("{customer} has no messages left: show the upgrade page");
        return Ok(());
    }
    if let Some(balance) = &answer.balance {
        println!(
            "{customer} has {} of {} message(s) left",
            balance.remaining, balance.granted
        );
    }

    // ... send the message here ...
    let message_id = "msg_0001";

    // Keyed with the message id: a retry after a lost answer never counts the message twice.
    let tracked = client
        .balances()
        .track(&TrackParams::new(&customer, "messages", 1.0).idempotency_key(message_id))
        .await?;
    let left = tracked.balance.as_ref().map(|b| b.remaining);
    println!(
        "sent; {customer} used {} message(s), {left:?} left",
        tracked.value
    );
    Ok(())
}
