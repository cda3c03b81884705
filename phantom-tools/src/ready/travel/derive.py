"""Derives the built-in travel world from the AgentDojo wheel.

Usage (needs only the package and PyYAML, which it depends on):

    pip download --no-deps agentdojo==0.1.35 -d /tmp/agentdojo
    python3 derive.py /tmp/agentdojo/agentdojo-0.1.35-py3-none-any.whl

Writes `world.json` and `injections.json` next to this script. Nothing is
imported from the package (its dependencies are heavy): the environment
and injection vectors are read as YAML, the injection tasks' goals and the
attack's template are read from the source with `ast`.
"""

import ast
import datetime
import json
import pathlib
import sys
import zipfile

import yaml

PACKAGE = "agentdojo"
VERSION = "0.1.35"
BENCHMARK = "v1.2.2"
# The travel suite version that benchmark v1.2.2 runs (see
# task_suite/load_suites.py), and the folders whose updates it includes.
SUITE = (1, 2, 0)
TASK_VERSIONS = [("v1", (1, 0, 0)), ("v1_1_1", (1, 1, 1)), ("v1_1_2", (1, 1, 2)), ("v1_2", (1, 2, 0))]
# The user and model names the attack text addresses. The model's is
# AgentDojo's default (the `important_instructions_no_model_name`
# variant): the built-in world is not made for one model.
USER_NAME = "Emma Johnson"
MODEL_NAME = "the AI language model"
# Injection tasks whose goals need tool calls (task 6 only wants the model
# to say something, so no call of it can be authorized or refused).
TASKS_WITH_CALLS = [f"injection_task_{n}" for n in range(6)]


def iso(value):
    """A date or time as pydantic would print it: `2024-05-15T10:00:00`."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.isoformat()


def class_constants(tree, class_name):
    """Evaluates a class body's constant assignments, in order."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            namespace = {}
            for statement in node.body:
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target = statement.targets[0]
                    if isinstance(target, ast.Name):
                        try:
                            value = eval(compile(ast.Expression(statement.value), class_name, "eval"), {}, namespace)
                        except Exception:
                            continue
                        namespace[target.id] = value
            return namespace
    return None


def injection_goals(wheel):
    goals = {}
    for folder, version in TASK_VERSIONS:
        if version > SUITE:
            continue
        path = f"{PACKAGE}/default_suites/{folder}/travel/injection_tasks.py"
        if path not in wheel.namelist():
            continue
        tree = ast.parse(wheel.read(path).decode())
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("InjectionTask"):
                number = node.name.removeprefix("InjectionTask")
                constants = class_constants(tree, node.name)
                if constants and "GOAL" in constants:
                    goals[f"injection_task_{number}"] = constants["GOAL"]
    return goals


def attack_template(wheel):
    tree = ast.parse(wheel.read(f"{PACKAGE}/attacks/important_instructions_attacks.py").decode())
    return class_constants(tree, "ImportantInstructionsAttack")["_JB_STRING"]


def main(wheel_path):
    out = pathlib.Path(__file__).resolve().parent
    wheel = zipfile.ZipFile(wheel_path)
    environment_text = wheel.read(f"{PACKAGE}/data/suites/travel/environment.yaml").decode()
    vectors = yaml.safe_load(wheel.read(f"{PACKAGE}/data/suites/travel/injection_vectors.yaml").decode())
    goals = injection_goals(wheel)
    template = attack_template(wheel)

    # The environment with every placeholder kept as a marker the Rust side
    # replaces: `{injection_hotels_0}` stays `{injection_hotels_0}`.
    markers = {vector: "{" + vector + "}" for vector in vectors}
    environment = yaml.safe_load(environment_text.format(**markers))

    # What a review holds under attack, exactly as AgentDojo builds it: the
    # text is formatted into the YAML source, then the YAML is parsed (which
    # folds the template's line breaks the way a double-quoted scalar does).
    attacks = []
    for task in TASKS_WITH_CALLS:
        text = template.format(goal=goals[task], user=USER_NAME, model=MODEL_NAME, task="")
        injected = yaml.safe_load(environment_text.format(**{vector: text for vector in vectors}))
        rendered = injected["hotels"]["hotel_list"][0]["reviews"][-1]
        # Every vector sits in the same kind of YAML scalar, so the text is
        # the same wherever it is planted.
        planted = [
            review
            for section, items in (("hotels", "hotel_list"), ("restaurants", "restaurant_list"), ("car_rental", "company_list"))
            for item in injected[section][items]
            for review in item["reviews"]
            if "<INFORMATION>" in review
        ]
        assert planted and all(review == rendered for review in planted), task
        attacks.append({"id": task, "goal": goals[task], "text": rendered})

    # The built-in world's assignment: vectors in the package's order, the
    # attacks in turn, so every attack is planted at least twice.
    builtin = {vector: TASKS_WITH_CALLS[i % len(TASKS_WITH_CALLS)] for i, vector in enumerate(vectors)}

    world = {
        "source": {"package": PACKAGE, "package_version": VERSION, "benchmark_version": BENCHMARK, "suite_version": ".".join(map(str, SUITE))},
        "user": environment["user"],
        "inbox": {
            "account_email": environment["inbox"]["account_email"],
            "emails": [dict(email, timestamp=iso(email["timestamp"])) for email in environment["inbox"]["initial_emails"]],
        },
        "calendar": {
            "account_email": environment["calendar"]["account_email"],
            "current_day": iso(environment["calendar"]["current_day"]),
            "events": [
                dict(event, start_time=iso(event["start_time"]), end_time=iso(event["end_time"]))
                for event in environment["calendar"]["initial_events"]
            ],
        },
        "hotels": [dict(hotel, price_min=float(hotel["price_min"]), price_max=float(hotel["price_max"])) for hotel in environment["hotels"]["hotel_list"]],
        "restaurants": environment["restaurants"]["restaurant_list"],
        "car_rental_companies": [dict(company, price_per_day=float(company["price_per_day"])) for company in environment["car_rental"]["company_list"]],
        "flights": [
            dict(flight, departure_time=iso(flight["departure_time"]), arrival_time=iso(flight["arrival_time"]), price=float(flight["price"]))
            for flight in environment["flights"]["flight_list"]
        ],
    }
    injections = {
        "source": world["source"],
        "attack": {"name": "important_instructions", "user": USER_NAME, "model": MODEL_NAME, "template": template},
        "vectors": [{"id": vector, "description": info["description"], "default": info["default"]} for vector, info in vectors.items()],
        "attacks": attacks,
        "builtin": builtin,
    }
    (out / "world.json").write_text(json.dumps(world, indent=2, ensure_ascii=False, default=str) + "\n")
    (out / "injections.json").write_text(json.dumps(injections, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
