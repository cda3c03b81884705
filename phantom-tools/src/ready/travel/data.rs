//! The travel world's records, as `world.json` and `injections.json` hold
//! them and as the tools return them.

use serde::{Deserialize, Serialize};

/// The user the travel agent works for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// National ID number.
    #[serde(rename = "ID_number")]
    pub id_number: String,
    /// Email address; also the calendar's and the inbox's owner.
    pub email: String,
    /// Phone number, given as the contact of every reservation.
    pub phone_number: String,
    /// Postal address.
    pub address: String,
    /// Passport number.
    pub passport_number: String,
    /// Bank account number.
    pub bank_account_number: String,
    /// Credit card number.
    pub credit_card_number: String,
}

/// A hotel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hotel {
    /// Its name, the key every tool uses.
    pub name: String,
    /// The city it is in.
    pub city: String,
    /// Rating out of 5.
    pub rating: f64,
    /// Cheapest room per night.
    pub price_min: f64,
    /// Dearest room per night.
    pub price_max: f64,
    /// Street address.
    pub address: String,
    /// Reviews, written by anyone: where injected instructions hide.
    pub reviews: Vec<String>,
}

/// A restaurant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restaurant {
    /// Its name.
    pub name: String,
    /// The city it is in.
    pub city: String,
    /// Street address.
    pub address: String,
    /// The cuisine, e.g. `French`.
    pub cuisine_type: String,
    /// Price per person.
    pub price_per_person: f64,
    /// Opening hours and days, as prose.
    pub operating_hours: String,
    /// Rating out of 5.
    pub rating: f64,
    /// Reviews, written by anyone.
    pub reviews: Vec<String>,
    /// Dietary options, as prose.
    pub dietary_restrictions: String,
    /// Phone number.
    pub contact_information: String,
}

/// A car rental company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarRentalCompany {
    /// Its name.
    pub name: String,
    /// The city it is in.
    pub city: String,
    /// Street address.
    pub address: String,
    /// Rating out of 5.
    pub rating: f64,
    /// Price per day.
    pub price_per_day: f64,
    /// Reviews, written by anyone.
    pub reviews: Vec<String>,
    /// Phone and email.
    pub contact_information: String,
    /// Car types, e.g. `SUV`.
    pub car_types_available: Vec<String>,
    /// Fuel options, e.g. `Electric`.
    pub fuel_options: Vec<String>,
}

/// A flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flight {
    /// The airline.
    pub airline: String,
    /// The flight number.
    pub flight_number: String,
    /// Where it leaves from.
    pub departure_city: String,
    /// Where it lands.
    pub arrival_city: String,
    /// When it leaves, ISO 8601.
    pub departure_time: String,
    /// When it lands, ISO 8601.
    pub arrival_time: String,
    /// Price per person.
    pub price: f64,
    /// The airline's phone.
    pub contact_information: String,
}

/// Whether a calendar event still stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// It stands.
    Confirmed,
    /// It was cancelled.
    Canceled,
}

/// An event of the user's calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarEvent {
    /// Its id, a decimal number as text.
    #[serde(rename = "id_")]
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Start, ISO 8601.
    pub start_time: String,
    /// End, ISO 8601.
    pub end_time: String,
    /// Where, if set.
    pub location: Option<String>,
    /// Participants' email addresses; the owner's is always among them.
    pub participants: Vec<String>,
    /// Whether it lasts all day.
    pub all_day: bool,
    /// Whether it still stands.
    pub status: EventStatus,
}

/// Where an email is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// The user received it.
    Received,
    /// The user (or the agent for them) sent it.
    Sent,
    /// Not sent yet.
    Draft,
}

/// An email of the user's mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Email {
    /// Its id, a decimal number as text.
    #[serde(rename = "id_")]
    pub id: String,
    /// Who sent it.
    pub sender: String,
    /// To.
    pub recipients: Vec<String>,
    /// Cc.
    pub cc: Vec<String>,
    /// Bcc.
    pub bcc: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Received, sent or draft.
    pub status: EmailStatus,
    /// Whether the user has read it.
    pub read: bool,
    /// When, ISO 8601.
    pub timestamp: String,
    /// Attachments: files by id, or calendar events.
    #[serde(default)]
    pub attachments: Vec<serde_json::Value>,
}

/// What a reservation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationKind {
    /// A hotel stay.
    Hotel,
    /// A car rental.
    Car,
    /// A restaurant table.
    Restaurant,
}

/// Whether a reservation still stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// It stands.
    Confirmed,
    /// It was cancelled.
    Cancelled,
}

/// A reservation the agent made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    /// Its id, a decimal number as text.
    pub id: String,
    /// Hotel, car or restaurant.
    pub kind: ReservationKind,
    /// The place, by its listed name.
    pub title: String,
    /// Start (check-in, pick-up, table time), ISO 8601.
    pub start_time: String,
    /// End, ISO 8601, when known.
    pub end_time: Option<String>,
    /// The user's phone, left with the place.
    pub contact_information: String,
    /// Whether it still stands.
    pub status: ReservationStatus,
}

/// `world.json`: the places, and the user's profile, calendar and inbox,
/// with injection vectors still as `{injection_…}` markers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorldFile {
    #[expect(dead_code, reason = "provenance, read by people")]
    pub source: serde_json::Value,
    pub user: User,
    pub inbox: InboxFile,
    pub calendar: CalendarFile,
    pub hotels: Vec<Hotel>,
    pub restaurants: Vec<Restaurant>,
    pub car_rental_companies: Vec<CarRentalCompany>,
    pub flights: Vec<Flight>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InboxFile {
    pub account_email: String,
    pub emails: Vec<Email>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CalendarFile {
    pub account_email: String,
    pub current_day: String,
    pub events: Vec<CalendarEvent>,
}

/// `injections.json`: where attacks can be planted and what they say.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InjectionsFile {
    #[expect(dead_code, reason = "provenance, read by people")]
    pub source: serde_json::Value,
    #[expect(dead_code, reason = "how the attack texts were made, read by people")]
    pub attack: serde_json::Value,
    pub vectors: Vec<VectorFile>,
    pub attacks: Vec<AttackFile>,
    pub builtin: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VectorFile {
    pub id: String,
    #[expect(dead_code, reason = "read by people")]
    pub description: String,
    pub default: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttackFile {
    pub id: String,
    pub goal: String,
    pub text: String,
}
