//! `GET /`: which organisation this node is and what it holds.

use axum::extract::State;
use axum::response::Html;

use crate::api::NodeApi;
use crate::html::escape;

pub async fn home<S: NodeApi>(State(state): State<S>) -> Html<String> {
    let h = state.health().await;
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{org} · Skillmesh</title></head>
<body>
<main>
<h1>{org}</h1>
<p>This is {org}'s Skillmesh node.</p>
<dl>
<dt>Organisation key</dt><dd><code>{key}</code></dd>
<dt>Records this organisation publishes</dt><dd>{own}</dd>
<dt>Records held from partner organisations</dt><dd>{federated}</dd>
<dt>Connected peers</dt><dd>{peers}</dd>
</dl>
<p><a href="/healthz">Health (JSON)</a></p>
</main>
</body>
</html>
"#,
        org = escape(&h.org),
        key = escape(&h.org_key),
        own = h.own_records,
        federated = h.federated_records,
        peers = h.peers,
    ))
}
