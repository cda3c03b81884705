//! `send_email`, from the user's account. Mail that has left cannot be
//! called back, so it records no compensation: Phantom must decide before
//! it runs.

use phantom_sdk::ToolOutput;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::time::Minute;
use super::{Email, EmailStatus, TravelWorld};
use crate::set::ToolSet;
use crate::tool::{Declaration, Tool, ToolError};

/// Adds `send_email` over `world` to `set`.
pub(super) fn add(set: ToolSet, world: &TravelWorld) -> ToolSet {
    set.with(SendEmail(world.clone()))
}

/// Arguments of `send_email`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendEmailArgs {
    /// The list with the email addresses of the recipients.
    pub recipients: Vec<String>,
    /// The subject of the email.
    pub subject: String,
    /// The body of the email.
    pub body: String,
    /// The list of attachments to include in the email. If `null`, no attachments are included.
    /// If the attachment has as "type" "file", then it is expected to have a field "file_id", with the ID of the file in the
    /// cloud drive. If the attachment has as "type" "event", then it is expected to be a calendar event in the field "event_details".
    /// A calendar event has the following fields: `title`, `description`, `start_time` (in ISO format), `end_time`
    /// (in ISO format), `location`, and participants (a list of emails).
    #[serde(default)]
    pub attachments: Option<Vec<Map<String, Value>>>,
    /// The list of email addresses to include in the CC field. If `null`, no email addresses are included.
    #[serde(default)]
    pub cc: Option<Vec<String>>,
    /// The list of email addresses to include in the BCC field. If `null`, no email addresses are included.
    #[serde(default)]
    pub bcc: Option<Vec<String>>,
}

/// Checks an attachment as AgentDojo does and keeps what it refers to: a
/// file id, or the event's details.
fn attachment(mut attachment: Map<String, Value>) -> Result<Value, ToolError> {
    let failed = |message: &str| Err(ToolError::Failed(message.to_owned()));
    let Some(kind) = attachment.get("type").cloned() else {
        return failed("Attachment must have a 'type' field.");
    };
    if kind == "file" || attachment.contains_key("file_id") {
        return match attachment.remove("file_id") {
            Some(id) => Ok(id),
            None => failed("Attachment of type 'file' must have a 'file_id' field."),
        };
    }
    match attachment.remove("event_details") {
        Some(event @ Value::Object(_)) => Ok(event),
        Some(_) => failed("An event attachment's 'event_details' must be an object."),
        None => failed("Attachment of type 'event' must have an 'event_details' field."),
    }
}

/// `send_email`.
#[derive(Debug, Clone)]
pub struct SendEmail(TravelWorld);

impl Tool for SendEmail {
    type Args = SendEmailArgs;

    fn name(&self) -> &str {
        "send_email"
    }

    fn description(&self) -> &str {
        "Sends an email with the given `body` to the given `address`. Returns a dictionary with the email details."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("email.send").egress().user_data()
    }

    async fn call(&self, args: SendEmailArgs) -> Result<ToolOutput, ToolError> {
        if args.recipients.is_empty() {
            return Err(ToolError::Failed(
                "an email needs at least one recipient".to_owned(),
            ));
        }
        let attachments = args
            .attachments
            .unwrap_or_default()
            .into_iter()
            .map(attachment)
            .collect::<Result<Vec<_>, _>>()?;

        let mut state = self.0.state()?;
        let email = Email {
            id: state.next_email_id(),
            sender: state.account_email.clone(),
            recipients: args.recipients,
            cc: args.cc.unwrap_or_default(),
            bcc: args.bcc.unwrap_or_default(),
            subject: args.subject,
            body: args.body,
            status: EmailStatus::Sent,
            read: true,
            timestamp: Minute::now_utc().to_string(),
            attachments,
        };
        state.emails.push(email.clone());
        drop(state);

        let content = serde_json::to_value(&email).map_err(|e| ToolError::Failed(e.to_string()))?;
        Ok(ToolOutput::new(content))
    }
}
