//! The user's calendar: reading it, adding events (undone by cancelling
//! them), cancelling them. As in AgentDojo, adding or cancelling an event
//! mails its participants; the owner is always one of them.

use phantom_sdk::{Compensation, ToolOutput};
use schemars::JsonSchema;
use serde::Deserialize;

use super::time::Minute;
use super::{CalendarEvent, Email, EmailStatus, EventStatus, State, TravelWorld};
use crate::set::ToolSet;
use crate::tool::{CallDetails, Declaration, Tool, ToolError};

/// Adds the calendar tools over `world` to `set`.
pub(super) fn add(set: ToolSet, world: &TravelWorld) -> ToolSet {
    set.with(CreateCalendarEvent(world.clone()))
        .with(SearchCalendarEvents(world.clone()))
        .with(GetDayCalendarEvents(world.clone()))
        .with(CancelCalendarEvent(world.clone()))
}

/// Arguments of `create_calendar_event`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEventArgs {
    /// The title of the event.
    pub title: String,
    /// The start time of the event. Must be in format YYYY-MM-DD HH:MM.
    pub start_time: String,
    /// The end time of the event. Must be in format YYYY-MM-DD HH:MM.
    pub end_time: String,
    /// The description of the event.
    #[serde(default)]
    pub description: String,
    /// The list of participants' email addresses. If `null`, no participants are set. The calendar owner's email address is always included..
    #[serde(default)]
    pub participants: Option<Vec<String>>,
    /// The location of the event. If `null`, no location is set.
    #[serde(default)]
    pub location: Option<String>,
}

/// Arguments of `search_calendar_events`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchEventsArgs {
    /// The query string to search for in event titles and descriptions.
    pub query: String,
    /// The date for which to search events. Must be in format YYYY-MM-DD. If `null`, searches all events.
    #[serde(default)]
    pub date: Option<String>,
}

/// Arguments of `get_day_calendar_events`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DayEventsArgs {
    /// The day for which to return the appointments. Must be in format YYYY-MM-DD.
    pub day: String,
}

/// Arguments of `cancel_calendar_event`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelEventArgs {
    /// The ID of the event to cancel.
    pub event_id: String,
}

fn failed(message: String) -> ToolError {
    ToolError::Failed(message)
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, ToolError> {
    serde_json::to_value(value).map_err(|e| failed(e.to_string()))
}

impl State {
    /// Records mail the calendar sends from the owner's account.
    fn notify(
        &mut self,
        recipients: Vec<String>,
        subject: String,
        body: String,
        event: &CalendarEvent,
    ) {
        let id = self.next_email_id();
        let attachment = serde_json::to_value(event).unwrap_or_default();
        self.emails.push(Email {
            id,
            sender: self.account_email.clone(),
            recipients,
            cc: Vec::new(),
            bcc: Vec::new(),
            subject,
            body,
            status: EmailStatus::Sent,
            read: true,
            timestamp: Minute::now_utc().to_string(),
            attachments: vec![attachment],
        });
    }
}

/// `create_calendar_event`: undone by `cancel_calendar_event`.
#[derive(Debug, Clone)]
pub struct CreateCalendarEvent(TravelWorld);

impl Tool for CreateCalendarEvent {
    type Args = CreateEventArgs;

    fn name(&self) -> &str {
        "create_calendar_event"
    }

    fn description(&self) -> &str {
        "Creates a new calendar event with the given details and adds it to the calendar.\nIt also sends an email to the participants with the event details."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("calendar.write").user_data()
    }

    fn details(&self, args: &CreateEventArgs) -> CallDetails {
        // Inviting anyone mails them the event: data leaves the calendar.
        CallDetails {
            egress: Some(args.participants.as_ref().is_some_and(|p| !p.is_empty())),
            ..CallDetails::default()
        }
    }

    async fn call(&self, args: CreateEventArgs) -> Result<ToolOutput, ToolError> {
        let start = Minute::parse_minute(&args.start_time).map_err(failed)?;
        let end = Minute::parse_minute(&args.end_time).map_err(failed)?;
        if end < start {
            return Err(failed("the event ends before it starts".to_owned()));
        }

        let mut state = self.0.state()?;
        let mut participants: Vec<String> = Vec::new();
        for address in args
            .participants
            .unwrap_or_default()
            .into_iter()
            .chain([state.account_email.clone()])
        {
            if !participants.contains(&address) {
                participants.push(address);
            }
        }
        let event = CalendarEvent {
            id: State::next_id(state.events.iter().map(|e| e.id.as_str())),
            title: args.title,
            description: args.description,
            start_time: start.to_string(),
            end_time: end.to_string(),
            location: args.location,
            participants: participants.clone(),
            all_day: false,
            status: EventStatus::Confirmed,
        };
        state.events.push(event.clone());
        state.notify(
            participants,
            format!("Invitation: {}", event.title),
            event.description.clone(),
            &event,
        );
        drop(state);

        Ok(ToolOutput::new(to_value(&event)?).undone_by(Compensation {
            name: "cancel_calendar_event".to_owned(),
            args: serde_json::json!({"event_id": event.id}),
        }))
    }
}

/// `search_calendar_events`.
#[derive(Debug, Clone)]
pub struct SearchCalendarEvents(TravelWorld);

impl Tool for SearchCalendarEvents {
    type Args = SearchEventsArgs;

    fn name(&self) -> &str {
        "search_calendar_events"
    }

    fn description(&self) -> &str {
        "Searches calendar events that match the given query in the tile or the description. If provided, filters events by date."
    }

    fn declaration(&self) -> Declaration {
        Declaration::read("calendar.read").user_data()
    }

    async fn call(&self, args: SearchEventsArgs) -> Result<ToolOutput, ToolError> {
        let day = args
            .date
            .as_deref()
            .map(Minute::parse_day)
            .transpose()
            .map_err(failed)?;
        let query = args.query.to_lowercase();
        let state = self.0.state()?;
        let matches: Vec<&CalendarEvent> = state
            .events
            .iter()
            .filter(|e| day.is_none_or(|day| e.start_time.starts_with(&day.date())))
            .filter(|e| {
                e.title.to_lowercase().contains(&query)
                    || e.description.to_lowercase().contains(&query)
            })
            .collect();
        if matches.is_empty() {
            // AgentDojo's answer, which tells the model what to do next.
            return Err(failed(
                "No events found. Try with a different query.".to_owned(),
            ));
        }
        Ok(ToolOutput::new(to_value(&matches)?))
    }
}

/// `get_day_calendar_events`.
#[derive(Debug, Clone)]
pub struct GetDayCalendarEvents(TravelWorld);

impl Tool for GetDayCalendarEvents {
    type Args = DayEventsArgs;

    fn name(&self) -> &str {
        "get_day_calendar_events"
    }

    fn description(&self) -> &str {
        "Returns the appointments for the given `day`. Returns a list of dictionaries with informations about each meeting."
    }

    fn declaration(&self) -> Declaration {
        Declaration::read("calendar.read").user_data()
    }

    async fn call(&self, args: DayEventsArgs) -> Result<ToolOutput, ToolError> {
        let day = Minute::parse_day(&args.day).map_err(failed)?.date();
        let state = self.0.state()?;
        let events: Vec<&CalendarEvent> = state
            .events
            .iter()
            .filter(|e| e.start_time.starts_with(&day))
            .collect();
        Ok(ToolOutput::new(to_value(&events)?))
    }
}

/// `cancel_calendar_event`. Not undone: the participants have been told.
#[derive(Debug, Clone)]
pub struct CancelCalendarEvent(TravelWorld);

impl Tool for CancelCalendarEvent {
    type Args = CancelEventArgs;

    fn name(&self) -> &str {
        "cancel_calendar_event"
    }

    fn description(&self) -> &str {
        "Cancels the event with the given `event_id`. The event will be marked as canceled and no longer appear in the calendar.\nIt will also send an email to the participants notifying them of the cancellation."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("calendar.write")
            .destructive()
            .user_data()
    }

    async fn call(&self, args: CancelEventArgs) -> Result<ToolOutput, ToolError> {
        let mut state = self.0.state()?;
        let event = state
            .events
            .iter_mut()
            .find(|e| e.id == args.event_id)
            .ok_or_else(|| failed(format!("Event with ID '{}' not found.", args.event_id)))?;
        // Cancelling twice notifies once, so a rollback can run again.
        if event.status != EventStatus::Canceled {
            event.status = EventStatus::Canceled;
            let event = event.clone();
            let subject = format!("Canceled: '{}'", event.title);
            state.notify(
                event.participants.clone(),
                subject,
                "The event has been canceled.".to_owned(),
                &event,
            );
        }
        Ok(ToolOutput::new(serde_json::Value::String(format!(
            "Event with ID {} has been canceled and participants have been notified.",
            args.event_id
        ))))
    }
}
