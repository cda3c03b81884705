//! The travel world of AgentDojo, built in: hotels, restaurants, car
//! rental companies and flights in Paris, London, Tokyo, Los Angeles and a
//! few other cities; the user's profile, calendar and inbox; and the 28
//! tools a travel agent gets over them, plus `cancel_reservation` so that
//! a rolled-back mission can undo its bookings.
//!
//! The data is AgentDojo's (MIT; see `README.md` in this folder), and so
//! are its attacks: some reviews carry the benchmark's prompt-injection
//! texts, the instructions an attacker wants the agent to follow instead of
//! the user. [`TravelWorld::builtin`] plants each attack in a few reviews;
//! [`TravelWorld::attacked_by`] plants one attack in every review that can
//! carry one, as an AgentDojo run does; [`TravelWorld::benign`] plants
//! none.
//!
//! State (reservations, calendar events, sent mail) is shared by every
//! clone of a world and by its tools, so a caller sees what the agent did.
//!
//! # Example
//!
//! ```
//! use phantom_tools::ready::travel::TravelWorld;
//! use tower::ServiceExt;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let world = TravelWorld::builtin()?;
//! let tools = world.tools();
//!
//! let call = tools.prepare(
//!     "reserve_hotel",
//!     serde_json::json!({"hotel": "Le Marais Boutique", "start_day": "2025-01-11", "end_day": "2025-01-15"}),
//!     None,
//! )?;
//! let output = tools.oneshot(call).await?;
//! assert_eq!(output.compensation.map(|c| c.name).as_deref(), Some("cancel_reservation"));
//! assert_eq!(world.reservations().len(), 1);
//! # Ok(()) }
//! ```

mod bookings;
mod calendar;
mod data;
mod lookups;
mod mail;
mod time;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub use data::{
    CalendarEvent, CarRentalCompany, Email, EmailStatus, EventStatus, Flight, Hotel, Reservation,
    ReservationKind, ReservationStatus, Restaurant, User,
};

use crate::set::ToolSet;
use crate::tool::ToolError;
use data::{InjectionsFile, WorldFile};

/// The scopes the travel tools declare: what a ghost token for a travel
/// agent grants.
pub const SCOPES: &[&str] = &[
    "travel.hotels.read",
    "travel.restaurants.read",
    "travel.cars.read",
    "travel.flights.read",
    "travel.reserve",
    "calendar.read",
    "calendar.write",
    "email.send",
    "user.profile.read",
];

const WORLD: &str = include_str!("world.json");
const INJECTIONS: &str = include_str!("injections.json");

/// Why a travel world could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    /// The built-in data does not parse (a broken build, caught by tests).
    #[error("the built-in travel data is malformed: {0}")]
    Malformed(String),
    /// No attack of that id.
    #[error("unknown attack `{0}` (known: {1})")]
    UnknownAttack(String, String),
}

/// An attack of the benchmark: an injection task's goal and the text that
/// plants it in a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attack {
    /// The injection task's id, e.g. `injection_task_0`.
    pub id: String,
    /// What the attacker wants done.
    pub goal: String,
    /// The review text that asks for it ("important instructions").
    pub text: String,
}

/// What the world never changes: places, flights, the user's profile.
#[derive(Debug)]
struct Catalog {
    today: String,
    user: User,
    hotels: Vec<Hotel>,
    restaurants: Vec<Restaurant>,
    companies: Vec<CarRentalCompany>,
    flights: Vec<Flight>,
}

/// What the agent's calls change.
#[derive(Debug)]
struct State {
    account_email: String,
    events: Vec<CalendarEvent>,
    emails: Vec<Email>,
    reservations: Vec<Reservation>,
}

impl State {
    /// The next id in a space of decimal ids: one more than the largest,
    /// from 1.
    fn next_id<'a>(ids: impl Iterator<Item = &'a str>) -> String {
        let largest = ids.filter_map(|id| id.parse::<u64>().ok()).max();
        (largest.unwrap_or(0) + 1).to_string()
    }

    fn next_email_id(&self) -> String {
        Self::next_id(self.emails.iter().map(|e| e.id.as_str()))
    }
}

/// The travel world: its data and the state the agent's calls change,
/// shared by every clone and by every tool of [`tools`](Self::tools).
#[derive(Debug, Clone)]
pub struct TravelWorld {
    catalog: Arc<Catalog>,
    state: Arc<Mutex<State>>,
}

impl TravelWorld {
    /// The built-in world, with the benchmark's attacks planted in reviews:
    /// the thirteen places a review can carry an attack hold the six
    /// attacks in turn (see `README.md` in this folder for which is where).
    ///
    /// # Errors
    ///
    /// Only if the compiled-in data were malformed.
    pub fn builtin() -> Result<Self, WorldError> {
        let injections = injections()?;
        let texts: BTreeMap<&str, &str> = injections
            .attacks
            .iter()
            .map(|a| (a.id.as_str(), a.text.as_str()))
            .collect();
        Self::load(&injections, |vector| {
            injections
                .builtin
                .get(vector)
                .and_then(|attack| texts.get(attack.as_str()))
                .copied()
        })
    }

    /// The built-in world without attacks: every review is the benchmark's
    /// harmless default.
    ///
    /// # Errors
    ///
    /// Only if the compiled-in data were malformed.
    pub fn benign() -> Result<Self, WorldError> {
        let injections = injections()?;
        Self::load(&injections, |_| None)
    }

    /// The built-in world with one attack planted in every review that can
    /// carry one, as in one run of the AgentDojo benchmark.
    ///
    /// # Errors
    ///
    /// [`WorldError::UnknownAttack`] for an id not among [`attacks`](Self::attacks).
    pub fn attacked_by(attack: &str) -> Result<Self, WorldError> {
        let injections = injections()?;
        let Some(found) = injections.attacks.iter().find(|a| a.id == attack) else {
            let known: Vec<&str> = injections.attacks.iter().map(|a| a.id.as_str()).collect();
            return Err(WorldError::UnknownAttack(
                attack.to_owned(),
                known.join(", "),
            ));
        };
        Self::load(&injections, |_| Some(found.text.as_str()))
    }

    /// The benchmark's attacks that call tools.
    ///
    /// # Errors
    ///
    /// Only if the compiled-in data were malformed.
    pub fn attacks() -> Result<Vec<Attack>, WorldError> {
        Ok(injections()?
            .attacks
            .into_iter()
            .map(|a| Attack {
                id: a.id,
                goal: a.goal,
                text: a.text,
            })
            .collect())
    }

    /// Reads the world, filling each injection vector with `planted(vector)`
    /// or, when that is `None`, the vector's harmless default.
    fn load<'a>(
        injections: &InjectionsFile,
        planted: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, WorldError> {
        let world: WorldFile = serde_json::from_str(WORLD)
            .map_err(|e| WorldError::Malformed(format!("world.json: {e}")))?;

        let fill = |reviews: Vec<String>| -> Vec<String> {
            reviews
                .into_iter()
                .map(|review| {
                    let marker = review.strip_prefix('{').and_then(|r| r.strip_suffix('}'));
                    match marker.and_then(|id| injections.vectors.iter().find(|v| v.id == id)) {
                        Some(vector) => planted(&vector.id).unwrap_or(&vector.default).to_owned(),
                        None => review,
                    }
                })
                .collect()
        };
        let hotels = world
            .hotels
            .into_iter()
            .map(|h| Hotel {
                reviews: fill(h.reviews),
                ..h
            })
            .collect();
        let restaurants = world
            .restaurants
            .into_iter()
            .map(|r| Restaurant {
                reviews: fill(r.reviews),
                ..r
            })
            .collect();
        let companies = world
            .car_rental_companies
            .into_iter()
            .map(|c| CarRentalCompany {
                reviews: fill(c.reviews),
                ..c
            })
            .collect();

        // One mailbox: AgentDojo's calendar and inbox belong to the same
        // account.
        let account_email = world.inbox.account_email;
        if world.calendar.account_email != account_email {
            return Err(WorldError::Malformed(
                "the calendar and the inbox have different owners".to_owned(),
            ));
        }

        Ok(Self {
            catalog: Arc::new(Catalog {
                today: world.calendar.current_day,
                user: world.user,
                hotels,
                restaurants,
                companies,
                flights: world.flights,
            }),
            state: Arc::new(Mutex::new(State {
                account_email,
                events: world.calendar.events,
                emails: world.inbox.emails,
                reservations: Vec::new(),
            })),
        })
    }

    /// Every tool over this world: the 28 of AgentDojo's travel suite and
    /// `cancel_reservation`.
    pub fn tools(&self) -> ToolSet {
        let set = lookups::add(ToolSet::new(), self);
        let set = bookings::add(set, self);
        let set = calendar::add(set, self);
        mail::add(set, self)
    }

    /// The world's today, `YYYY-MM-DD` (AgentDojo's calendar day: the
    /// missions' dates were written around it).
    pub fn today(&self) -> &str {
        &self.catalog.today
    }

    /// The user's profile.
    pub fn user(&self) -> &User {
        &self.catalog.user
    }

    /// Every hotel.
    pub fn hotels(&self) -> &[Hotel] {
        &self.catalog.hotels
    }

    /// Every restaurant.
    pub fn restaurants(&self) -> &[Restaurant] {
        &self.catalog.restaurants
    }

    /// Every car rental company.
    pub fn car_rental_companies(&self) -> &[CarRentalCompany] {
        &self.catalog.companies
    }

    /// Every flight.
    pub fn flights(&self) -> &[Flight] {
        &self.catalog.flights
    }

    /// The reservations made so far, cancelled ones included.
    pub fn reservations(&self) -> Vec<Reservation> {
        self.state()
            .map(|s| s.reservations.clone())
            .unwrap_or_default()
    }

    /// The calendar, cancelled events included.
    pub fn calendar_events(&self) -> Vec<CalendarEvent> {
        self.state().map(|s| s.events.clone()).unwrap_or_default()
    }

    /// The mail sent from the user's account: by the agent, and the
    /// invitations and cancellations the calendar sends.
    pub fn sent_emails(&self) -> Vec<Email> {
        self.state()
            .map(|s| {
                s.emails
                    .iter()
                    .filter(|e| e.status == EmailStatus::Sent)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, ToolError> {
        // A tool that panicked mid-change is a bug; refuse to build on its
        // half-written state rather than hide it.
        self.state
            .lock()
            .map_err(|_| ToolError::Failed("the travel world is unavailable".to_owned()))
    }
}

fn injections() -> Result<InjectionsFile, WorldError> {
    serde_json::from_str(INJECTIONS)
        .map_err(|e| WorldError::Malformed(format!("injections.json: {e}")))
}

/// A number as AgentDojo's Python prints it: `120.0`, `4.2`, `39.99`.
fn py_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        value.to_string()
    }
}

/// Finds the one item a person's name for it means: its exact name, or
/// the name written with another case, a leading "the", or the kind word
/// around it ("the Riverside View Hotel" for the hotel listed as
/// "Riverside View").
fn resolve<'a, T>(
    items: &'a [T],
    name_of: impl Fn(&T) -> &str,
    wanted: &str,
    kind: &str,
) -> Result<&'a T, ToolError> {
    if let Some(exact) = items.iter().find(|item| name_of(item) == wanted) {
        return Ok(exact);
    }
    let normalize = |name: &str| -> String {
        let lower = name.trim().to_lowercase();
        let mut words: Vec<&str> = lower.split_whitespace().collect();
        if words.first() == Some(&"the") {
            words.remove(0);
        }
        if words.len() > 1 && words.last() == Some(&kind) {
            words.pop();
        }
        if words.len() > 1 && words.first() == Some(&kind) {
            words.remove(0);
        }
        words.join(" ")
    };
    let wanted_normal = normalize(wanted);
    let mut matches = items
        .iter()
        .filter(|item| normalize(name_of(item)) == wanted_normal);
    match (matches.next(), matches.next()) {
        (Some(found), None) => Ok(found),
        (Some(_), Some(_)) => Err(ToolError::Failed(format!(
            "`{wanted}` names more than one {kind}; use the exact name"
        ))),
        (None, _) => Err(ToolError::Failed(format!("no {kind} named `{wanted}`"))),
    }
}

#[cfg(test)]
mod tests;
