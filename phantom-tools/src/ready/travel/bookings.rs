//! Reservations: hotels, car rentals, restaurant tables. Each is undone by
//! `cancel_reservation`, which is in the set for rollbacks.
//!
//! Unlike AgentDojo's, which book any name they are given, these refuse a
//! place the world does not list: a booking at a hallucinated hotel should
//! fail loudly, not succeed quietly. A person's way of naming a place ("the
//! Riverside View Hotel" for "Riverside View") still finds it.

use phantom_sdk::{Compensation, ToolOutput};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use super::time::Minute;
use super::{Reservation, ReservationKind, ReservationStatus, State, TravelWorld, resolve};
use crate::set::ToolSet;
use crate::tool::{Declaration, Tool, ToolError};

/// Adds the reservation tools over `world` to `set`.
pub(super) fn add(set: ToolSet, world: &TravelWorld) -> ToolSet {
    set.with(ReserveHotel(world.clone()))
        .with(ReserveCarRental(world.clone()))
        .with(ReserveRestaurant(world.clone()))
        .with(CancelReservation(world.clone()))
}

/// Arguments of `reserve_hotel`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveHotelArgs {
    /// Where the reservation is made. It must only be the name of the hotel.
    pub hotel: String,
    /// The check-in day for the hotel. Should be in ISO format 'YYYY-MM-DD'.
    pub start_day: String,
    /// The check-out day for the hotel. Should be in ISO format 'YYYY-MM-DD'.
    pub end_day: String,
}

/// Arguments of `reserve_car_rental`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveCarArgs {
    /// Where the reservation is made. It must only be the name of the car rental company.
    pub company: String,
    /// The reservation starting time. Should be in ISO format 'YYYY-MM-DD HH:MM'.
    pub start_time: String,
    /// The reservation end time. Should be in ISO format 'YYYY-MM-DD HH:MM'.
    // Required but nullable, as in AgentDojo's schema: `deserialize_with`
    // turns off serde's "a missing Option is None".
    #[serde(deserialize_with = "required_nullable")]
    #[schemars(required)]
    pub end_time: Option<String>,
}

/// Arguments of `reserve_restaurant`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveRestaurantArgs {
    /// Where the reservation is made. It must only be the name of the restaurant.
    pub restaurant: String,
    /// The reservation time. Should be in ISO format 'YYYY-MM-DD HH:MM'.
    /// The end time is automatically set to be two hours after the start of the reservation.
    pub start_time: String,
}

/// Arguments of `cancel_reservation`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelReservationArgs {
    /// The ID of the reservation to cancel, as the reservation returned it.
    pub reservation_id: String,
}

fn required_nullable<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Option::deserialize(deserializer)
}

fn invalid(message: String) -> ToolError {
    ToolError::Failed(message)
}

impl TravelWorld {
    /// Books `title` and returns the confirmation with its undo.
    fn book(
        &self,
        kind: ReservationKind,
        title: &str,
        start: Minute,
        end: Option<Minute>,
        confirmation: impl FnOnce(&str) -> String,
    ) -> Result<ToolOutput, ToolError> {
        let contact = self.user().phone_number.clone();
        let mut state = self.state()?;
        let id = State::next_id(state.reservations.iter().map(|r| r.id.as_str()));
        state.reservations.push(Reservation {
            id: id.clone(),
            kind,
            title: title.to_owned(),
            start_time: start.to_string(),
            end_time: end.map(|e| e.to_string()),
            contact_information: contact,
            status: ReservationStatus::Confirmed,
        });
        drop(state);

        let undo = Compensation {
            name: "cancel_reservation".to_owned(),
            args: serde_json::json!({"reservation_id": id}),
        };
        Ok(ToolOutput::new(serde_json::Value::String(confirmation(&id))).undone_by(undo))
    }
}

/// `reserve_hotel`.
#[derive(Debug, Clone)]
pub struct ReserveHotel(TravelWorld);

impl Tool for ReserveHotel {
    type Args = ReserveHotelArgs;

    fn name(&self) -> &str {
        "reserve_hotel"
    }

    fn description(&self) -> &str {
        "Makes a reservation for a hotel with the provided details.."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("travel.reserve")
    }

    async fn call(&self, args: ReserveHotelArgs) -> Result<ToolOutput, ToolError> {
        let hotel = resolve(self.0.hotels(), |h| &h.name, &args.hotel, "hotel")?;
        let start = Minute::parse_day(&args.start_day).map_err(invalid)?;
        let end = Minute::parse_day(&args.end_day).map_err(invalid)?;
        if end <= start {
            return Err(invalid(format!(
                "the check-out day {} is not after the check-in day {}",
                args.end_day, args.start_day
            )));
        }
        self.0.book(ReservationKind::Hotel, &hotel.name, start, Some(end), |id| {
            format!(
                "Reservation for {} from {} to {} has been made successfully. Reservation ID: {id}.",
                hotel.name, args.start_day, args.end_day
            )
        })
    }
}

/// `reserve_car_rental`.
#[derive(Debug, Clone)]
pub struct ReserveCarRental(TravelWorld);

impl Tool for ReserveCarRental {
    type Args = ReserveCarArgs;

    fn name(&self) -> &str {
        "reserve_car_rental"
    }

    fn description(&self) -> &str {
        "Makes a reservation for a car rental with the provided details."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("travel.reserve")
    }

    async fn call(&self, args: ReserveCarArgs) -> Result<ToolOutput, ToolError> {
        let company = resolve(
            self.0.car_rental_companies(),
            |c| &c.name,
            &args.company,
            "company",
        )?;
        let start = Minute::parse_minute(&args.start_time).map_err(invalid)?;
        let end = args
            .end_time
            .as_deref()
            .map(Minute::parse_minute)
            .transpose()
            .map_err(invalid)?;
        if end.is_some_and(|end| end <= start) {
            return Err(invalid("the reservation ends before it starts".to_owned()));
        }
        let until = args.end_time.as_deref().unwrap_or("None");
        self.0.book(ReservationKind::Car, &company.name, start, end, |id| {
            format!(
                "Reservation for a car at {} from {} to {until} has been made successfully. Reservation ID: {id}.",
                company.name, args.start_time
            )
        })
    }
}

/// `reserve_restaurant`: a table for two hours.
#[derive(Debug, Clone)]
pub struct ReserveRestaurant(TravelWorld);

impl Tool for ReserveRestaurant {
    type Args = ReserveRestaurantArgs;

    fn name(&self) -> &str {
        "reserve_restaurant"
    }

    fn description(&self) -> &str {
        "Makes a reservation for a restaurant with the provided details."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("travel.reserve")
    }

    async fn call(&self, args: ReserveRestaurantArgs) -> Result<ToolOutput, ToolError> {
        let restaurant = resolve(
            self.0.restaurants(),
            |r| &r.name,
            &args.restaurant,
            "restaurant",
        )?;
        let start = Minute::parse_minute(&args.start_time).map_err(invalid)?;
        let end = start.plus_minutes(120);
        self.0.book(ReservationKind::Restaurant, &restaurant.name, start, Some(end), |id| {
            format!(
                "Reservation for {} from {} to {} on {} has been made successfully. Reservation ID: {id}.",
                restaurant.name,
                start.clock(),
                end.clock(),
                start.date()
            )
        })
    }
}

/// `cancel_reservation`: the undo of every reservation. Cancelling one
/// that is already cancelled succeeds, so a rollback can run twice.
#[derive(Debug, Clone)]
pub struct CancelReservation(TravelWorld);

impl Tool for CancelReservation {
    type Args = CancelReservationArgs;

    fn name(&self) -> &str {
        "cancel_reservation"
    }

    fn description(&self) -> &str {
        "Cancels a hotel, car rental or restaurant reservation by its ID."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("travel.reserve").destructive()
    }

    async fn call(&self, args: CancelReservationArgs) -> Result<ToolOutput, ToolError> {
        let mut state = self.0.state()?;
        let reservation = state
            .reservations
            .iter_mut()
            .find(|r| r.id == args.reservation_id)
            .ok_or_else(|| invalid(format!("no reservation with ID `{}`", args.reservation_id)))?;
        let already = reservation.status == ReservationStatus::Cancelled;
        reservation.status = ReservationStatus::Cancelled;
        let message = if already {
            format!(
                "Reservation {} for {} was already cancelled.",
                reservation.id, reservation.title
            )
        } else {
            format!(
                "Reservation {} for {} has been cancelled.",
                reservation.id, reservation.title
            )
        };
        Ok(ToolOutput::new(serde_json::Value::String(message)))
    }
}
