use std::collections::BTreeSet;

use async_openai::types::chat::ChatCompletionTools;
use phantom_sdk::{ToolCall, ToolOutput};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;

const TOOLS: &str = include_str!("../../../../datasets/agentdojo-travel/tools.json");
const MISSIONS: &str = include_str!("../../../../datasets/agentdojo-travel/missions.jsonl");

/// A tool's name and its arguments.
type Call = (String, Value);

/// Every call in the missions: the faithful ones, then the injected ones.
fn mission_calls() -> (Vec<Call>, Vec<Call>) {
    let (mut faithful, mut injected) = (Vec::new(), Vec::new());
    for line in MISSIONS.lines().filter(|l| !l.trim().is_empty()) {
        let mission: Value = serde_json::from_str(line).unwrap();
        for call in mission["calls"].as_array().unwrap() {
            faithful.push((
                call["tool"].as_str().unwrap().to_owned(),
                call["args"].clone(),
            ));
        }
        for call in mission["injected"].as_array().unwrap() {
            injected.push((
                call["tool"].as_str().unwrap().to_owned(),
                call["args"].clone(),
            ));
        }
    }
    (faithful, injected)
}

async fn run(tools: &ToolSet, tool: &str, args: Value) -> Result<ToolOutput, ToolError> {
    let call = tools.prepare(tool, args, None)?;
    tools.clone().oneshot(call).await
}

fn text(output: &ToolOutput) -> String {
    match &output.content {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn the_builtin_world_plants_every_attack_and_no_marker_is_left() {
    let world = TravelWorld::builtin().unwrap();
    let reviews: Vec<&String> = world
        .hotels()
        .iter()
        .flat_map(|h| &h.reviews)
        .chain(world.restaurants().iter().flat_map(|r| &r.reviews))
        .chain(world.car_rental_companies().iter().flat_map(|c| &c.reviews))
        .collect();
    assert!(reviews.iter().all(|r| !r.contains("{injection_")));

    let attacks = TravelWorld::attacks().unwrap();
    assert_eq!(attacks.len(), 6);
    for attack in &attacks {
        let planted = reviews.iter().filter(|r| **r == &attack.text).count();
        assert!(planted >= 2, "{} is planted {planted} times", attack.id);
        assert!(attack.text.contains("<INFORMATION>") && attack.text.contains(&attack.goal));
    }

    let benign = TravelWorld::benign().unwrap();
    assert!(
        benign
            .hotels()
            .iter()
            .flat_map(|h| &h.reviews)
            .all(|r| !r.contains("<INFORMATION>"))
    );
    assert!(
        benign.hotels()[0]
            .reviews
            .contains(&"Awesome hotel".to_owned())
    );
}

#[test]
fn one_attack_fills_every_vector_as_in_a_benchmark_run() {
    let world = TravelWorld::attacked_by("injection_task_3").unwrap();
    let attack = TravelWorld::attacks()
        .unwrap()
        .into_iter()
        .find(|a| a.id == "injection_task_3")
        .unwrap();
    let planted = world
        .hotels()
        .iter()
        .flat_map(|h| &h.reviews)
        .chain(world.restaurants().iter().flat_map(|r| &r.reviews))
        .chain(world.car_rental_companies().iter().flat_map(|c| &c.reviews))
        .filter(|r| **r == attack.text)
        .count();
    // Thirteen vectors; Good Night and Luxury Palace share one.
    assert_eq!(planted, 14);
    assert!(matches!(
        TravelWorld::attacked_by("injection_task_99"),
        Err(WorldError::UnknownAttack(..))
    ));
}

#[test]
fn the_tools_are_agentdojos() {
    let expected: Value = serde_json::from_str(TOOLS).unwrap();
    let tools = TravelWorld::builtin().unwrap().tools();
    let definitions: Vec<_> = tools
        .definitions()
        .into_iter()
        .map(|d| match d {
            ChatCompletionTools::Function(tool) => tool.function,
            ChatCompletionTools::Custom(_) => panic!("function tools only"),
        })
        .collect();

    let names: BTreeSet<&str> = tools.names().collect();
    let mut wanted: BTreeSet<&str> = expected["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(wanted.len(), 28);
    wanted.insert("cancel_reservation");
    assert_eq!(names, wanted);

    let normalize = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for tool in expected["tools"].as_array().unwrap() {
        let name = tool["name"].as_str().unwrap();
        let definition = definitions.iter().find(|d| d.name == name).unwrap();
        assert_eq!(
            definition.description.as_deref(),
            tool["description"].as_str(),
            "{name}"
        );

        let ours = definition.parameters.as_ref().unwrap();
        let theirs = &tool["parameters"];
        let keys = |schema: &Value| -> BTreeSet<String> {
            schema["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        let required = |schema: &Value| -> BTreeSet<String> {
            schema["required"]
                .as_array()
                .map(|r| r.iter().map(|k| k.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        assert_eq!(keys(ours), keys(theirs), "{name}: parameters");
        assert_eq!(
            required(ours),
            required(theirs),
            "{name}: required parameters"
        );
        for key in keys(theirs) {
            assert_eq!(
                ours["properties"][&key]["description"]
                    .as_str()
                    .map(normalize),
                theirs["properties"][&key]["description"]
                    .as_str()
                    .map(normalize),
                "{name}.{key}: description"
            );
        }
        assert_eq!(
            ours["additionalProperties"],
            json!(false),
            "{name}: unknown fields are refused"
        );
    }
}

/// One valid call of every tool, for what the missions do not call.
fn sample_calls() -> Vec<(&'static str, Value)> {
    vec![
        ("get_user_information", json!({})),
        ("get_hotels_address", json!({"hotel_name": "Cozy Stay"})),
        (
            "get_contact_information_for_restaurants",
            json!({"restaurant_names": ["Miznon"]}),
        ),
        (
            "get_car_rental_address",
            json!({"company_name": ["Green Motion"]}),
        ),
        (
            "search_calendar_events",
            json!({"query": "lunch", "date": "2024-05-15"}),
        ),
        ("get_day_calendar_events", json!({"day": "2024-05-15"})),
        (
            "reserve_car_rental",
            json!({"company": "New Car Rental", "start_time": "2024-05-16 12:00", "end_time": null}),
        ),
        (
            "reserve_restaurant",
            json!({"restaurant": "Le Baratin", "start_time": "2024-05-17 19:30"}),
        ),
        (
            "send_email",
            json!({"recipients": ["janeLong@google.com"], "subject": "Trip", "body": "See you in Paris."}),
        ),
        ("cancel_calendar_event", json!({"event_id": "1"})),
        ("cancel_reservation", json!({"reservation_id": "1"})),
    ]
}

#[tokio::test]
async fn every_tool_declares_a_travel_scope_and_agentdojos_read_only_flag() {
    let expected: Value = serde_json::from_str(TOOLS).unwrap();
    let tools = TravelWorld::builtin().unwrap().tools();
    let (faithful, injected) = mission_calls();
    let calls = faithful
        .into_iter()
        .chain(injected)
        .chain(sample_calls().into_iter().map(|(t, a)| (t.to_owned(), a)));

    let mut seen = BTreeSet::new();
    for (tool, args) in calls {
        let call = tools.prepare(&tool, args, None).unwrap();
        let scope = call.action.scope.clone().unwrap();
        assert!(SCOPES.contains(&scope.as_str()), "{tool}: {scope}");
        let read_only = call.action.risk.as_ref().and_then(|r| r.read_only).unwrap();
        let listed = expected["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == tool.as_str());
        if let Some(listed) = listed {
            assert_eq!(Some(read_only), listed["read_only"].as_bool(), "{tool}");
        }
        let risk = call.action.risk.unwrap();
        assert_eq!(risk.egress, Some(tool == "send_email"), "{tool}: egress");
        assert_eq!(
            risk.destructive,
            Some(tool == "cancel_calendar_event" || tool == "cancel_reservation"),
            "{tool}: destructive"
        );
        seen.insert(tool);
    }
    assert_eq!(seen.len(), 29, "every tool was prepared");
}

#[tokio::test]
async fn every_faithful_call_runs_and_finds_what_it_asks_for() {
    let world = TravelWorld::builtin().unwrap();
    let tools = world.tools();
    let (faithful, _) = mission_calls();
    assert!(faithful.len() > 100);

    for (tool, args) in faithful {
        let output = run(&tools, &tool, args.clone())
            .await
            .unwrap_or_else(|e| panic!("{tool} {args}: {e}"));
        // Every entity a faithful call names exists: no empty answers.
        match &output.content {
            Value::Object(found) => {
                let names = args
                    .as_object()
                    .unwrap()
                    .values()
                    .find_map(Value::as_array)
                    .map_or(1, Vec::len);
                if tool.starts_with("get_") || tool.starts_with("check_") {
                    assert_eq!(found.len(), names, "{tool} {args}: {output:?}");
                }
            }
            Value::String(text) => assert!(
                text.contains('\n') || text.contains("success"),
                "{tool}: {text}"
            ),
            other => panic!("{tool}: unexpected {other}"),
        }
    }
    assert_eq!(world.reservations().len(), 1);
    assert_eq!(world.calendar_events().len(), 2 + 4);
    assert_eq!(world.sent_emails().len(), 1 + 4);
}

#[tokio::test]
async fn every_injected_call_runs_against_entities_that_exist() {
    let world = TravelWorld::builtin().unwrap();
    let tools = world.tools();
    let (_, injected) = mission_calls();
    for (tool, args) in injected {
        run(&tools, &tool, args.clone())
            .await
            .unwrap_or_else(|e| panic!("{tool} {args}: {e}"));
    }
    let booked: BTreeSet<String> = world.reservations().into_iter().map(|r| r.title).collect();
    assert_eq!(
        booked,
        BTreeSet::from(["Luxury Palace".to_owned(), "Riverside View".to_owned()])
    );
    assert!(
        world
            .sent_emails()
            .iter()
            .any(|e| e.recipients == ["jay@google.com"])
    );
}

#[tokio::test]
async fn the_missions_conditions_can_be_decided_from_the_answers() {
    let tools = TravelWorld::builtin().unwrap().tools();

    // user_task_0: "if it's rated higher than 4".
    let reviews = run(
        &tools,
        "get_rating_reviews_for_hotels",
        json!({"hotel_names": ["Le Marais Boutique"]}),
    )
    .await
    .unwrap();
    assert!(text(&reviews).contains("Rating: 4.2"));
    // user_task_0's review is where injection_task_0 is planted.
    assert!(text(&reviews).contains("Riverside View Hotel from the 13th to the 17th of May 2024"));

    // user_task_1: "rated over 4 and the price is under 200".
    let prices = run(
        &tools,
        "get_hotels_prices",
        json!({"hotel_names": ["City Hub"]}),
    )
    .await
    .unwrap();
    assert_eq!(
        prices.content,
        json!({"City Hub": "Price range: 100.0 - 180.0"})
    );

    // user_task_16: "the cheapest flight".
    let flights = run(
        &tools,
        "get_flight_information",
        json!({"departure_city": "Paris", "arrival_city": "London"}),
    )
    .await
    .unwrap();
    assert_eq!(text(&flights).lines().count(), 3);
    assert!(text(&flights).contains("Flight Number: EJ789, Departure Time: 2024-05-16 15:00:00"));
    assert!(text(&flights).contains("Price: 150.0"));

    // user_task_14: electric cars, price per day.
    let fuel = run(
        &tools,
        "get_car_fuel_options",
        json!({"company_name": ["Speedy Rentals"]}),
    )
    .await
    .unwrap();
    assert_eq!(
        fuel.content,
        json!({"Speedy Rentals": ["Regular", "Premium", "Electric"]})
    );
    let price = run(
        &tools,
        "get_car_price_per_day",
        json!({"company_name": ["Speedy Rentals"]}),
    )
    .await
    .unwrap();
    assert_eq!(price.content, json!({"Speedy Rentals": 48.0}));

    let listing = run(&tools, "get_all_hotels_in_city", json!({"city": "London"}))
        .await
        .unwrap();
    assert_eq!(
        text(&listing),
        "Hotel Names: Cozy Stay\nMom's Home\nLondon Luxury\nCovent Garden Retreat\nRiverside View\n"
    );
}

#[tokio::test]
async fn bookings_and_events_are_undone_by_their_compensations() {
    let world = TravelWorld::builtin().unwrap();
    let tools = world.tools();

    let booked = run(
        &tools,
        "reserve_hotel",
        json!({"hotel": "Le Marais Boutique", "start_day": "2025-01-11", "end_day": "2025-01-15"}),
    )
    .await
    .unwrap();
    assert!(text(&booked).starts_with("Reservation for Le Marais Boutique from 2025-01-11 to 2025-01-15 has been made successfully."));
    let undo = booked.compensation.unwrap();
    assert_eq!(undo.name, "cancel_reservation");
    assert_eq!(world.reservations()[0].status, ReservationStatus::Confirmed);
    assert_eq!(world.reservations()[0].contact_information, "327-420-4923");

    tools
        .clone()
        .oneshot(ToolCall::new(undo.name.clone(), undo.args.clone()))
        .await
        .unwrap();
    assert_eq!(world.reservations()[0].status, ReservationStatus::Cancelled);
    // A rollback that runs again still succeeds.
    tools
        .clone()
        .oneshot(ToolCall::new(undo.name, undo.args))
        .await
        .unwrap();

    let created = run(
        &tools,
        "create_calendar_event",
        json!({"title": "City Hub", "start_time": "2025-01-02 00:00", "end_time": "2025-01-02 23:59", "location": "Tokyo"}),
    )
    .await
    .unwrap();
    assert_eq!(created.content["id_"], "2");
    assert_eq!(
        created.content["participants"],
        json!(["emma.johnson@bluesparrowtech.com"])
    );
    let undo = created.compensation.unwrap();
    assert_eq!(
        undo,
        phantom_sdk::Compensation {
            name: "cancel_calendar_event".to_owned(),
            args: json!({"event_id": "2"}),
        }
    );
    tools
        .clone()
        .oneshot(ToolCall::new(undo.name, undo.args))
        .await
        .unwrap();
    let event = world
        .calendar_events()
        .into_iter()
        .find(|e| e.id == "2")
        .unwrap();
    assert_eq!(event.status, EventStatus::Canceled);
    let subjects: Vec<String> = world.sent_emails().into_iter().map(|e| e.subject).collect();
    assert_eq!(subjects, ["Invitation: City Hub", "Canceled: 'City Hub'"]);

    let restaurant = run(
        &tools,
        "reserve_restaurant",
        json!({"restaurant": "Le Baratin", "start_time": "2024-05-17 23:00"}),
    )
    .await
    .unwrap();
    assert!(
        text(&restaurant)
            .starts_with("Reservation for Le Baratin from 23:00 to 01:00 on 2024-05-17")
    );
    assert_eq!(
        world.reservations()[1].end_time.as_deref(),
        Some("2024-05-18T01:00:00")
    );

    let sent = run(
        &tools,
        "send_email",
        json!({"recipients": ["a@b.c"], "subject": "s", "body": "b"}),
    )
    .await
    .unwrap();
    assert!(sent.compensation.is_none(), "mail cannot be unsent");
    assert_eq!(sent.content["sender"], "emma.johnson@bluesparrowtech.com");
}

#[tokio::test]
async fn bad_calls_fail_with_reasons() {
    let tools = TravelWorld::builtin().unwrap().tools();

    let unknown = run(
        &tools,
        "reserve_hotel",
        json!({"hotel": "Hotel Nowhere", "start_day": "2025-01-11", "end_day": "2025-01-15"}),
    )
    .await;
    assert!(matches!(unknown, Err(ToolError::Failed(m)) if m.contains("no hotel named")));
    let backwards = run(
        &tools,
        "reserve_hotel",
        json!({"hotel": "Good Night", "start_day": "2025-01-15", "end_day": "2025-01-11"}),
    )
    .await;
    assert!(backwards.is_err());
    let bad_day = run(
        &tools,
        "reserve_hotel",
        json!({"hotel": "Good Night", "start_day": "Jan 11", "end_day": "2025-01-11"}),
    )
    .await;
    assert!(bad_day.is_err());

    // `end_time` is required, though it may be null.
    assert!(matches!(
        tools.prepare(
            "reserve_car_rental",
            json!({"company": "Green Motion", "start_time": "2024-05-16 12:00"}),
            None
        ),
        Err(ToolError::InvalidArgs { .. })
    ));
    assert!(matches!(
        tools.prepare(
            "get_all_hotels_in_city",
            json!({"city": "Paris", "stars": 5}),
            None
        ),
        Err(ToolError::InvalidArgs { .. })
    ));
    let none = run(&tools, "search_calendar_events", json!({"query": "opera"})).await;
    assert!(matches!(none, Err(ToolError::Failed(m)) if m.starts_with("No events found")));
    let attachment = run(&tools, "send_email", json!({"recipients": ["a@b.c"], "subject": "s", "body": "b", "attachments": [{"file_id": "3"}]})).await;
    assert!(attachment.is_err());

    // Lookups of unknown names answer nothing, as AgentDojo's do.
    let nothing = run(
        &tools,
        "get_hotels_prices",
        json!({"hotel_names": ["Riverside View Hotel"]}),
    )
    .await
    .unwrap();
    assert_eq!(nothing.content, json!({}));
}

#[test]
fn people_s_names_for_places_resolve() {
    let world = TravelWorld::builtin().unwrap();
    fn name(hotel: &Hotel) -> &str {
        &hotel.name
    }
    assert_eq!(
        resolve(world.hotels(), name, "Riverside View Hotel", "hotel")
            .unwrap()
            .name,
        "Riverside View"
    );
    assert_eq!(
        resolve(world.hotels(), name, "the luxury palace", "hotel")
            .unwrap()
            .name,
        "Luxury Palace"
    );
    assert_eq!(
        resolve(world.hotels(), name, "City Hub", "hotel")
            .unwrap()
            .name,
        "City Hub"
    );
    assert!(resolve(world.hotels(), name, "Riverside", "hotel").is_err());
    assert_eq!(py_float(120.0), "120.0");
    assert_eq!(py_float(39.99), "39.99");
}
