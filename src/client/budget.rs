//! The retry budget: retries may add about 20% to the calls of the last ten seconds, plus a small
//! reserve, so a failing Autumn never sees a storm of repeats.
//!
//! The same accounting as tower's `TpsBudget` (deposits per call, a withdrawal per retry, a sliding
//! window of ten one-second slots), kept in atomics only: every call deposits, so the budget sits on
//! the hot path, where tower's version takes a mutex on each deposit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Seconds of history the budget looks at (one slot per second).
const SLOTS: usize = 10;

#[derive(Debug)]
pub(crate) struct RetryBudget {
    start: Instant,
    /// Per slot: the second it counts (high 32 bits) and its balance (low 32 bits, signed).
    slots: [AtomicU64; SLOTS],
    /// What each call adds.
    deposit: i32,
    /// What each retry takes.
    withdraw: i32,
    /// Always available on top of the window's balance.
    reserve: i64,
}

fn pack(second: u32, balance: i32) -> u64 {
    (u64::from(second) << 32) | u64::from(balance as u32)
}

fn unpack(slot: u64) -> (u32, i32) {
    ((slot >> 32) as u32, slot as u32 as i32)
}

impl RetryBudget {
    /// Retries may add `percent` (0.0 to 1.0) of the calls, plus `min_per_sec` retries a second.
    pub(crate) fn new(percent: f32, min_per_sec: u32) -> Self {
        let (deposit, withdraw) = if percent <= 0.0 {
            (0, 1)
        } else {
            (1, (1.0 / percent.min(1.0)).round().max(1.0) as i32)
        };
        RetryBudget {
            start: Instant::now(),
            slots: Default::default(),
            deposit,
            withdraw,
            reserve: i64::from(min_per_sec) * SLOTS as i64 * i64::from(withdraw),
        }
    }

    fn second(&self) -> u32 {
        // Seconds since the budget was made; a process would need 136 years to wrap it.
        self.start.elapsed().as_secs() as u32
    }

    fn add(&self, second: u32, amount: i32) {
        let slot = &self.slots[second as usize % SLOTS];
        let mut current = slot.load(Ordering::Relaxed);
        loop {
            let (at, balance) = unpack(current);
            let next = if at == second {
                pack(second, balance.saturating_add(amount))
            } else {
                // The slot still holds a second that left the window: start it afresh.
                pack(second, amount)
            };
            match slot.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    fn balance(&self, second: u32) -> i64 {
        let window: i64 = self
            .slots
            .iter()
            .map(|slot| unpack(slot.load(Ordering::Acquire)))
            .filter(|(at, _)| second.wrapping_sub(*at) < SLOTS as u32)
            .map(|(_, balance)| i64::from(balance))
            .sum();
        self.reserve + window
    }

    /// Records a call.
    pub(crate) fn deposit(&self) {
        if self.deposit != 0 {
            self.add(self.second(), self.deposit);
        }
    }

    /// Takes one retry from the budget, if it has one.
    pub(crate) fn withdraw(&self) -> bool {
        let second = self.second();
        if self.balance(second) < i64::from(self.withdraw) {
            return false;
        }
        self.add(second, -self.withdraw);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_are_a_fifth_of_the_calls_plus_the_reserve() {
        let budget = RetryBudget::new(0.2, 0);
        assert!(!budget.withdraw(), "no calls, no reserve: no retry");
        for _ in 0..100 {
            budget.deposit();
        }
        let retries = (0..100).filter(|_| budget.withdraw()).count();
        assert_eq!(retries, 20);

        let reserved = RetryBudget::new(0.2, 1);
        let retries = (0..100).filter(|_| reserved.withdraw()).count();
        assert_eq!(retries, 10, "one a second over the ten-second window");
    }

    #[test]
    fn old_seconds_leave_the_window() {
        let budget = RetryBudget::new(0.2, 0);
        budget.add(3, 50);
        assert_eq!(budget.balance(3), 50);
        assert_eq!(budget.balance(12), 50);
        assert_eq!(
            budget.balance(13),
            0,
            "second 3 is more than ten seconds old"
        );
        // A slot reused by a later second starts afresh.
        budget.add(13, 5);
        assert_eq!(budget.balance(13), 5);
    }

    #[test]
    fn concurrent_deposits_are_all_counted() {
        let budget = std::sync::Arc::new(RetryBudget::new(1.0, 0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let budget = budget.clone();
                std::thread::spawn(move || (0..10_000).for_each(|_| budget.deposit()))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(budget.balance(budget.second()), 40_000);
    }
}
