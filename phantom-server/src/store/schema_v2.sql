-- Authorization model versions, in the order they were written. `body` is
-- OpenFGA's JSON form of the model.
CREATE TABLE models (
    id         TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
