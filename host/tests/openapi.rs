//! The OpenAPI document (`host/openapi.json`, served at `/openapi.json`) describes exactly the
//! routes the service serves — a route added without its description fails here — and the
//! service's real answers fit the schemas it declares for them.

use std::collections::BTreeSet;

use crate::common::{Server, Setup};
use serde_json::{Value, json};
use shared_folder_host::service::{openapi, route_table};
use shared_folder_test_support::{Options, StandIn};

/// The methods an OpenAPI path item may describe, as its keys spell them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(openapi::DOCUMENT).expect("openapi.json is JSON")
}

/// `(METHOD, path)` of every operation the document describes.
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

/// A concrete path for a path template: each `{parameter}` filled in.
fn concrete(template: &str) -> String {
    template
        .replace("{room}", "room-1")
        .replace("{participant}", "alice")
}

#[test]
fn the_document_is_openapi_3_and_describes_every_route_and_no_other() {
    let document = document();
    let version = document["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert!(document["info"]["title"].is_string());
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "description": "One of `[host].api_tokens`."})
    );

    let served: BTreeSet<(String, String)> = route_table()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path.to_owned()))
        .collect();
    let described = documented(&document);
    let undocumented: Vec<_> = served.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not in openapi.json: {undocumented:?}; in openapi.json but not served: {unserved:?}"
    );

    // Every path parameter a template names is declared, and every `$ref` resolves.
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let mut declared: Vec<Value> = Vec::new();
            for list in [&item["parameters"], &operation["parameters"]] {
                declared.extend(list.as_array().into_iter().flatten().cloned());
            }
            let names: BTreeSet<String> = declared
                .iter()
                .map(|p| resolve(&document, p))
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            let in_template: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_owned)
                .collect();
            assert_eq!(names, in_template, "{method} {path}");
            assert!(
                operation["responses"]
                    .as_object()
                    .is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
        }
    }
    check_refs(&document, &document);
}

/// `value`, or what its `$ref` (within the document) points at.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("$ref {reference} points at nothing"))
        }
        None => value,
    }
}

fn check_refs(document: &Value, value: &Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("$ref") {
                resolve(document, value);
            }
            map.values().for_each(|v| check_refs(document, v));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(document, v)),
        _ => {}
    }
}

/// Checks that `body` fits the schema the document declares for `method path` answering
/// `status` with JSON.
fn assert_fits(document: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let problems = misfits(document, method, path, status, body);
    assert!(
        problems.is_empty(),
        "{method} {path} {status}: {body} does not fit: {problems:?}"
    );
}

/// What does not fit in `body`, as [`assert_fits`] checks it.
fn misfits(document: &Value, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    let operation = &document["paths"][path][method.to_lowercase()];
    let response = resolve(document, &operation["responses"][status.to_string()]);
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which the document does not declare"
    );
    let declared = &response["content"]["application/json"]["schema"];
    assert!(
        declared.is_object(),
        "{method} {path} {status}: no JSON schema declared"
    );
    // The document itself is the root schema, so that its `$ref`s resolve, and the root's
    // `$ref` is the declared schema: its own `$ref`, or a JSON pointer to it (`/` as `~1`, the
    // braces percent-encoded as a URI needs).
    let reference = match declared["$ref"].as_str() {
        Some(reference) => reference.to_owned(),
        None => format!(
            "#/paths/{}/{}/responses/{status}/content/application~1json/schema",
            path.replace('~', "~0")
                .replace('/', "~1")
                .replace('{', "%7B")
                .replace('}', "%7D"),
            method.to_lowercase()
        ),
    };
    let mut root = document.clone();
    root["$ref"] = Value::String(reference);
    let validator = jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("{method} {path} {status}: schema: {e}"));
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn answers_that_do_not_fit_are_told_apart() {
    let document = document();
    let folder = "/v1/events/{room}/shared_folder";
    let link = json!({"url": "https://cloud.example.com/s/abc", "password": "pw"});
    let fits = |method, path, status, body: Value| {
        misfits(&document, method, path, status, &body).is_empty()
    };
    assert!(fits(
        "PUT",
        folder,
        201,
        json!({"read": link, "read_write": link})
    ));
    assert!(!fits("PUT", folder, 201, json!({"read_write": link})));
    assert!(!fits("GET", folder, 200, json!({"read": {"url": "u"}})));
    assert!(fits(
        "GET",
        folder,
        404,
        json!({"code": "not_found", "message": "none"})
    ));
    assert!(!fits("GET", folder, 404, json!({"code": "not_found"})));
    assert!(!fits("GET", "/ready", 200, json!({"status": "ok"})));
    // A schema given inline rather than by `$ref`.
    assert!(fits("GET", "/openapi.json", 200, json!({})));
    assert!(!fits("GET", "/openapi.json", 200, json!([])));
}

/// A call whose answer is checked against the document.
struct Exchange {
    /// With the controller's bearer token.
    token: bool,
    method: &'static str,
    /// The route's template, as the document names it.
    route: &'static str,
    path: String,
    body: Option<Value>,
    /// The status expected.
    status: u16,
}

impl Exchange {
    fn public(method: &'static str, route: &'static str, path: &str, status: u16) -> Self {
        Exchange {
            token: false,
            method,
            route,
            path: path.to_owned(),
            body: None,
            status,
        }
    }

    fn controller(method: &'static str, route: &'static str, path: &str, status: u16) -> Self {
        Exchange {
            token: true,
            ..Self::public(method, route, path, status)
        }
    }

    fn with(self, body: Value) -> Self {
        Exchange {
            body: Some(body),
            ..self
        }
    }
}

async fn call(
    server: &Server,
    token: bool,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let reply = if token {
        server.call(method, path, body).await
    } else {
        server.call_as(None, method, path, body).await
    };
    let json = if reply.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
    };
    (reply.status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_the_document_and_answers_as_it_says() {
    let standin = StandIn::start(Options::default()).await.unwrap();
    let setup = Setup::new(&standin, "");
    let server = setup.serve();
    let document = document();

    // Served as checked in.
    let (status, served) = call(&server, false, "GET", "/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(served, document);

    // Every documented method of every documented path is routed (not 405, not the fallback's
    // 404); every other method is 405. (`HEAD` goes with `GET`, as axum serves it.)
    let described = documented(&document);
    let paths: BTreeSet<&String> = described.iter().map(|(_, path)| path).collect();
    for path in paths {
        for method in ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"] {
            let (status, body) = call(&server, false, method, &concrete(path), None).await;
            if described.contains(&(method.to_owned(), path.clone())) {
                let fallback = status == 404 && body["message"] == "no such route";
                assert!(
                    status != 405 && !fallback,
                    "{method} {path}: {status} {body}"
                );
            } else {
                assert_eq!(status, 405, "{method} {path}: {body}");
            }
        }
    }

    // Real answers fit the declared schemas.
    let folder = "/v1/events/{room}/shared_folder";
    let tickets = "/v1/events/{room}/tickets";
    let moderator = format!("{}?role=moderator", concrete(folder));
    let ticket = json!({"participant": "alice", "role": "participant"});
    let bad_role = json!({"participant": "alice", "role": "owner"});
    let exchanges = [
        Exchange::public("GET", "/health", "/health", 200),
        Exchange::public("GET", "/ready", "/ready", 200),
        Exchange::public("PUT", folder, &concrete(folder), 401),
        Exchange::controller("GET", folder, &concrete(folder), 404),
        Exchange::controller("PUT", folder, &concrete(folder), 201),
        Exchange::controller("PUT", folder, &concrete(folder), 200),
        Exchange::controller("GET", folder, &moderator, 200),
        Exchange::controller("GET", folder, &concrete(folder), 200),
        Exchange::controller("PUT", folder, "/v1/events/..%2Fescape/shared_folder", 400),
        Exchange::controller("POST", tickets, &concrete(tickets), 201).with(ticket),
        Exchange::controller("POST", tickets, &concrete(tickets), 422).with(bad_role),
    ];
    for exchange in exchanges {
        let Exchange {
            token,
            method,
            route,
            path,
            body,
            status: expected,
        } = exchange;
        let (status, answer) = call(&server, token, method, &path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        assert_fits(&document, method, route, status, &answer);
    }
    let (status, _) = call(&server, true, "DELETE", &concrete(folder), None).await;
    assert_eq!(status, 204);
}
