//! The classic APS demo, "async-provisioning": an application (`globals`) and a resource
//! (`provisionable`) that provisions itself asynchronously by flipping a coin.
//!
//! `provision` answers 202 Accepted ("Provisioning the resource", check back in 30 s); each
//! recheck reaches `provision_async`, which flips a coin: heads, still provisioning; tails, done.

mod globals;
mod provisionable;

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use globals::Globals;
pub use provisionable::Dummy;

/// The application, with a coin seeded by `seed` (or by the OS when `None`).
pub fn app(seed: Option<u64>) -> aps::App {
    aps::app!()
        .id("http://aps-standard.org/samples/async-prov")
        .vendor("APS samples")
        .with_state(Coin::new(seed))
}

/// The coin `provision_async` flips; seeded, it repeats the same sequence.
#[derive(Debug)]
pub struct Coin(Mutex<StdRng>);

impl Coin {
    /// A coin seeded with `seed`, or from the OS.
    pub fn new(seed: Option<u64>) -> Self {
        Self(Mutex::new(
            seed.map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64),
        ))
    }

    /// Heads (`true`) or tails.
    pub fn flip(&self) -> bool {
        // A poisoned lock still holds a usable generator.
        let mut rng = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rng.random()
    }
}
